/*
 * test_time.c - oneM2M timestamps (pz_time_parse / pz_time_format), the
 * duration subset (pz_duration_parse), the clocks, and base64 with the
 * RFC 4648 section 10 test vectors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_err.h"
#include "plaza/pz_time.h"

/* Microseconds of a UTC calendar time, computed with the C library. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000000;
}

static void expect_time(const char *s, int64_t want)
{
	int64_t t = -12345;
	int rc = pz_time_parse(s, &t);

	if (rc != PZ_OK)
		fail_msg("'%s' refused", s);
	if (t != want)
		fail_msg("'%s' -> %lld, want %lld", s, (long long)t,
			 (long long)want);
}

static void expect_bad_time(const char *s)
{
	int64_t t = -12345;

	if (pz_time_parse(s, &t) != PZ_EINVAL)
		fail_msg("'%s' accepted as %lld", s ? s : "(null)",
			 (long long)t);
	assert_int_equal(t, -12345);
}

static void test_parse_valid(void **state)
{
	(void)state;
	expect_time("19700101T000000", 0);
	expect_time("20240229T235959", utc(2024, 2, 29, 23, 59, 59));
	expect_time("20000229T000000", utc(2000, 2, 29, 0, 0, 0));
	expect_time("20231231T235959", utc(2023, 12, 31, 23, 59, 59));
	expect_time("20380119T031408", utc(2038, 1, 19, 3, 14, 8));
	expect_time("21000228T120000", utc(2100, 2, 28, 12, 0, 0));
	expect_time("99991230T235959", utc(9999, 12, 30, 23, 59, 59));
	/* Fractions: ',' or '.', up to microseconds, more digits cut. */
	expect_time("20240101T000000,5", utc(2024, 1, 1, 0, 0, 0) + 500000);
	expect_time("20240101T000000.123456",
		    utc(2024, 1, 1, 0, 0, 0) + 123456);
	expect_time("20240101T000000,1234567",
		    utc(2024, 1, 1, 0, 0, 0) + 123456);
	expect_time("20240101T000000,000001", utc(2024, 1, 1, 0, 0, 0) + 1);
	/* A trailing Z (UTC) changes nothing. */
	expect_time("20240101T000000Z", utc(2024, 1, 1, 0, 0, 0));
	expect_time("20240101T000000,25Z", utc(2024, 1, 1, 0, 0, 0) + 250000);
	/* A leap second maps onto the last second of the minute. */
	expect_time("20161231T235960", utc(2016, 12, 31, 23, 59, 59));
}

static void test_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"", "2024", "20240101", "20240101T", "20240101T00000",
		"20230229T000000",  /* not a leap year */
		"19000229T000000",  /* century, not a leap year */
		"20241301T000000",  /* month 13 */
		"20240001T000000",  /* month 0 */
		"20240100T000000",  /* day 0 */
		"20240132T000000", "20240431T000000", "20240631T000000",
		"20240931T000000", "20241131T000000",
		"20240101T240000", "20240101T006000", "20240101T000061",
		"2024-01-01T00:00:00", "20240101 000000", "20240101t000000",
		"20240101T000000,", "20240101T000000.", "20240101T000000,Z",
		"20240101T000000ZZ", "20240101T000000+0100", "20240101T000000 ",
		" 20240101T000000", "20240101T000000x", "2024010aT000000",
		"20240101T0000a0", "+2024101T000000", "-2024101T000000",
		"20240101T00:000",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad_time(bad[i]);
	expect_bad_time(NULL);
}

static void test_never(void **state)
{
	char out[PZ_TS_LEN];
	int64_t t = 0;

	(void)state;
	assert_int_equal(pz_time_parse("99991231T235959", &t), PZ_OK);
	assert_true(t == PZ_TIME_NEVER);
	assert_string_equal(pz_time_format(PZ_TIME_NEVER, out),
			    "99991231T235959");
	assert_ptr_equal(pz_time_format(PZ_TIME_NEVER, out), out);
	/* Anything at or past the last representable second is "never". */
	assert_string_equal(pz_time_format(utc(9999, 12, 31, 23, 59, 59),
					   out), "99991231T235959");
}

static void test_format(void **state)
{
	char out[PZ_TS_LEN];

	(void)state;
	assert_string_equal(pz_time_format(0, out), "19700101T000000");
	assert_string_equal(pz_time_format(utc(2024, 2, 29, 23, 59, 59) +
					   999999, out), "20240229T235959");
	assert_string_equal(pz_time_format(utc(2000, 1, 1, 0, 0, 1), out),
			    "20000101T000001");
	assert_string_equal(pz_time_format(utc(9999, 12, 30, 0, 0, 0), out),
			    "99991230T000000");
}

/* format(parse(s)) == s for whole seconds across the calendar. */
static void test_round_trip(void **state)
{
	(void)state;
	for (int64_t day = 0; day < 2932896; day += 997) {
		int64_t t = day * 86400 * 1000000 + (day % 86400) * 1000000, u;
		char out[PZ_TS_LEN];

		pz_time_format(t, out);
		assert_int_equal(pz_time_parse(out, &u), PZ_OK);
		if (u != t)
			fail_msg("%lld -> %s -> %lld", (long long)t, out,
				 (long long)u);
	}
}

/* A timestamp pz_time_parse accepts must survive parse -> format ->
 * parse, the years before 1970 included (or be refused by the parser). */
static void test_round_trip_pre_epoch(void **state)
{
	static const char *const ts[] = {
		"19691231T235959", "19000101T000000", "00000101T000000",
		"16000229T120000",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		char out[PZ_TS_LEN];
		int64_t t;

		if (pz_time_parse(ts[i], &t) != PZ_OK)
			continue;
		pz_time_format(t, out);
		if (strcmp(out, ts[i]))
			fail_msg("%s -> %lld -> %s", ts[i], (long long)t, out);
	}
}

static void test_clocks(void **state)
{
	int64_t a = pz_time_now(), m1 = pz_time_mono_ms(), m2;

	(void)state;
	/* After 2020, before 2200. */
	assert_true(a > utc(2020, 1, 1, 0, 0, 0));
	assert_true(a < utc(2200, 1, 1, 0, 0, 0));
	m2 = pz_time_mono_ms();
	assert_true(m2 >= m1);
}

static void expect_ms(const char *s, int64_t want)
{
	int64_t ms = -1;

	if (pz_duration_parse(s, &ms) != PZ_OK)
		fail_msg("'%s' refused", s);
	if (ms != want)
		fail_msg("'%s' -> %lld, want %lld", s, (long long)ms,
			 (long long)want);
}

static void expect_bad_duration(const char *s)
{
	int64_t ms = -12345;

	if (pz_duration_parse(s, &ms) != PZ_EINVAL)
		fail_msg("'%s' accepted as %lld", s ? s : "(null)",
			 (long long)ms);
	assert_int_equal(ms, -12345);
}

static void test_duration(void **state)
{
	(void)state;
	expect_ms("0", 0);
	expect_ms("1500", 1500);
	expect_ms("PT0S", 0);
	expect_ms("PT1S", 1000);
	expect_ms("PT1.5S", 1500);
	expect_ms("PT1,5S", 1500);
	expect_ms("PT0.001S", 1);
	expect_ms("PT2M", 120000);
	expect_ms("PT1H", 3600000);
	expect_ms("PT1H30M", 5400000);
	expect_ms("PT1H1M1.25S", 3661250);
	expect_ms("P1D", 86400000);
	expect_ms("P2W", 2 * 7 * 86400000LL);
	expect_ms("P1DT1H", 90000000);
	expect_ms("P1DT0.5S", 86400500);
	expect_ms("PT36H", 36 * 3600000LL);
	/* The ceiling: 100 years of 366 days is still accepted. */
	expect_ms("P36600D", 36600LL * 86400000);
	expect_ms("3162240000000", 3162240000000LL);
}

static void test_duration_invalid(void **state)
{
	static const char *const bad[] = {
		"", "P", "PT", "T1S", "1S", "-PT1S", "-1", "+1", " 1", "1 ",
		"1.5", "1x", "PT1", "PTS", "PT.S", "P1Y", "P1M", "PT1D",
		"P1H", "P1S", "PT1W", "P1D1", "pt1s",
		"P36601D",          /* over 100 years */
		"3162240000001", "99999999999999999999999", "PT1e3S",
		"P1DT1H ", "PT1H-1M",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad_duration(bad[i]);
	expect_bad_duration(NULL);
}

/* xs:duration: "the designator T must be absent if all of the time
 * items are absent" (XML Schema part 2, 3.2.6.1). */
static void test_duration_trailing_t(void **state)
{
	(void)state;
	expect_bad_duration("P1DT");
	expect_bad_duration("P2WT");
}

/* RFC 4648 section 10. */
static const char *const b64_vec[][2] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void test_b64_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(b64_vec) / sizeof(b64_vec[0]); i++) {
		const char *plain = b64_vec[i][0], *enc = b64_vec[i][1];
		char out[32], url[32], nopad[32];
		uint8_t dec[32];
		size_t n = strlen(plain);
		long m;

		assert_int_equal(pz_b64_encode((const uint8_t *)plain, n, out,
					       0), strlen(enc));
		assert_string_equal(out, enc);
		/* base64url leaves the padding off. */
		snprintf(nopad, sizeof(nopad), "%.*s",
			 (int)strcspn(enc, "="), enc);
		pz_b64_encode((const uint8_t *)plain, n, url, 1);
		assert_string_equal(url, nopad);
		/* Decoding takes padded and unpadded forms. */
		m = pz_b64_decode(enc, dec, sizeof(dec));
		assert_int_equal(m, (long)n);
		assert_memory_equal(dec, plain, n);
		m = pz_b64_decode(nopad, dec, sizeof(dec));
		assert_int_equal(m, (long)n);
		assert_memory_equal(dec, plain, n);
	}
}

static void test_b64_alphabets(void **state)
{
	const uint8_t bin[] = { 0xfb, 0xff, 0xbf, 0x00, 0x10, 0x83 };
	char std[16], url[16];
	uint8_t dec[16];

	(void)state;
	pz_b64_encode(bin, sizeof(bin), std, 0);
	pz_b64_encode(bin, sizeof(bin), url, 1);
	assert_string_equal(std, "+/+/ABCD");
	assert_string_equal(url, "-_-_ABCD");
	assert_int_equal(pz_b64_decode(std, dec, sizeof(dec)), 6);
	assert_memory_equal(dec, bin, 6);
	assert_int_equal(pz_b64_decode(url, dec, sizeof(dec)), 6);
	assert_memory_equal(dec, bin, 6);
	/* Every byte value survives. */
	{
		uint8_t all[256], back[256];
		char enc[4 * 86 + 1];

		for (int i = 0; i < 256; i++)
			all[i] = (uint8_t)i;
		for (int url_set = 0; url_set < 2; url_set++) {
			pz_b64_encode(all, sizeof(all), enc, url_set);
			assert_int_equal(pz_b64_decode(enc, back,
						       sizeof(back)), 256);
			assert_memory_equal(all, back, 256);
		}
	}
}

static void test_b64_invalid(void **state)
{
	static const char *const bad[] = {
		"Z", "Zm9vY", "Zm9v YmFy", "Zm9v\nYmFy", "Zm=v", "Zm9v!",
		"=Zm9", "Zg=a", "\xc3\xa9Zm9",
	};
	uint8_t dec[32];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pz_b64_decode(bad[i], dec, sizeof(dec)) != -1)
			fail_msg("'%s' decoded", bad[i]);
	/* The output bound is respected. */
	assert_int_equal(pz_b64_decode("Zm9vYmFy", dec, 6), 6);
	assert_int_equal(pz_b64_decode("Zm9vYmFy", dec, 5), -1);
	assert_int_equal(pz_b64_decode("Zm9vYg==", dec, 3), -1);
	assert_int_equal(pz_b64_decode("", dec, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_never),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_pre_epoch),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_duration_invalid),
		cmocka_unit_test(test_duration_trailing_t),
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64_alphabets),
		cmocka_unit_test(test_b64_invalid),
	};

	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	return cmocka_run_group_tests_name("time", tests, NULL, NULL);
}
