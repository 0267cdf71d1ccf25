/*
 * fs.c - file-system helpers (see pz_fs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plaza/pz_err.h"
#include "plaza/pz_fs.h"

int pz_fs_mkdir_p(const char *dir, mode_t mode)
{
	char p[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return PZ_EINVAL;
	memcpy(p, dir, n + 1);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return PZ_EIO;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return PZ_EIO;
	return PZ_OK;
}

int pz_fs_write_atomic(const char *path, const char *text, mode_t mode)
{
	char tmp[4096];
	size_t len = strlen(text);
	ssize_t n;
	int fd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return PZ_EIO;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return PZ_EIO;
	n = write(fd, text, len);
	if (n < 0 || (size_t)n != len || fsync(fd) < 0) {
		saved = n < 0 || (size_t)n == len ? errno : EIO;
		close(fd);
		unlink(tmp);
		errno = saved;
		return PZ_EIO;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return PZ_EIO;
	}
	return PZ_OK;
}
