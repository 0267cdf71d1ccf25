/*
 * pz_coap.h - the oneM2M CoAP binding (TS-0008) on libcoap 3, driven from
 * plazad's loop: plain CoAP (RFC 7252) and CoAP over DTLS 1.2 with
 * pre-shared keys (RFC 7925).  Maps CoAP requests to pz_req and pz_rsp back
 * to CoAP; nothing else in plaza knows about CoAP.
 *
 * Authentication: a DTLS session's PSK identity names its originator (see
 * pz_core_psk_get); a request whose oneM2M-FR differs gets 4.03 / 4103.
 * Plain CoAP is off unless an address is configured, and even then only
 * originators matching opts->plain_allowed are accepted (4.01 / 4107
 * otherwise).
 */
#ifndef PZ_COAP_H
#define PZ_COAP_H

#include <stdbool.h>
#include <stddef.h>

#include "plaza/pz_codec.h"
#include "plaza/pz_core.h"
#include "plaza/pz_loop.h"

typedef struct pz_coap pz_coap;

struct pz_coap_opts {
	const char *plain_allowed;  /* space-separated '*' patterns of
				       originators plain CoAP may claim */
	size_t max_body;            /* largest (reassembled) body */
	unsigned max_sessions;      /* concurrent sessions, 0 = libcoap's */
	struct pz_codec_limits limits;
};

/* pz_coap_new - a binding serving core; loop and core are borrowed. */
int pz_coap_new(pz_loop *loop, pz_core *core, const struct pz_coap_opts *o,
		pz_coap **out);

/*
 * pz_coap_listen - serve on addr ("127.0.0.1:5684", "[::1]:0"); dtls
 * selects CoAP over DTLS.  *port gets the bound port.  PZ_OK, PZ_EINVAL,
 * PZ_EIO (logged).
 */
int pz_coap_listen(pz_coap *c, const char *addr, bool dtls, int *port);

/* pz_coap_drain - before shutdown, after the core committed: send what is
 * still owed. */
void pz_coap_drain(pz_coap *c);

/* pz_coap_free - stop and free (NULL is fine). */
void pz_coap_free(pz_coap *c);

#endif
