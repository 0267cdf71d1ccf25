/*
 * err.c - names of pz_err codes.
 */
#include "plaza/pz_err.h"

static const char *const err_names[PZ_ERR_MAX_] = {
	[PZ_OK] = "success",
	[PZ_ENOMEM] = "out of memory",
	[PZ_EINVAL] = "invalid argument or input",
	[PZ_ETOOBIG] = "input too large",
	[PZ_ENOTFOUND] = "not found",
	[PZ_EEXIST] = "already exists",
	[PZ_EIO] = "I/O error",
	[PZ_ESTORE] = "storage error",
	[PZ_EAGAIN] = "try again",
	[PZ_EPENDING] = "pending",
	[PZ_EREQ] = "request refused",
	[PZ_ECONFIG] = "invalid configuration",
	[PZ_EPERM] = "not permitted",
	[PZ_ESTATE] = "wrong state",
	[PZ_ECORRUPT] = "stored data fail verification",
};

const char *pz_strerror(int err)
{
	if (err < 0 || err >= PZ_ERR_MAX_ || !err_names[err])
		return "unknown error";
	return err_names[err];
}
