/*
 * pzdev.h - plaza's reference constrained-device client: CoAP (RFC 7252)
 * with the oneM2M options of TS-0008, SenML CBOR packs (RFC 8428), and a
 * DTLS 1.2 PSK client (RFC 7925) on mbedTLS 2.28 over UDP, with
 * confirmable requests, retransmission and separate responses.
 *
 * Written for firmware: no heap is used by this code; every buffer is
 * bounded and either the caller's or inside struct pzdev, which the
 * caller allocates (statically, on the stack, anywhere).  mbedTLS itself
 * allocates its record buffers in pzdev_open (its calloc; see
 * docs/device.md for the sizes and how to bound them).  Nothing here
 * depends on plaza's libraries.
 *
 * Errors: every function that can fail returns a pzdev_err, PZDEV_OK (0)
 * on success, a positive code otherwise; pzdev_strerror names it.
 *
 * Threads: no global state; one struct pzdev is used by one thread at a
 * time.  The encoders and the parser are pure (no I/O).
 */
#ifndef PZDEV_H
#define PZDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ssl.h>
#include <mbedtls/timing.h>

enum pzdev_err {
	PZDEV_OK = 0,
	PZDEV_EINVAL,     /* bad argument or option order */
	PZDEV_ETOOBIG,    /* does not fit the buffer */
	PZDEV_EPARSE,     /* malformed message */
	PZDEV_ENET,       /* socket error (address, refused, unreachable) */
	PZDEV_ETLS,       /* DTLS failure (handshake refused, bad key) */
	PZDEV_ETIMEOUT,   /* no answer within the bound */
	PZDEV_ERESET,     /* the peer answered with a CoAP Reset */
	PZDEV_EAGAIN,     /* a parser needs more octets */
	PZDEV_EAUTN,      /* GBA: the challenge's AUTN does not verify */
	PZDEV_EAUTH       /* GBA: the BSF refused the device's answer */
};

/* pzdev_strerror - a short English name of err, never NULL. */
const char *pzdev_strerror(int err);

/* --- CoAP messages ------------------------------------------------------ */

enum { PZDEV_CON = 0, PZDEV_NON = 1, PZDEV_ACK = 2, PZDEV_RST = 3 };
enum { PZDEV_GET = 1, PZDEV_POST = 2, PZDEV_PUT = 3, PZDEV_DELETE = 4 };

/* The CoAP options a device needs: RFC 7252 and oneM2M TS-0008 (the same
 * numbers as plaza's include/plaza/pz_coap.h). */
enum {
	PZDEV_OPT_LOCATION_PATH = 8,
	PZDEV_OPT_URI_PATH = 11,
	PZDEV_OPT_CONTENT_FORMAT = 12,
	PZDEV_OPT_URI_QUERY = 15,
	PZDEV_OPT_ACCEPT = 17,
	PZDEV_OPT_TY = 267,       /* oneM2M resource type, uint */
	PZDEV_OPT_RVI = 271,      /* release version, string */
	PZDEV_OPT_FR = 279,       /* originator, string */
	PZDEV_OPT_RQI = 283,      /* request identifier, string */
	PZDEV_OPT_RSC = 307       /* response status code, uint */
};

enum {
	PZDEV_CF_JSON = 50,
	PZDEV_CF_CBOR = 60,
	PZDEV_CF_SENML_CBOR = 112,
	PZDEV_CF_RES_JSON = 10001
};

/* A code as class << 5 | detail: 2.01 is PZDEV_CODE(2, 1) = 0x41. */
#define PZDEV_CODE(c, d) ((uint8_t)(((c) << 5) | (d)))

#define PZDEV_TOKEN_MAX 8    /* RFC 7252 3 */
#define PZDEV_OPTS_MAX 24    /* options kept by pzdev_coap_parse */

/* One option of a parsed message; val points into the parsed buffer. */
struct pzdev_opt {
	uint16_t num;            /* option number */
	uint16_t len;            /* value length */
	const uint8_t *val;      /* value, borrowed from the buffer */
};

/* A parsed message; every pointer borrows the buffer given to parse. */
struct pzdev_msg {
	uint8_t type;            /* PZDEV_CON .. PZDEV_RST */
	uint8_t code;            /* 0 empty, 1..31 request, 64.. response */
	uint16_t mid;            /* message ID */
	uint8_t tkl;             /* token length */
	uint8_t token[PZDEV_TOKEN_MAX];  /* token */
	uint8_t nopts;           /* options kept in opts */
	struct pzdev_opt opts[PZDEV_OPTS_MAX];  /* in message order */
	const uint8_t *payload;  /* after 0xFF, NULL when none */
	size_t plen;             /* payload length */
};

/* A message being written into a caller buffer; options must be added in
 * ascending number order (equal numbers repeat the option). */
struct pzdev_wr {
	uint8_t *buf;            /* borrowed */
	size_t cap;              /* its size */
	size_t len;              /* octets written */
	uint16_t last;           /* number of the last option */
	int err;                 /* first error, sticky */
};

/*
 * pzdev_coap_begin - start a message of type and code with mid and the
 * tkl-octet token (tkl <= 8) in buf (cap octets, borrowed until the
 * message is sent).  Errors are sticky in w->err and returned by
 * pzdev_coap_end, so a message is built without checking every step.
 */
void pzdev_coap_begin(struct pzdev_wr *w, uint8_t *buf, size_t cap,
		      uint8_t type, uint8_t code, uint16_t mid,
		      const uint8_t *token, uint8_t tkl);

/* pzdev_coap_opt - add option num with len octets of val (borrowed for
 * the call).  PZDEV_EINVAL if num is below the last option's. */
void pzdev_coap_opt(struct pzdev_wr *w, uint16_t num, const void *val,
		    size_t len);

/* pzdev_coap_opt_str - option num with the NUL-terminated string s. */
void pzdev_coap_opt_str(struct pzdev_wr *w, uint16_t num, const char *s);

/* pzdev_coap_opt_uint - option num as a CoAP uint (shortest form). */
void pzdev_coap_opt_uint(struct pzdev_wr *w, uint16_t num, uint32_t v);

/* pzdev_coap_path - one Uri-Path option per '/'-separated segment of
 * path ("plaza/ae1/c"); empty segments are skipped. */
void pzdev_coap_path(struct pzdev_wr *w, const char *path);

/* pzdev_coap_payload - the payload marker and len octets of p; no option
 * may follow.  len 0 writes nothing. */
void pzdev_coap_payload(struct pzdev_wr *w, const void *p, size_t len);

/* pzdev_coap_end - the message's length into *len.  PZDEV_OK, or the
 * first error: PZDEV_ETOOBIG (buffer full), PZDEV_EINVAL. */
int pzdev_coap_end(struct pzdev_wr *w, size_t *len);

/*
 * pzdev_coap_parse - parse the len octets at buf into m (its pointers
 * borrow buf).  Options beyond PZDEV_OPTS_MAX are skipped, not kept.
 * PZDEV_OK; PZDEV_EPARSE (not CoAP version 1, bad token length, reserved
 * nibble 15, an option running past the end, a marker with no payload).
 */
int pzdev_coap_parse(const uint8_t *buf, size_t len, struct pzdev_msg *m);

/* pzdev_coap_find - the first option num of m, or NULL. */
const struct pzdev_opt *pzdev_coap_find(const struct pzdev_msg *m,
					uint16_t num);

/* pzdev_coap_uint - option o as a uint (0 when o is NULL or too long). */
uint32_t pzdev_coap_uint(const struct pzdev_opt *o);

/* --- SenML CBOR (RFC 8428 6, labels bn -2, n 0, u 1, v 2, t 6) --------- */

/* A pack being written; the record count is fixed at the start. */
struct pzdev_senml {
	uint8_t *buf;            /* borrowed */
	size_t cap;              /* its size */
	size_t len;              /* octets written */
	unsigned left;           /* records still to come */
	int err;                 /* first error, sticky */
};

/* pzdev_senml_begin - a pack of nrec records (1 to 65535) into buf. */
void pzdev_senml_begin(struct pzdev_senml *s, uint8_t *buf, size_t cap,
		       unsigned nrec);

/*
 * pzdev_senml_rec - one record: base name bn (NULL = none), name n
 * (NULL = none), unit u (NULL = none), value v, time t (seconds; 0 = none,
 * which SenML reads as "now").  Keys are written in the deterministic
 * order of RFC 8949 4.2.1 (n, u, v, t, bn), v as the shortest of half,
 * single or double that holds it exactly, t as an integer: the same octets
 * as Python's cbor2.dumps(..., canonical=True).
 */
void pzdev_senml_rec(struct pzdev_senml *s, const char *bn, const char *n,
		     const char *u, double v, int64_t t);

/* pzdev_senml_end - the pack's length into *len.  PZDEV_OK; PZDEV_EINVAL
 * (fewer or more records than announced); PZDEV_ETOOBIG. */
int pzdev_senml_end(struct pzdev_senml *s, size_t *len);

/* --- the DTLS-PSK client ------------------------------------------------ */

/* RFC 7252 4.8 transmission parameters. */
#define PZDEV_ACK_TIMEOUT_MS 2000
#define PZDEV_ACK_RANDOM_PCT 150   /* ACK_RANDOM_FACTOR 1.5 */
#define PZDEV_MAX_RETRANSMIT 4

/* The largest datagram sent or received (CoAP message, before DTLS). */
#ifndef PZDEV_MSG_MAX
#define PZDEV_MSG_MAX 1024
#endif

/* The PSK identity and key limits (RFC 4279 5.3: 128 and 64 octets). */
#define PZDEV_PSK_ID_MAX 128
#define PZDEV_PSK_MAX 64

/*
 * One device session.  Caller-allocated; fields are private.  Its size is
 * sizeof(struct pzdev), 3,688 octets on x86-64 with mbedTLS 2.28 and the
 * default PZDEV_MSG_MAX (bench/device.md): PZDEV_MSG_MAX octets of request
 * (kept for retransmission), PZDEV_MSG_MAX of answer, a few counters
 * (2,104 in all), and the mbedTLS contexts (1,584).  test_pzdev.c holds it
 * to at most 4 KiB.
 */
struct pzdev {
	bool ready;                   /* set up by pzdev_open (contexts
					 initialised); false when zeroed */
	int fd;                       /* the UDP socket, -1 when closed */
	uint16_t mid;                 /* next message ID */
	uint32_t tok;                 /* next token */
	int64_t deadline;             /* of the current blocking call, ms */
	int last_tls;                 /* last mbedTLS error, for messages */
	size_t txlen;                 /* octets of the request in tx */
	uint8_t tx[PZDEV_MSG_MAX];    /* the request, for retransmission */
	uint8_t rx[PZDEV_MSG_MAX];    /* the last datagram received */
	int ciphersuites[3];          /* CCM_8, GCM-SHA256, 0 */
	struct pzdev_tls {            /* mbedTLS state (not our code) */
		mbedtls_ssl_context ssl;
		mbedtls_ssl_config conf;
		mbedtls_ctr_drbg_context drbg;
		mbedtls_timing_delay_context timer;
	} tls;
};

/*
 * pzdev_open - resolve host (numeric IPv4 or IPv6) and port, and run the
 * DTLS 1.2 handshake with the PSK identity id (id_len octets) and key
 * (key_len octets), both copied.  Cipher suites offered:
 * TLS_PSK_WITH_AES_128_CCM_8, then TLS_PSK_WITH_AES_128_GCM_SHA256.
 * Gives up after timeout_ms (the handshake retransmits from 1 s, doubling).
 * d is overwritten; after any return pzdev_close(d) is safe.
 * PZDEV_OK; PZDEV_EINVAL; PZDEV_ENET (socket, address, ICMP unreachable);
 * PZDEV_ETLS (handshake failed: wrong key or identity, no common suite);
 * PZDEV_ETIMEOUT.
 */
int pzdev_open(struct pzdev *d, const char *host, uint16_t port,
	       const uint8_t *id, size_t id_len, const uint8_t *key,
	       size_t key_len, unsigned timeout_ms);

/*
 * pzdev_req_begin - start a confirmable request with code in d's request
 * buffer (a fresh message ID and 4-octet token) and return its writer;
 * add options and payload with the pzdev_coap_* writers, then call
 * pzdev_request.
 */
struct pzdev_wr *pzdev_req_begin(struct pzdev *d, struct pzdev_wr *w,
				 uint8_t code);

/*
 * pzdev_request - send the request built in w (from pzdev_req_begin),
 * retransmitting it per RFC 7252 4.2 (ACK_TIMEOUT 2 s with the random
 * factor, doubling, MAX_RETRANSMIT 4) until acknowledged, and wait for
 * its answer: piggybacked on the ACK, or a separate response after an
 * empty ACK (a confirmable one is acknowledged).  The answer is parsed
 * into rsp, which borrows d's receive buffer until the next call.
 * Returns within timeout_ms.
 * PZDEV_OK; PZDEV_ETOOBIG/EINVAL (w's error, or an answer longer than
 * PZDEV_MSG_MAX, which is dropped); PZDEV_ETIMEOUT (no ACK after
 * the last retransmission, or no answer in time); PZDEV_ERESET;
 * PZDEV_ETLS (the session failed or the peer closed it); PZDEV_ENET.
 */
int pzdev_request(struct pzdev *d, struct pzdev_wr *w,
		  struct pzdev_msg *rsp, unsigned timeout_ms);

/* pzdev_tls_error - the last mbedTLS error code of d (negative), 0 if
 * none; for diagnostics. */
int pzdev_tls_error(const struct pzdev *d);

/* pzdev_close - send close_notify, free mbedTLS's state, close the
 * socket, wipe the key material.  Accepts NULL and a closed d. */
void pzdev_close(struct pzdev *d);

#endif
