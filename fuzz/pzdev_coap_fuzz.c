/*
 * pzdev_coap_fuzz.c - libFuzzer target for the device client's CoAP
 * parser and writer (pzdev_coap_parse, pzdev_coap_* in device/pzdev.h).
 *
 * CoAP's encoding of a message is unique (each delta and length has one
 * form, the payload marker is followed by at least one octet), so:
 * - what the parser accepts with every option kept (fewer than
 *   PZDEV_OPTS_MAX) is written back by the writer from the parsed fields
 *   and must come out octet for octet as the input;
 * - every kept option lies inside the input, in ascending order;
 * - a writer given a buffer one octet short reports PZDEV_ETOOBIG and
 *   writes nothing past it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pzdev.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* m written into buf (cap octets); the writer's result. */
static int fz_write(const struct pzdev_msg *m, uint8_t *buf, size_t cap,
		    size_t *len)
{
	struct pzdev_wr w;

	pzdev_coap_begin(&w, buf, cap, m->type, m->code, m->mid, m->token,
			 m->tkl);
	for (unsigned i = 0; i < m->nopts; i++)
		pzdev_coap_opt(&w, m->opts[i].num, m->opts[i].val,
			       m->opts[i].len);
	pzdev_coap_payload(&w, m->payload, m->plen);
	return pzdev_coap_end(&w, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pzdev_msg m;
	uint8_t *out;
	size_t len = 0;

	if (pzdev_coap_parse(data, size, &m) != PZDEV_OK)
		return 0;
	for (unsigned i = 0; i < m.nopts; i++) {
		FZ_CHECK(m.opts[i].val >= data &&
			 m.opts[i].val + m.opts[i].len <= data + size);
		FZ_CHECK(i == 0 || m.opts[i].num >= m.opts[i - 1].num);
	}
	FZ_CHECK(!m.payload || (m.plen > 0 && m.payload + m.plen ==
				data + size));
	if (m.nopts == PZDEV_OPTS_MAX)
		return 0;             /* some may have been skipped */
	out = malloc(size + 1);
	FZ_CHECK(out);
	FZ_CHECK(fz_write(&m, out, size, &len) == PZDEV_OK);
	FZ_CHECK(len == size && memcmp(out, data, size) == 0);
	if (size > 4) {
		out[size - 1] = 0x5a;
		FZ_CHECK(fz_write(&m, out, size - 1, &len) == PZDEV_ETOOBIG);
		FZ_CHECK(out[size - 1] == 0x5a);
	}
	free(out);
	return 0;
}
