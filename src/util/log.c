/*
 * log.c - log line formatting and output (see pz_log.h).
 *
 * One line per call: "2026-11-24T22:14:41.123Z INFO  http: text".  Output is
 * unbuffered per line so a crash loses nothing already logged.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "plaza/pz_err.h"
#include "plaza/pz_log.h"

int pz_log_level_ = PZ_LOG_INFO;
static FILE *log_file;  /* NULL means stderr */

static const char *const log_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

int pz_log_open(const char *path)
{
	FILE *f;

	if (!path || !strcmp(path, "-")) {
		pz_log_close();
		return PZ_OK;
	}
	f = fopen(path, "a");
	if (!f)
		return PZ_EIO;
	setvbuf(f, NULL, _IOLBF, 0);
	pz_log_close();
	log_file = f;
	return PZ_OK;
}

void pz_log_close(void)
{
	if (log_file)
		fclose(log_file);
	log_file = NULL;
}

int pz_log_set_level(const char *name)
{
	static const char *const lower[] = { "error", "warn", "info", "debug" };
	int i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(name, lower[i])) {
			pz_log_level_ = i;
			return PZ_OK;
		}
	}
	return PZ_EINVAL;
}

void pz_log_write(int lvl, const char *sub, const char *fmt, ...)
{
	FILE *f = log_file ? log_file : stderr;
	char line[2048], ts[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ %-5s %s: ", ts,
		     (long)(tv.tv_usec / 1000),
		     log_names[lvl < 0 ? 0 : lvl > 3 ? 3 : lvl], sub);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One record per line, and nothing from the wire can forge another
	 * line or drive a terminal: control characters become '?'. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fprintf(f, "%s\n", line);
	if (f == stderr)
		fflush(f);
}
