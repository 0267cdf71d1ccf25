/*
 * time_fuzz.c - libFuzzer target for the timestamp and duration parsers
 * (pz_time_parse, pz_time_format, pz_duration_parse).
 *
 * The input (up to its first NUL) is parsed as a timestamp and as a
 * duration.  An accepted timestamp must agree with the C library's
 * timegm() on the same calendar fields and survive parse -> format ->
 * parse to the second.  An accepted duration must be within 0..100 years
 * and survive being written back as "PTs.mmmS" and as plain milliseconds.
 * The first 8 bytes, read as a time, must format into something that
 * parses back to the same second (for years 0000 to 9999).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plaza/pz_err.h"
#include "plaza/pz_time.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0000-01-01T00:00:00 and the last second before "never". */
#define FZ_YEAR0 (-62167219200LL * 1000000)
#define FZ_MAX_MS (100LL * 366 * 86400 * 1000)

static int64_t fz_floor_sec(int64_t t)
{
	int64_t s = t / 1000000;

	if (t % 1000000 < 0)
		s--;
	return s;
}

static int fz_num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* The same timestamp through the C library. */
static int64_t fz_timegm(const char *s)
{
	struct tm tm = { 0 };
	int sec = fz_num(s + 13, 2);

	tm.tm_year = fz_num(s, 4) - 1900;
	tm.tm_mon = fz_num(s + 4, 2) - 1;
	tm.tm_mday = fz_num(s + 6, 2);
	tm.tm_hour = fz_num(s + 9, 2);
	tm.tm_min = fz_num(s + 11, 2);
	tm.tm_sec = sec == 60 ? 59 : sec;
	return (int64_t)timegm(&tm);
}

static void fz_timestamp(const char *s)
{
	char out[PZ_TS_LEN];
	int64_t t, u;

	if (pz_time_parse(s, &t) != PZ_OK)
		return;
	FZ_CHECK(strlen(s) >= 15);
	for (int i = 0; i < 15; i++)
		FZ_CHECK(i == 8 ? s[i] == 'T' : isdigit((unsigned char)s[i]));
	if (t == PZ_TIME_NEVER) {
		FZ_CHECK(!strncmp(s, "99991231T", 9));
	} else {
		FZ_CHECK(t >= FZ_YEAR0);
		FZ_CHECK(fz_floor_sec(t) == fz_timegm(s));
	}
	pz_time_format(t, out);
	FZ_CHECK(strlen(out) == 15);
	if (pz_time_parse(out, &u) != PZ_OK) {
		fprintf(stderr, "'%s' -> %lld -> '%s' does not parse\n", s,
			(long long)t, out);
		abort();
	}
	if (t == PZ_TIME_NEVER ? u != PZ_TIME_NEVER :
	    u != fz_floor_sec(t) * 1000000) {
		fprintf(stderr, "'%s' -> %lld -> '%s' -> %lld\n", s,
			(long long)t, out, (long long)u);
		abort();
	}
}

static void fz_duration(const char *s)
{
	char back[64];
	int64_t ms, again;

	if (pz_duration_parse(s, &ms) != PZ_OK)
		return;
	FZ_CHECK(ms >= 0 && ms <= FZ_MAX_MS);
	snprintf(back, sizeof(back), "PT%lld.%03lldS", (long long)(ms / 1000),
		 (long long)(ms % 1000));
	FZ_CHECK(pz_duration_parse(back, &again) == PZ_OK);
	FZ_CHECK(again == ms);
	snprintf(back, sizeof(back), "%lld", (long long)ms);
	FZ_CHECK(pz_duration_parse(back, &again) == PZ_OK);
	FZ_CHECK(again == ms);
}

static void fz_format(int64_t t)
{
	char out[PZ_TS_LEN];
	int64_t u;

	if (t < FZ_YEAR0)
		return;
	pz_time_format(t, out);
	FZ_CHECK(strlen(out) == 15);
	FZ_CHECK(pz_time_parse(out, &u) == PZ_OK);
	/* Every time of 9999-12-31 reads back as "never". */
	if (u == PZ_TIME_NEVER)
		FZ_CHECK(t >= 253402214400LL * 1000000);
	else if (u != fz_floor_sec(t) * 1000000) {
		fprintf(stderr, "%lld -> '%s' -> %lld\n", (long long)t, out,
			(long long)u);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int64_t t;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	fz_timestamp(s);
	fz_duration(s);
	free(s);
	if (size >= 8) {
		memcpy(&t, data, sizeof(t));
		fz_format(t);
	}
	return 0;
}
