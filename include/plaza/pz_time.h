/*
 * pz_time.h - clocks and oneM2M timestamps.
 *
 * Times inside plaza are int64 microseconds since the Unix epoch (UTC).  On
 * the wire they are oneM2M basic-format timestamps "YYYYMMDDTHHMMSS" with an
 * optional fraction ",ffffff" (a '.' is accepted too, as is a trailing 'Z').
 */
#ifndef PZ_TIME_H
#define PZ_TIME_H

#include <stddef.h>
#include <stdint.h>

#define PZ_TS_LEN 32       /* buffer size for a formatted timestamp */
#define PZ_TIME_NEVER INT64_MAX  /* "does not expire" */

/* pz_time_now - wall clock, microseconds since the epoch. */
int64_t pz_time_now(void);

/* pz_time_mono_ms - monotonic clock in milliseconds, for timers. */
int64_t pz_time_mono_ms(void);

/*
 * pz_time_format - write t as "YYYYMMDDTHHMMSS" into out (PZ_TS_LEN bytes).
 * PZ_TIME_NEVER is written as "99991231T235959".  Returns out.
 */
char *pz_time_format(int64_t t, char out[PZ_TS_LEN]);

/*
 * pz_time_parse - parse a oneM2M timestamp.  Returns PZ_OK and sets *t, or
 * PZ_EINVAL for anything that is not a valid calendar time.
 */
int pz_time_parse(const char *s, int64_t *t);

/*
 * pz_duration_parse - parse an xs:duration subset ("PnDTnHnMnS", fractions
 * of seconds allowed) or a plain integer of milliseconds.  Sets *ms.
 * PZ_EINVAL when malformed, negative or over 100 years.
 */
int pz_duration_parse(const char *s, int64_t *ms);

#endif
