/*
 * time.c - clocks and oneM2M timestamp conversion (see pz_time.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "plaza/pz_err.h"
#include "plaza/pz_time.h"

int64_t pz_time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t pz_time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Civil date from days since 1970-01-01 (proleptic Gregorian). */
static void time_civil(int64_t days, int *y, int *m, int *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *time_put(char *p, int v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/* Formatting runs several times per request; this avoids gmtime_r and
 * printf, which cost far more than the arithmetic. */
char *pz_time_format(int64_t t, char out[PZ_TS_LEN])
{
	int64_t sec, days, rem;
	int y, m, d;
	char *p = out;

	if (t == PZ_TIME_NEVER || t >= (int64_t)253402300799 * 1000000) {
		strcpy(out, "99991231T235959");
		return out;
	}
	if (t < (int64_t)-62167219200 * 1000000)   /* before 0000-01-01 */
		t = (int64_t)-62167219200 * 1000000;
	sec = t / 1000000 - (t % 1000000 < 0);     /* floor */
	days = sec / 86400 - (sec % 86400 < 0);
	rem = sec - days * 86400;
	time_civil(days, &y, &m, &d);
	p = time_put(p, y, 4);
	p = time_put(p, m, 2);
	p = time_put(p, d, 2);
	*p++ = 'T';
	p = time_put(p, (int)(rem / 3600), 2);
	p = time_put(p, (int)(rem / 60 % 60), 2);
	p = time_put(p, (int)(rem % 60), 2);
	*p = '\0';
	return out;
}

static int time_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return PZ_EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return PZ_OK;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t time_days(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int pz_time_parse(const char *s, int64_t *t)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
				     30, 31 };
	int y, mo, d, h, mi, se, leap;
	int64_t frac = 0, scale = 100000;
	const char *p;

	if (!s || strlen(s) < 15 || s[8] != 'T')
		return PZ_EINVAL;
	if (time_digits(s, 4, &y) || time_digits(s + 4, 2, &mo) ||
	    time_digits(s + 6, 2, &d) || time_digits(s + 9, 2, &h) ||
	    time_digits(s + 11, 2, &mi) || time_digits(s + 13, 2, &se))
		return PZ_EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || se > 60)
		return PZ_EINVAL;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return PZ_EINVAL;
	if (se == 60)
		se = 59;  /* a leap second maps onto the last second */
	p = s + 15;
	if (*p == ',' || *p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return PZ_EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z')
		p++;
	if (*p)
		return PZ_EINVAL;
	if (y == 9999 && mo == 12 && d == 31) {
		*t = PZ_TIME_NEVER;
		return PZ_OK;
	}
	*t = ((time_days(y, mo, d) * 86400) + h * 3600 + mi * 60 + se) *
		     (int64_t)1000000 + frac;
	return PZ_OK;
}

/* Parse "<digits>[.<digits>]" then the designator letter. */
static int dur_part(const char **pp, double *v, char *unit)
{
	const char *p = *pp;
	double val = 0, scale = 0.1;
	int any = 0;

	while (isdigit((unsigned char)*p)) {
		val = val * 10 + (*p++ - '0');
		any = 1;
		if (val > 1e12)
			return PZ_EINVAL;
	}
	if (*p == '.' || *p == ',') {
		p++;
		while (isdigit((unsigned char)*p)) {
			val += (*p++ - '0') * scale;
			scale /= 10;
			any = 1;
		}
	}
	if (!any || !*p)
		return PZ_EINVAL;
	*unit = *p++;
	*v = val;
	*pp = p;
	return PZ_OK;
}

int pz_duration_parse(const char *s, int64_t *ms)
{
	const double limit = 100.0 * 366 * 86400 * 1000;
	double total = 0, v;
	int in_time = 0, any = 0;
	const char *p = s;
	char unit;

	if (!s || !*s)
		return PZ_EINVAL;
	if (isdigit((unsigned char)*s)) {
		for (p = s; isdigit((unsigned char)*p); p++) {
			total = total * 10 + (*p - '0');
			if (total > limit)
				return PZ_EINVAL;
		}
		if (*p)
			return PZ_EINVAL;
		*ms = (int64_t)total;
		return PZ_OK;
	}
	if (*p++ != 'P')
		return PZ_EINVAL;
	while (*p) {
		if (*p == 'T' && !in_time) {
			in_time = 1;
			p++;
			if (!*p)
				return PZ_EINVAL;  /* "P1DT": T needs a time */
			continue;
		}
		if (dur_part(&p, &v, &unit))
			return PZ_EINVAL;
		any = 1;
		if (!in_time && unit == 'D')
			total += v * 86400000.0;
		else if (!in_time && unit == 'W')
			total += v * 7 * 86400000.0;
		else if (in_time && unit == 'H')
			total += v * 3600000.0;
		else if (in_time && unit == 'M')
			total += v * 60000.0;
		else if (in_time && unit == 'S')
			total += v * 1000.0;
		else
			return PZ_EINVAL;
		if (total > limit)
			return PZ_EINVAL;
	}
	if (!any)
		return PZ_EINVAL;
	*ms = (int64_t)(total + 0.5);
	return PZ_OK;
}
