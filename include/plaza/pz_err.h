/*
 * pz_err.h - the one error convention of plaza.
 *
 * Every function that can fail returns a pz_err: PZ_OK (zero) on success, a
 * positive code otherwise.  Only the protocol bindings translate a pz_err into
 * an HTTP, CoAP or MQTT status; oneM2M result codes (rsc) travel in the
 * response primitive, never in this enum.
 */
#ifndef PZ_ERR_H
#define PZ_ERR_H

typedef enum pz_err {
	PZ_OK = 0,
	PZ_ENOMEM,     /* an allocation failed */
	PZ_EINVAL,     /* malformed or out-of-range argument or input */
	PZ_ETOOBIG,    /* input over a configured ceiling */
	PZ_ENOTFOUND,  /* no such object */
	PZ_EEXIST,     /* object already exists (unique key taken) */
	PZ_EIO,        /* operating-system I/O error (errno is logged) */
	PZ_ESTORE,     /* the storage backend failed */
	PZ_EAGAIN,     /* need more bytes / try again later */
	PZ_EPENDING,   /* accepted; the result arrives through a callback */
	PZ_EREQ,       /* request refused; rsc and reason are in the response */
	PZ_ECONFIG,    /* invalid configuration */
	PZ_EPERM,      /* not permitted */
	PZ_ESTATE,     /* called in the wrong state */
	PZ_ECORRUPT,   /* stored data fail verification (tampering, damage) */
	PZ_ERR_MAX_
} pz_err;

/*
 * pz_strerror - a short English name of an error code, never NULL.
 * Thread-safe; the string is static.
 */
const char *pz_strerror(int err);

#endif
