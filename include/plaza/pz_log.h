/*
 * pz_log.h - the one logging macro.
 *
 * pz_log(LEVEL, "subsystem", fmt, ...) checks the level before any argument
 * is formatted.  Debug lines compile away unless PZ_LOG_DEBUG is defined.
 * Lines never carry secrets: callers log identities, never keys or tokens.
 */
#ifndef PZ_LOG_H
#define PZ_LOG_H

#include <stdio.h>

enum pz_log_level {
	PZ_LOG_ERROR = 0,
	PZ_LOG_WARN,
	PZ_LOG_INFO,
	PZ_LOG_DEBUG
};

extern int pz_log_level_;

#define PZ_ERROR PZ_LOG_ERROR
#define PZ_WARN  PZ_LOG_WARN
#define PZ_INFO  PZ_LOG_INFO
#define PZ_DEBUG PZ_LOG_DEBUG

#ifdef PZ_LOG_DEBUG
#define PZ_LOG_MAX PZ_LOG_DEBUG
#else
#define PZ_LOG_MAX PZ_LOG_INFO
#endif

#define pz_log(lvl, sub, ...)                                         \
	do {                                                          \
		if ((lvl) <= PZ_LOG_MAX && (lvl) <= pz_log_level_)    \
			pz_log_write((lvl), (sub), __VA_ARGS__);      \
	} while (0)

/* pz_log_write - format and write one line; use the macro instead. */
void pz_log_write(int lvl, const char *sub, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * pz_log_open - direct log lines to path (appending), or to stderr when path
 * is NULL or "-".  Returns PZ_OK or PZ_EIO.
 */
int pz_log_open(const char *path);

/* pz_log_set_level - set the level by name ("error", "warn", "info",
 * "debug"); PZ_EINVAL for an unknown name. */
int pz_log_set_level(const char *name);

/* pz_log_close - close the log file opened by pz_log_open, if any. */
void pz_log_close(void);

#endif
