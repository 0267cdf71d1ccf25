/*
 * pz_fs.h - small file-system helpers shared by plazad and plaza.
 */
#ifndef PZ_FS_H
#define PZ_FS_H

#include <sys/types.h>

/* pz_fs_mkdir_p - create dir and missing parents with mode.  PZ_OK (also
 * when it exists), PZ_EINVAL (empty or too long), PZ_EIO (errno set). */
int pz_fs_mkdir_p(const char *dir, mode_t mode);

/* pz_fs_write_atomic - write text to path through a temporary file that
 * is fsynced and renamed over path, so readers see the old or the new
 * content, never a part.  PZ_OK or PZ_EIO (errno set). */
int pz_fs_write_atomic(const char *path, const char *text, mode_t mode);

#endif
