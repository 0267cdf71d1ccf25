/*
 * pzdev.c - plaza's reference constrained-device client (see pzdev.h):
 * the CoAP writer and parser, the SenML CBOR writer, and the DTLS-PSK
 * client with RFC 7252 reliability on mbedTLS.
 *
 * No heap: every buffer is the caller's or inside struct pzdev.  The
 * only OS interfaces used are a UDP socket (socket, connect, send, recv,
 * poll), a monotonic clock and getrandom; a port replaces dv_now,
 * dv_send, dv_recv and dv_entropy (docs/device.md).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <mbedtls/net_sockets.h>
#include <mbedtls/platform_util.h>

#include "pzdev.h"

const char *pzdev_strerror(int err)
{
	static const char *const names[] = {
		"ok", "invalid argument", "too big for the buffer",
		"malformed message", "network error", "DTLS failure",
		"timed out", "reset by the peer", "incomplete message",
		"AUTN does not verify", "authentication refused"
	};

	if (err < 0 || (size_t)err >= sizeof(names) / sizeof(names[0]))
		return "unknown error";
	return names[err];
}

/* --- CoAP writer --------------------------------------------------------- */

static void wr_put(struct pzdev_wr *w, const void *p, size_t len)
{
	if (w->err)
		return;
	if (len > w->cap - w->len) {
		w->err = PZDEV_ETOOBIG;
		return;
	}
	if (len)
		memcpy(w->buf + w->len, p, len);
	w->len += len;
}

void pzdev_coap_begin(struct pzdev_wr *w, uint8_t *buf, size_t cap,
		      uint8_t type, uint8_t code, uint16_t mid,
		      const uint8_t *token, uint8_t tkl)
{
	uint8_t h[4];

	w->buf = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->last = 0;
	w->err = PZDEV_OK;
	if (type > 3 || tkl > PZDEV_TOKEN_MAX || (tkl && !token)) {
		w->err = PZDEV_EINVAL;
		return;
	}
	h[0] = (uint8_t)(0x40 | type << 4 | tkl);
	h[1] = code;
	h[2] = (uint8_t)(mid >> 8);
	h[3] = (uint8_t)mid;
	wr_put(w, h, 4);
	wr_put(w, token, tkl);
}

/* A delta or length as its nibble and 0-2 extension octets into ext. */
static uint8_t nibble(size_t v, uint8_t *ext, size_t *next)
{
	if (v < 13) {
		*next = 0;
		return (uint8_t)v;
	}
	if (v < 269) {
		ext[0] = (uint8_t)(v - 13);
		*next = 1;
		return 13;
	}
	ext[0] = (uint8_t)((v - 269) >> 8);
	ext[1] = (uint8_t)(v - 269);
	*next = 2;
	return 14;
}

void pzdev_coap_opt(struct pzdev_wr *w, uint16_t num, const void *val,
		    size_t len)
{
	uint8_t h[5];
	size_t dl, ll;

	if (!w->err && (num < w->last || len > 65535 + 269 ||
			(len && !val)))
		w->err = PZDEV_EINVAL;
	if (w->err)
		return;
	h[0] = (uint8_t)(nibble(num - w->last, h + 1, &dl) << 4);
	h[0] |= nibble(len, h + 1 + dl, &ll);
	wr_put(w, h, 1 + dl + ll);
	wr_put(w, val, len);
	w->last = num;
}

void pzdev_coap_opt_str(struct pzdev_wr *w, uint16_t num, const char *s)
{
	pzdev_coap_opt(w, num, s, s ? strlen(s) : 0);
}

void pzdev_coap_opt_uint(struct pzdev_wr *w, uint16_t num, uint32_t v)
{
	uint8_t b[4];
	size_t n = 0;

	for (int shift = 24; shift >= 0; shift -= 8)
		if (n || (v >> shift) & 0xff)
			b[n++] = (uint8_t)(v >> shift);
	pzdev_coap_opt(w, num, b, n);
}

void pzdev_coap_path(struct pzdev_wr *w, const char *path)
{
	const char *p = path;

	while (p && *p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n)
			pzdev_coap_opt(w, PZDEV_OPT_URI_PATH, p, n);
		p = e ? e + 1 : NULL;
	}
}

void pzdev_coap_payload(struct pzdev_wr *w, const void *p, size_t len)
{
	static const uint8_t marker = 0xff;

	if (!len)
		return;
	wr_put(w, &marker, 1);
	wr_put(w, p, len);
	w->last = 0xffff;   /* no option may follow */
}

int pzdev_coap_end(struct pzdev_wr *w, size_t *len)
{
	if (!w->err && len)
		*len = w->len;
	return w->err;
}

/* --- CoAP parser ---------------------------------------------------------- */

/* Resolve a delta or length nibble n; *i advances over its extension. */
static int ext_val(uint8_t n, const uint8_t *b, size_t len, size_t *i,
		   uint32_t *out)
{
	if (n < 13) {
		*out = n;
	} else if (n == 13 && *i < len) {
		*out = 13u + b[(*i)++];
	} else if (n == 14 && len - *i >= 2) {
		*out = 269u + ((uint32_t)b[*i] << 8 | b[*i + 1]);
		*i += 2;
	} else {
		return PZDEV_EPARSE;
	}
	return PZDEV_OK;
}

int pzdev_coap_parse(const uint8_t *buf, size_t len, struct pzdev_msg *m)
{
	size_t i;
	uint32_t num = 0;

	memset(m, 0, sizeof(*m));
	if (!buf || len < 4 || buf[0] >> 6 != 1 || (buf[0] & 0x0f) > 8)
		return PZDEV_EPARSE;
	m->type = buf[0] >> 4 & 3;
	m->tkl = buf[0] & 0x0f;
	m->code = buf[1];
	m->mid = (uint16_t)(buf[2] << 8 | buf[3]);
	if (len < 4u + m->tkl)
		return PZDEV_EPARSE;
	memcpy(m->token, buf + 4, m->tkl);
	i = 4u + m->tkl;
	while (i < len && buf[i] != 0xff) {
		uint32_t d, l;
		uint8_t h = buf[i++];

		if (ext_val(h >> 4, buf, len, &i, &d) ||
		    ext_val(h & 0x0f, buf, len, &i, &l) || l > len - i)
			return PZDEV_EPARSE;
		num += d;
		if (num > 0xffff)
			return PZDEV_EPARSE;
		if (m->nopts < PZDEV_OPTS_MAX)
			m->opts[m->nopts++] = (struct pzdev_opt){
				(uint16_t)num, (uint16_t)l, buf + i };
		i += l;
	}
	if (i < len) {            /* the marker: a payload must follow */
		if (++i == len)
			return PZDEV_EPARSE;
		m->payload = buf + i;
		m->plen = len - i;
	}
	return PZDEV_OK;
}

const struct pzdev_opt *pzdev_coap_find(const struct pzdev_msg *m,
					uint16_t num)
{
	for (unsigned i = 0; i < m->nopts; i++)
		if (m->opts[i].num == num)
			return &m->opts[i];
	return NULL;
}

uint32_t pzdev_coap_uint(const struct pzdev_opt *o)
{
	uint32_t v = 0;

	if (!o || o->len > 4)
		return 0;
	for (unsigned i = 0; i < o->len; i++)
		v = v << 8 | o->val[i];
	return v;
}

/* --- SenML CBOR ------------------------------------------------------------ */

static void sm_put(struct pzdev_senml *s, const void *p, size_t len)
{
	if (s->err)
		return;
	if (len > s->cap - s->len) {
		s->err = PZDEV_ETOOBIG;
		return;
	}
	memcpy(s->buf + s->len, p, len);
	s->len += len;
}

/* A CBOR head: major type mt and argument v in the shortest form. */
static void sm_head(struct pzdev_senml *s, uint8_t mt, uint64_t v)
{
	uint8_t h[9];
	size_t n;

	if (v < 24) {
		h[0] = (uint8_t)(mt << 5 | v);
		n = 1;
	} else {
		unsigned w = v <= 0xff ? 1 : v <= 0xffff ? 2 :
			     v <= 0xffffffffu ? 4 : 8;

		h[0] = (uint8_t)(mt << 5 | (w == 1 ? 24 : w == 2 ? 25 :
					    w == 4 ? 26 : 27));
		for (unsigned k = 0; k < w; k++)
			h[1 + k] = (uint8_t)(v >> 8 * (w - 1 - k));
		n = 1 + w;
	}
	sm_put(s, h, n);
}

static void sm_int(struct pzdev_senml *s, int64_t v)
{
	if (v >= 0)
		sm_head(s, 0, (uint64_t)v);
	else
		sm_head(s, 1, (uint64_t)(-1 - v));
}

static void sm_text(struct pzdev_senml *s, const char *t)
{
	size_t n = strlen(t);

	sm_head(s, 3, n);
	sm_put(s, t, n);
}

/* f as an IEEE half into *h if that holds it exactly: 1, else 0. */
static int half_of(float f, uint16_t *h)
{
	uint32_t b, mant;
	int e;
	uint16_t sign;

	memcpy(&b, &f, 4);
	sign = (uint16_t)(b >> 16 & 0x8000);
	e = (int)(b >> 23 & 0xff);
	mant = b & 0x7fffff;
	if (e == 0xff || (e == 0 && mant == 0)) {   /* inf, zero */
		*h = (uint16_t)(sign | (e ? 0x7c00 : 0));
		return !mant;
	}
	if (e == 0)
		return 0;                 /* single subnormals: below a half */
	e -= 127;
	if (e > 15 || e < -24)
		return 0;
	if (e >= -14) {               /* normal half: 10 fraction bits */
		if (mant & 0x1fff)
			return 0;
		*h = (uint16_t)(sign | (e + 15) << 10 | mant >> 13);
		return 1;
	}
	mant |= 0x800000;             /* subnormal half: mant * 2^(e+1) */
	if (mant & ((1u << (-e - 1)) - 1))
		return 0;
	*h = (uint16_t)(sign | mant >> (-e - 1));
	return 1;
}

/* v as the shortest of half, single and double that holds it exactly. */
static void sm_float(struct pzdev_senml *s, double v)
{
	uint8_t b[9];
	float f = (float)v;
	uint16_t h;
	uint64_t u;
	uint32_t u32;

	if (v != v) {
		b[0] = 0xf9, b[1] = 0x7e, b[2] = 0;    /* the canonical NaN */
		sm_put(s, b, 3);
	} else if ((double)f == v && half_of(f, &h)) {
		b[0] = 0xf9, b[1] = (uint8_t)(h >> 8), b[2] = (uint8_t)h;
		sm_put(s, b, 3);
	} else if ((double)f == v) {
		memcpy(&u32, &f, 4);
		b[0] = 0xfa;
		for (int k = 0; k < 4; k++)
			b[1 + k] = (uint8_t)(u32 >> 8 * (3 - k));
		sm_put(s, b, 5);
	} else {
		memcpy(&u, &v, 8);
		b[0] = 0xfb;
		for (int k = 0; k < 8; k++)
			b[1 + k] = (uint8_t)(u >> 8 * (7 - k));
		sm_put(s, b, 9);
	}
}

void pzdev_senml_begin(struct pzdev_senml *s, uint8_t *buf, size_t cap,
		       unsigned nrec)
{
	s->buf = buf;
	s->cap = buf ? cap : 0;
	s->len = 0;
	s->left = nrec;
	s->err = nrec && nrec <= 65535 ? PZDEV_OK : PZDEV_EINVAL;
	sm_head(s, 4, nrec);
}

void pzdev_senml_rec(struct pzdev_senml *s, const char *bn, const char *n,
		     const char *u, double v, int64_t t)
{
	if (!s->err && !s->left)
		s->err = PZDEV_EINVAL;
	if (s->err)
		return;
	s->left--;
	/* Keys in RFC 8949 4.2.1 order of their encodings: 0x00 n, 0x01 u,
	 * 0x02 v, 0x06 t, 0x21 bn. */
	sm_head(s, 5, 1u + !!n + !!u + !!t + !!bn);
	if (n) {
		sm_int(s, 0);
		sm_text(s, n);
	}
	if (u) {
		sm_int(s, 1);
		sm_text(s, u);
	}
	sm_int(s, 2);
	sm_float(s, v);
	if (t) {
		sm_int(s, 6);
		sm_int(s, t);
	}
	if (bn) {
		sm_int(s, -2);
		sm_text(s, bn);
	}
}

int pzdev_senml_end(struct pzdev_senml *s, size_t *len)
{
	if (!s->err && s->left)
		s->err = PZDEV_EINVAL;
	if (!s->err && len)
		*len = s->len;
	return s->err;
}

/* --- the transport: UDP, a monotonic clock ------------------------------- */

static int64_t dv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dv_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct pzdev *d = ctx;
	ssize_t n = send(d->fd, buf, len, 0);

	if (n >= 0)
		return (int)n;
	if (errno == EINTR || errno == EAGAIN)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

/*
 * mbedTLS's receive with a timeout (ms, 0 = none), capped by d->deadline:
 * at the deadline it returns WANT_READ, which mbedTLS hands back to our
 * caller instead of retransmitting.
 */
static int dv_recv(void *ctx, unsigned char *buf, size_t len,
		   uint32_t timeout)
{
	struct pzdev *d = ctx;
	int64_t left = d->deadline - dv_now();
	struct pollfd p = { .fd = d->fd, .events = POLLIN };
	int wait, rc;
	ssize_t n;

	if (left <= 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	wait = timeout && timeout < left ? (int)timeout : (int)left;
	rc = poll(&p, 1, wait);
	if (rc < 0)
		return errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ
				      : MBEDTLS_ERR_NET_RECV_FAILED;
	if (rc == 0)
		return wait == (int)timeout ? MBEDTLS_ERR_SSL_TIMEOUT
					    : MBEDTLS_ERR_SSL_WANT_READ;
	n = recv(d->fd, buf, len, 0);
	if (n >= 0)
		return (int)n;
	if (errno == EINTR || errno == EAGAIN)
		return MBEDTLS_ERR_SSL_WANT_READ;
	return MBEDTLS_ERR_NET_RECV_FAILED;   /* ECONNREFUSED: no server */
}

/*
 * The DRBG's entropy: the OS's (getrandom).  A port feeds its hardware
 * RNG here; mbedTLS's own entropy collector is not used, as its context
 * alone is larger than the rest of the state.
 */
static int dv_entropy(void *ctx, unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = getrandom(buf, len, 0);

		if (n < 0 && errno != EINTR)
			return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		}
	}
	return 0;
}

/* A UDP socket connected to host:port (so ICMP errors are reported). */
static int dv_socket(struct pzdev *d, const char *host, uint16_t port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	const struct sockaddr *sa;
	socklen_t salen;

	if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		a4.sin_port = htons(port);
		sa = (const struct sockaddr *)&a4;
		salen = sizeof(a4);
	} else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
		a6.sin6_port = htons(port);
		sa = (const struct sockaddr *)&a6;
		salen = sizeof(a6);
	} else {
		return PZDEV_EINVAL;
	}
	d->fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->fd < 0 || connect(d->fd, sa, salen) != 0)
		return PZDEV_ENET;
	return PZDEV_OK;
}

/* --- DTLS ----------------------------------------------------------------- */

/* The outcome of an mbedTLS call that failed with ret. */
static int tls_err(struct pzdev *d, int ret)
{
	if (ret == MBEDTLS_ERR_SSL_TIMEOUT || ret == MBEDTLS_ERR_SSL_WANT_READ)
		return PZDEV_ETIMEOUT;    /* not an mbedTLS failure */
	d->last_tls = ret;
	if (ret == MBEDTLS_ERR_NET_RECV_FAILED ||
	    ret == MBEDTLS_ERR_NET_SEND_FAILED)
		return PZDEV_ENET;
	return PZDEV_ETLS;
}

static int tls_setup(struct pzdev *d, const uint8_t *id, size_t id_len,
		     const uint8_t *key, size_t key_len)
{
	struct pzdev_tls *t = &d->tls;
	static const char pers[] = "pzdev";
	int ret;

	d->ciphersuites[0] = MBEDTLS_TLS_PSK_WITH_AES_128_CCM_8;
	d->ciphersuites[1] = MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256;
	d->ciphersuites[2] = 0;
	ret = mbedtls_ctr_drbg_seed(&t->drbg, dv_entropy, NULL,
				    (const uint8_t *)pers,
				    sizeof(pers) - 1);
	if (!ret)
		ret = mbedtls_ssl_config_defaults(&t->conf,
						  MBEDTLS_SSL_IS_CLIENT,
						  MBEDTLS_SSL_TRANSPORT_DATAGRAM,
						  MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret)
		return tls_err(d, ret);
	mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
	mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&t->conf, d->ciphersuites);
	mbedtls_ssl_conf_handshake_timeout(&t->conf, 1000, 60000);
	ret = mbedtls_ssl_conf_psk(&t->conf, key, key_len, id, id_len);
	if (!ret)
		ret = mbedtls_ssl_setup(&t->ssl, &t->conf);
	if (ret)
		return tls_err(d, ret);
	mbedtls_ssl_set_bio(&t->ssl, d, dv_send, NULL, dv_recv);
	mbedtls_ssl_set_timer_cb(&t->ssl, &t->timer, mbedtls_timing_set_delay,
				 mbedtls_timing_get_delay);
	return PZDEV_OK;
}

int pzdev_open(struct pzdev *d, const char *host, uint16_t port,
	       const uint8_t *id, size_t id_len, const uint8_t *key,
	       size_t key_len, unsigned timeout_ms)
{
	struct pzdev_tls *t;
	int rc, ret;

	if (!d)
		return PZDEV_EINVAL;
	memset(d, 0, sizeof(*d));
	t = &d->tls;
	d->fd = -1;
	d->ready = true;
	mbedtls_ssl_init(&t->ssl);
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_ctr_drbg_init(&t->drbg);
	if (!host || !id || !key || !id_len || id_len > PZDEV_PSK_ID_MAX ||
	    !key_len || key_len > PZDEV_PSK_MAX)
		return PZDEV_EINVAL;
	rc = dv_socket(d, host, port);
	if (!rc)
		rc = tls_setup(d, id, id_len, key, key_len);
	if (rc)
		return rc;
	d->deadline = dv_now() + timeout_ms;
	do {
		ret = mbedtls_ssl_handshake(&t->ssl);
	} while ((ret == MBEDTLS_ERR_SSL_WANT_READ ||
		  ret == MBEDTLS_ERR_SSL_WANT_WRITE) &&
		 dv_now() < d->deadline);
	if (ret)
		return tls_err(d, ret);
	/* Message IDs and tokens start at random points (RFC 7252 4.4, 5.3.1). */
	mbedtls_ctr_drbg_random(&t->drbg, (uint8_t *)&d->mid, sizeof(d->mid));
	mbedtls_ctr_drbg_random(&t->drbg, (uint8_t *)&d->tok, sizeof(d->tok));
	return PZDEV_OK;
}

struct pzdev_wr *pzdev_req_begin(struct pzdev *d, struct pzdev_wr *w,
				 uint8_t code)
{
	uint8_t tok[4];
	uint32_t t = d->tok++;

	for (int k = 0; k < 4; k++)
		tok[k] = (uint8_t)(t >> 8 * (3 - k));
	pzdev_coap_begin(w, d->tx, sizeof(d->tx), PZDEV_CON, code, d->mid++,
			 tok, sizeof(tok));
	return w;
}

/* One record to the peer; d->deadline is not involved (send never waits
 * in DTLS). */
static int dv_write(struct pzdev *d, const uint8_t *p, size_t len)
{
	int ret;

	do {
		ret = mbedtls_ssl_write(&d->tls.ssl, p, len);
	} while (ret == MBEDTLS_ERR_SSL_WANT_WRITE);
	return ret < 0 ? tls_err(d, ret) : PZDEV_OK;
}

/* An empty ACK (or RST) for message id mid. */
static int dv_empty(struct pzdev *d, uint8_t type, uint16_t mid)
{
	uint8_t b[4] = { (uint8_t)(0x40 | type << 4), 0, (uint8_t)(mid >> 8),
			 (uint8_t)mid };

	return dv_write(d, b, sizeof(b));
}

/*
 * What one received datagram means for the request with mid and token:
 * 1 the answer is in rsp, 0 keep waiting (*acked set by an empty ACK),
 * or an error.
 */
static int dv_match(struct pzdev *d, struct pzdev_msg *rsp, uint16_t mid,
		    const uint8_t *token, bool *acked)
{
	bool ours = rsp->tkl == 4 && !memcmp(rsp->token, token, 4);

	if (rsp->type == PZDEV_RST)
		return rsp->mid == mid ? PZDEV_ERESET : 0;
	if (rsp->type == PZDEV_ACK && rsp->mid == mid) {
		*acked = true;
		return rsp->code && ours ? 1 : 0;
	}
	if (rsp->type == PZDEV_CON) {   /* acknowledge (or refuse a ping) */
		int rc = dv_empty(d, rsp->code ? PZDEV_ACK : PZDEV_RST,
				  rsp->mid);

		if (rc)
			return rc;
	}
	return rsp->code >= PZDEV_CODE(2, 0) && ours ? 1 : 0;
}

/*
 * A datagram longer than the receive buffer (mbedTLS holds the rest of the
 * record): drop the rest.  If it was the answer to the request with mid
 * and token (its header is in d->rx), acknowledge it when confirmable and
 * fail the request with PZDEV_ETOOBIG; anything else is ignored (0).
 */
static int dv_oversized(struct pzdev *d, uint16_t mid, const uint8_t *token)
{
	uint8_t type = d->rx[0] >> 4 & 3, code = d->rx[1];
	uint16_t rmid = (uint16_t)(d->rx[2] << 8 | d->rx[3]);
	bool ours = d->rx[0] >> 6 == 1 && (d->rx[0] & 0x0f) == 4 &&
		    !memcmp(d->rx + 4, token, 4);
	int rc = 0;

	while (mbedtls_ssl_get_bytes_avail(&d->tls.ssl))
		if (mbedtls_ssl_read(&d->tls.ssl, d->rx, sizeof(d->rx)) <= 0)
			break;
	if (!ours || code < PZDEV_CODE(2, 0))
		return 0;
	if (type == PZDEV_ACK && rmid != mid)
		return 0;
	if (type == PZDEV_CON)
		rc = dv_empty(d, PZDEV_ACK, rmid);
	return rc ? rc : PZDEV_ETOOBIG;
}

int pzdev_request(struct pzdev *d, struct pzdev_wr *w,
		  struct pzdev_msg *rsp, unsigned timeout_ms)
{
	int64_t end = dv_now() + timeout_ms, next;
	uint32_t wait, r = 0;
	unsigned tries = 0;
	bool acked = false;
	uint16_t mid;
	uint8_t token[4];
	int rc = pzdev_coap_end(w, &d->txlen);

	if (rc)
		goto out;
	if (w->buf != d->tx || d->txlen < 8) {
		rc = PZDEV_EINVAL;
		goto out;
	}
	mid = (uint16_t)(d->tx[2] << 8 | d->tx[3]);
	memcpy(token, d->tx + 4, 4);
	/* The first timeout is random in [ACK_TIMEOUT, ACK_TIMEOUT * 1.5]. */
	mbedtls_ctr_drbg_random(&d->tls.drbg, (uint8_t *)&r, sizeof(r));
	wait = PZDEV_ACK_TIMEOUT_MS +
	       r % (PZDEV_ACK_TIMEOUT_MS * (PZDEV_ACK_RANDOM_PCT - 100) / 100
		    + 1);
	rc = dv_write(d, d->tx, d->txlen);
	next = dv_now() + wait;
	while (!rc) {
		int64_t now = dv_now();
		int n;

		if (now >= end) {
			rc = PZDEV_ETIMEOUT;
			break;
		}
		if (!acked && now >= next) {
			if (tries++ == PZDEV_MAX_RETRANSMIT) {
				rc = PZDEV_ETIMEOUT;
				break;
			}
			wait *= 2;
			next = now + wait;
			rc = dv_write(d, d->tx, d->txlen);
			continue;
		}
		d->deadline = acked || end < next ? end : next;
		n = mbedtls_ssl_read(&d->tls.ssl, d->rx, sizeof(d->rx));
		if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_TIMEOUT)
			continue;
		if (n < 0) {
			rc = tls_err(d, n);
			if (rc == PZDEV_ETIMEOUT)
				rc = PZDEV_ETLS;
			break;
		}
		if (mbedtls_ssl_get_bytes_avail(&d->tls.ssl)) {
			rc = dv_oversized(d, mid, token);
			continue;
		}
		if (pzdev_coap_parse(d->rx, (size_t)n, rsp))
			continue;           /* not CoAP: ignored (RFC 7252 4.2) */
		rc = dv_match(d, rsp, mid, token, &acked);
		if (rc == 1) {
			rc = PZDEV_OK;
			break;
		}
	}
out:
	return rc;
}

int pzdev_tls_error(const struct pzdev *d)
{
	return d ? d->last_tls : 0;
}

void pzdev_close(struct pzdev *d)
{
	struct pzdev_tls *t;

	if (!d || !d->ready)
		return;
	t = &d->tls;
	if (d->fd >= 0) {
		d->deadline = dv_now() + 100;
		mbedtls_ssl_close_notify(&t->ssl);
		close(d->fd);
	}
	mbedtls_ssl_free(&t->ssl);
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_ctr_drbg_free(&t->drbg);
	mbedtls_platform_zeroize(d, sizeof(*d));
	d->fd = -1;
}
