/*
 * pz_httpc.h - outbound oneM2M requests over HTTP (libcurl multi on the
 * loop).  pz_httpc_send matches pz_core_send_fn, so plazad registers it as
 * the core's sender for "http" and "https".
 */
#ifndef PZ_HTTPC_H
#define PZ_HTTPC_H

#include "plaza/pz_core.h"
#include "plaza/pz_loop.h"

typedef struct pz_httpc pz_httpc;

/* pz_httpc_new - a client on loop (borrowed); each request gives up after
 * timeout_ms.  PZ_OK or PZ_ENOMEM.  curl_global_init must have run. */
int pz_httpc_new(pz_loop *loop, long timeout_ms, pz_httpc **out);

/* pz_httpc_send - POST req (a Notify) to url.  cb(ud, rsp) runs later on
 * the loop, never inside this call; rsp gets the peer's rsc (X-M2M-RSC or
 * one mapped from the HTTP status), 5103 if unreachable, 4008 on timeout. */
int pz_httpc_send(void *ctx, const char *url, struct pz_req *req,
		  struct pz_rsp *rsp, pz_core_done_cb cb, void *ud);

/* pz_httpc_free - abandon transfers in flight and free (NULL is fine). */
void pz_httpc_free(pz_httpc *c);

#endif
