/*
 * test_coap_map.c - the CoAP to request-primitive mapping (pz_coap_map,
 * TS-0008) and back (pz_coap_answer, pz_coap_code): methods and oneM2M-TY,
 * SenML posts, the oneM2M options, Uri-Path scopes, Uri-Query parameters,
 * content formats and Accept, unknown and repeated critical options, bad
 * content (JSON, truncated CBOR, nesting bombs, SenML), the rsc to CoAP
 * code table, the answer's options, and plain-CoAP originator patterns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "plaza/pz_coap.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"

#define MAXOPT 32

/* One mapping: add options with the helpers, run it with map(). */
struct m {
	struct pz_coap_opt o[MAXOPT];
	uint8_t vals[MAXOPT][8];      /* uint option bytes */
	struct pz_coap_in in;
	struct pz_coap_out out;
	struct pz_req req;
};

static int setup(void **state)
{
	struct m *m = pz_calloc(1, sizeof(*m));

	if (!m)
		return -1;
	m->in.code = 1;
	m->in.opts = m->o;
	pz_req_init(&m->req);
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	struct m *m = *state;

	pz_req_clear(&m->req);
	pz_free(m);
	return 0;
}

static void opt(struct m *m, uint16_t num, const char *s)
{
	assert_true(m->in.nopts < MAXOPT);
	m->o[m->in.nopts].num = num;
	m->o[m->in.nopts].len = (uint16_t)strlen(s);
	m->o[m->in.nopts].val = (const uint8_t *)s;
	m->in.nopts++;
}

static void uopt(struct m *m, uint16_t num, uint32_t v)
{
	uint8_t *p = m->vals[m->in.nopts];
	uint16_t n = 0;

	for (int shift = 24; shift >= 0; shift -= 8)
		if (n || (v >> shift) & 0xff)
			p[n++] = (uint8_t)(v >> shift);
	assert_true(m->in.nopts < MAXOPT);
	m->o[m->in.nopts].num = num;
	m->o[m->in.nopts].len = n;
	m->o[m->in.nopts].val = p;
	m->in.nopts++;
}

/* Uri-Path segments from "a/b/c". */
static void path(struct m *m, const char *p)
{
	static char buf[8][64];
	static int k;

	while (*p) {
		size_t n = strcspn(p, "/");
		char *s = buf[k++ % 8];

		memcpy(s, p, n);
		s[n] = '\0';
		opt(m, 11, s);
		p += n;
		if (*p == '/')
			p++;
	}
}

static void body(struct m *m, const void *b, size_t n)
{
	m->in.body = b;
	m->in.len = n;
}

static int map(struct m *m)
{
	return pz_coap_map(&m->in, &m->req, &m->out);
}

static void refused(struct m *m, uint8_t code, int rsc)
{
	int rc = map(m);

	if (rc != PZ_EREQ)
		fail_msg("expected a refusal %u.%02u/%d, got rc %d", code >> 5,
			 code & 0x1f, rsc, rc);
	assert_int_equal(m->out.code, code);
	assert_int_equal(m->out.rsc, rsc);
	assert_true(m->out.msg[0] != '\0');
}

/* --- methods and resource types --------------------------------------- */

static void test_retrieve(void **state)
{
	struct m *m = *state;

	path(m, "plaza/ae1/cnt/la");
	opt(m, PZ_COAP_OPT_FR, "Cae1");
	opt(m, PZ_COAP_OPT_RQI, "r1");
	opt(m, PZ_COAP_OPT_RVI, "4");
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->req.op, PZ_OP_RETRIEVE);
	assert_string_equal(m->req.to, "plaza/ae1/cnt/la");
	assert_string_equal(m->req.fr, "Cae1");
	assert_string_equal(m->req.rqi, "r1");
	assert_string_equal(m->req.rvi, "4");
	assert_int_equal(m->req.auth, PZ_AUTH_NONE);
	assert_int_equal(m->out.cf, PZ_COAP_CF_JSON);
	assert_int_equal(m->out.fmt, PZ_FMT_JSON);
	assert_int_equal(m->out.observe, -1);
}

static void test_create_notify(void **state)
{
	struct m *m = *state;
	const char *b = "{\"m2m:cnt\":{\"rn\":\"c\"}}";

	m->in.code = 2;
	path(m, "plaza/ae1");
	uopt(m, 12, PZ_COAP_CF_RES_JSON);
	uopt(m, PZ_COAP_OPT_TY, 3);
	opt(m, PZ_COAP_OPT_FR, "Cae1");
	body(m, b, strlen(b));
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->req.op, PZ_OP_CREATE);
	assert_int_equal(m->req.ty, 3);
	assert_non_null(m->req.pc);
	assert_non_null(json_object_get(m->req.pc, "m2m:cnt"));
	assert_int_equal(m->out.cf, PZ_COAP_CF_RES_JSON);

	/* Without oneM2M-TY a POST is a Notify. */
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.nopts = 0;
	path(m, "plaza/ae1");
	uopt(m, 12, PZ_COAP_CF_JSON);
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->req.op, PZ_OP_NOTIFY);
	assert_int_equal(m->req.ty, 0);
}

static void test_update_delete(void **state)
{
	struct m *m = *state;
	const char *b = "{\"m2m:cnt\":{\"mni\":5}}";

	m->in.code = 3;
	path(m, "plaza/ae1/c");
	uopt(m, 12, PZ_COAP_CF_JSON);
	body(m, b, strlen(b));
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->req.op, PZ_OP_UPDATE);
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.code = 4;
	body(m, NULL, 0);
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->req.op, PZ_OP_DELETE);
	assert_null(m->req.pc);
}

static void test_bad_method(void **state)
{
	struct m *m = *state;

	m->in.code = 5;  /* FETCH */
	path(m, "plaza");
	refused(m, PZ_COAP_CODE(4, 5), PZ_RSC_OPERATION_NOT_ALLOWED);
}

static void test_senml(void **state)
{
	struct m *m = *state;
	const char *b = "[{\"bn\":\"urn:dev:x:\",\"n\":\"temp\",\"u\":\"Cel\","
			"\"v\":21.5}]";
	/* [{-2: "d:", 0: "t", 2: 1}] */
	static const uint8_t cb[] = { 0x81, 0xa3, 0x21, 0x62, 'd', ':',
				      0x00, 0x61, 't', 0x02, 0x01 };

	m->in.code = 2;
	path(m, "plaza/ae1/c");
	uopt(m, 12, PZ_COAP_CF_SENML_JSON);
	body(m, b, strlen(b));
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->req.op, PZ_OP_CREATE);
	assert_int_equal(m->req.ty, PZ_TY_CIN);
	assert_int_equal(m->req.pc_kind, PZ_PC_SENML);
	assert_true(json_is_array(m->req.pc));
	/* Answered in the JSON family. */
	assert_int_equal(m->out.cf, PZ_COAP_CF_JSON);

	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.nopts = 0;
	path(m, "plaza/ae1/c");
	uopt(m, 12, PZ_COAP_CF_SENML_CBOR);
	body(m, cb, sizeof(cb));
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->req.pc_kind, PZ_PC_SENML);
	assert_true(json_is_array(m->req.pc));
	assert_int_equal(m->out.cf, PZ_COAP_CF_CBOR);
	assert_int_equal(m->out.fmt, PZ_FMT_CBOR);
}

static void test_senml_refusals(void **state)
{
	struct m *m = *state;
	const char *b = "[{\"n\":\"t\",\"v\":1}]";

	/* SenML with a ty other than 4. */
	m->in.code = 2;
	path(m, "plaza/ae1/c");
	uopt(m, 12, PZ_COAP_CF_SENML_JSON);
	uopt(m, PZ_COAP_OPT_TY, 3);
	body(m, b, strlen(b));
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);

	/* SenML in a PUT. */
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.nopts = 0;
	m->in.code = 3;
	path(m, "plaza/ae1/c");
	uopt(m, 12, PZ_COAP_CF_SENML_JSON);
	refused(m, PZ_COAP_CODE(4, 15), PZ_RSC_UNSUPPORTED_MEDIA_TYPE);

	/* An empty pack, and one that is not a pack. */
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.nopts = 0;
	m->in.code = 2;
	path(m, "plaza/ae1/c");
	uopt(m, 12, PZ_COAP_CF_SENML_JSON);
	body(m, NULL, 0);
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	body(m, "{\"n\":1}", 7);
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
	assert_null(m->req.pc);
}

/* --- options ---------------------------------------------------------- */

static void test_onem2m_options(void **state)
{
	struct m *m = *state;

	path(m, "plaza");
	opt(m, PZ_COAP_OPT_OT, "20250101T000000");
	opt(m, PZ_COAP_OPT_RTURI, "coap://127.0.0.1:9/x");
	opt(m, PZ_COAP_OPT_ASRI, "ignored");
	opt(m, PZ_COAP_OPT_RQET, "20991231T000000");
	opt(m, PZ_COAP_OPT_RSET, "PT10S");
	opt(m, PZ_COAP_OPT_OET, "20991231T000001");
	uopt(m, PZ_COAP_OPT_EC, 2);
	opt(m, PZ_COAP_OPT_GID, "g1");
	opt(m, PZ_COAP_OPT_VSI, "v");
	assert_int_equal(map(m), PZ_OK);
	assert_string_equal(m->req.ot, "20250101T000000");
	assert_string_equal(m->req.rtu, "coap://127.0.0.1:9/x");
	assert_true(m->req.rqet > 0 && m->req.rset > 0 && m->req.oet > 0);
	assert_int_equal(m->req.ec, 2);
	assert_string_equal(m->req.gid, "g1");
	assert_string_equal(m->req.vsi, "v");
}

static void test_bad_option_values(void **state)
{
	struct m *m = *state;
	static const uint8_t nul[] = { 'C', 0, 'x' };

	path(m, "plaza");
	opt(m, PZ_COAP_OPT_RQET, "soon");
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
	m->in.nopts = 1;
	uopt(m, PZ_COAP_OPT_EC, 300);
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
	m->in.nopts = 1;
	uopt(m, PZ_COAP_OPT_TY, 0);
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
	m->in.nopts = 1;
	m->o[1].num = PZ_COAP_OPT_FR;
	m->o[1].len = sizeof(nul);
	m->o[1].val = nul;
	m->in.nopts = 2;
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
	m->in.nopts = 1;
	opt(m, PZ_COAP_OPT_FR, "C\xc3\x28");  /* invalid UTF-8 */
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
}

static void test_unknown_critical(void **state)
{
	struct m *m = *state;

	path(m, "plaza");
	opt(m, 2049, "x");    /* odd: critical */
	refused(m, PZ_COAP_CODE(4, 2), PZ_RSC_BAD_REQUEST);
	assert_non_null(strstr(m->out.msg, "2049"));
	/* Elective unknown options are ignored. */
	m->in.nopts = 1;
	opt(m, 2050, "x");
	assert_int_equal(map(m), PZ_OK);
	/* If-Match is understood by CoAP but not by plaza. */
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.nopts = 1;
	opt(m, 1, "e");
	refused(m, PZ_COAP_CODE(4, 2), PZ_RSC_BAD_REQUEST);
}

static void test_repeated_option(void **state)
{
	struct m *m = *state;

	path(m, "plaza");
	opt(m, PZ_COAP_OPT_FR, "Ca");
	opt(m, PZ_COAP_OPT_FR, "Cb");
	refused(m, PZ_COAP_CODE(4, 2), PZ_RSC_BAD_REQUEST);
	/* A repeated elective option: the first one counts. */
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.nopts = 1;
	uopt(m, 6, 0);
	uopt(m, 6, 1);
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->out.observe, 0);
}

static void test_proxy(void **state)
{
	struct m *m = *state;

	opt(m, 35, "coap://example.org/x");
	refused(m, PZ_COAP_CODE(5, 5), PZ_RSC_NOT_IMPLEMENTED);
}

/* --- paths and queries ---------------------------------------------------- */

static void test_scopes(void **state)
{
	struct m *m = *state;

	path(m, "~/plaza-in/plaza/ae1");
	assert_int_equal(map(m), PZ_OK);
	assert_string_equal(m->req.to, "/plaza-in/plaza/ae1");
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.nopts = 0;
	path(m, "_/plaza.example/plaza-in/cnt8");
	assert_int_equal(map(m), PZ_OK);
	assert_string_equal(m->req.to, "//plaza.example/plaza-in/cnt8");
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.nopts = 0;
	path(m, "plaza/~x");  /* "~" only counts alone and first */
	assert_int_equal(map(m), PZ_OK);
	assert_string_equal(m->req.to, "plaza/~x");
}

static void test_bad_paths(void **state)
{
	struct m *m = *state;

	opt(m, 11, "plaza");
	opt(m, 11, "a/b");
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
	m->in.nopts = 1;
	opt(m, 11, "");
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
	m->in.nopts = 1;
	opt(m, 11, "a\x01");
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
}

static void test_query(void **state)
{
	struct m *m = *state;

	path(m, "plaza");
	opt(m, 15, "fu=1");
	opt(m, 15, "ty=3");
	opt(m, 15, "lbl=a");
	opt(m, 15, "rcn=4");
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->req.fc.fu, 1);
	assert_int_equal(m->req.fc.nty, 1);
	assert_int_equal(m->req.fc.ty[0], 3);
	assert_string_equal(m->req.fc.lbl[0], "a");
	assert_int_equal(m->req.rcn, 4);
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.nopts = 1;
	opt(m, 15, "lim=-3");
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.nopts = 1;
	opt(m, 15, "nosuch=1");
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
}

/* --- content formats ---------------------------------------------------- */

static void test_accept(void **state)
{
	struct m *m = *state;

	path(m, "plaza");
	uopt(m, 17, PZ_COAP_CF_CBOR);
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->out.cf, PZ_COAP_CF_CBOR);
	assert_int_equal(m->out.fmt, PZ_FMT_CBOR);
	m->in.nopts = 1;
	uopt(m, 17, PZ_COAP_CF_RES_CBOR);
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->out.cf, PZ_COAP_CF_RES_CBOR);
	m->in.nopts = 1;
	uopt(m, 17, 0);  /* text/plain */
	refused(m, PZ_COAP_CODE(4, 6), PZ_RSC_NOT_ACCEPTABLE);
	assert_int_equal(m->out.cf, PZ_COAP_CF_JSON);
	m->in.nopts = 1;
	uopt(m, 17, PZ_COAP_CF_SENML_JSON);
	refused(m, PZ_COAP_CODE(4, 6), PZ_RSC_NOT_ACCEPTABLE);
}

static void test_refusal_format(void **state)
{
	struct m *m = *state;

	/* A refusal is answered in the format the client asked for. */
	path(m, "plaza");
	uopt(m, 17, PZ_COAP_CF_CBOR);
	opt(m, 2049, "x");
	refused(m, PZ_COAP_CODE(4, 2), PZ_RSC_BAD_REQUEST);
	assert_int_equal(m->out.fmt, PZ_FMT_CBOR);
}

static void test_content_format(void **state)
{
	struct m *m = *state;

	m->in.code = 2;
	path(m, "plaza");
	uopt(m, PZ_COAP_OPT_TY, 2);
	body(m, "{}", 2);
	refused(m, PZ_COAP_CODE(4, 15), PZ_RSC_UNSUPPORTED_MEDIA_TYPE);
	m->in.nopts = 2;
	uopt(m, 12, 0);  /* text/plain */
	refused(m, PZ_COAP_CODE(4, 15), PZ_RSC_UNSUPPORTED_MEDIA_TYPE);
}

static void test_bad_content(void **state)
{
	struct m *m = *state;
	/* {"m2m:cnt": ... truncated */
	static const uint8_t trunc[] = { 0xa1, 0x67, 'm', '2', 'm', ':',
					 'c', 'n', 't', 0xa1, 0x62 };
	uint8_t bomb[4000];

	m->in.code = 2;
	path(m, "plaza");
	uopt(m, PZ_COAP_OPT_TY, 3);
	uopt(m, 12, PZ_COAP_CF_CBOR);
	body(m, trunc, sizeof(trunc));
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
	assert_int_equal(m->out.fmt, PZ_FMT_CBOR);

	/* A nesting bomb: 4000 nested one-element arrays. */
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	memset(bomb, 0x81, sizeof(bomb));
	bomb[0] = 0xa1;
	body(m, bomb, sizeof(bomb));
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);

	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.nopts = 2;
	uopt(m, 12, PZ_COAP_CF_JSON);
	body(m, "{\"m2m:cnt\":", 11);
	refused(m, PZ_COAP_CODE(4, 0), PZ_RSC_BAD_REQUEST);
}

static void test_too_big(void **state)
{
	struct m *m = *state;

	m->in.code = 2;
	m->in.max_body = 10;
	path(m, "plaza");
	uopt(m, PZ_COAP_OPT_TY, 3);
	uopt(m, 12, PZ_COAP_CF_JSON);
	body(m, "{\"m2m:cnt\":{}}", 14);
	refused(m, PZ_COAP_CODE(4, 13), PZ_RSC_BAD_REQUEST);
}

static void test_observe(void **state)
{
	struct m *m = *state;

	path(m, "plaza/ae/c/la");
	uopt(m, 6, 0);
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->out.observe, 0);
	m->in.nopts = 4;
	uopt(m, 6, 1);
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->out.observe, 1);
	/* Observe means nothing on a POST. */
	m->in.code = 4;
	assert_int_equal(map(m), PZ_OK);
	assert_int_equal(m->out.observe, -1);
}

/* --- answers ---------------------------------------------------------- */

static void test_codes(void **state)
{
	(void)state;
	assert_int_equal(pz_coap_code(2000), PZ_COAP_CODE(2, 5));
	assert_int_equal(pz_coap_code(2001), PZ_COAP_CODE(2, 1));
	assert_int_equal(pz_coap_code(2002), PZ_COAP_CODE(2, 2));
	assert_int_equal(pz_coap_code(2004), PZ_COAP_CODE(2, 4));
	assert_int_equal(pz_coap_code(1000), PZ_COAP_CODE(2, 3));
	assert_int_equal(pz_coap_code(4000), PZ_COAP_CODE(4, 0));
	assert_int_equal(pz_coap_code(4004), PZ_COAP_CODE(4, 4));
	assert_int_equal(pz_coap_code(4005), PZ_COAP_CODE(4, 5));
	assert_int_equal(pz_coap_code(4008), PZ_COAP_CODE(5, 4));
	assert_int_equal(pz_coap_code(4015), PZ_COAP_CODE(4, 15));
	assert_int_equal(pz_coap_code(4102), PZ_COAP_CODE(4, 6));
	assert_int_equal(pz_coap_code(4103), PZ_COAP_CODE(4, 3));
	assert_int_equal(pz_coap_code(4105), PZ_COAP_CODE(4, 3));
	assert_int_equal(pz_coap_code(4107), PZ_COAP_CODE(4, 3));
	assert_int_equal(pz_coap_code(4117), PZ_COAP_CODE(4, 3));
	assert_int_equal(pz_coap_code(5000), PZ_COAP_CODE(5, 0));
	assert_int_equal(pz_coap_code(5001), PZ_COAP_CODE(5, 1));
	assert_int_equal(pz_coap_code(4001), PZ_COAP_CODE(5, 1));
	assert_int_equal(pz_coap_code(5103), PZ_COAP_CODE(4, 4));
	assert_int_equal(pz_coap_code(5106), PZ_COAP_CODE(4, 0));
	assert_int_equal(pz_coap_code(5207), PZ_COAP_CODE(4, 6));
	assert_int_equal(pz_coap_code(6023), PZ_COAP_CODE(4, 0));
	assert_int_equal(pz_coap_code(4999), PZ_COAP_CODE(4, 0));
	assert_int_equal(pz_coap_code(7), PZ_COAP_CODE(5, 0));
}

static const struct pz_coap_opt *find(const struct pz_coap_answer *a,
				      uint16_t num, int nth)
{
	for (size_t i = 0; i < a->nopts; i++)
		if (a->opts[i].num == num && nth-- == 0)
			return &a->opts[i];
	return NULL;
}

static void test_answer(void **state)
{
	struct pz_rsp rsp;
	struct pz_coap_answer a;
	const struct pz_coap_opt *o;

	(void)state;
	pz_rsp_init(&rsp);
	rsp.rsc = 2001;
	rsp.pc = json_pack("{s:{s:s}}", "m2m:cnt", "rn", "c");
	rsp.location = pz_strdup("/plaza-in/cnt5");
	snprintf(rsp.rvi, sizeof(rsp.rvi), "3");
	assert_int_equal(pz_coap_answer(&rsp, "r9", PZ_COAP_CF_RES_JSON,
					PZ_FMT_JSON, &a), PZ_OK);
	assert_int_equal(a.code, PZ_COAP_CODE(2, 1));
	for (size_t i = 1; i < a.nopts; i++)
		assert_true(a.opts[i - 1].num <= a.opts[i].num);
	o = find(&a, 8, 0);
	assert_non_null(o);
	assert_memory_equal(o->val, "~", 1);
	o = find(&a, 8, 2);
	assert_non_null(o);
	assert_int_equal(o->len, 4);
	assert_memory_equal(o->val, "cnt5", 4);
	o = find(&a, 12, 0);
	assert_non_null(o);
	assert_int_equal(o->len, 2);
	assert_int_equal(o->val[0] << 8 | o->val[1], 10001);
	o = find(&a, PZ_COAP_OPT_RSC, 0);
	assert_non_null(o);
	assert_int_equal(o->val[0] << 8 | o->val[1], 2001);
	o = find(&a, PZ_COAP_OPT_RQI, 0);
	assert_non_null(o);
	assert_memory_equal(o->val, "r9", 2);
	o = find(&a, PZ_COAP_OPT_RVI, 0);
	assert_non_null(o);
	assert_memory_equal(o->val, "3", 1);
	assert_non_null(strstr(a.body.data, "m2m:cnt"));
	pz_coap_answer_clear(&a);
	pz_rsp_clear(&rsp);

	/* No body, no Content-Format; RSC is always there. */
	pz_rsp_init(&rsp);
	rsp.rsc = 2002;
	assert_int_equal(pz_coap_answer(&rsp, NULL, PZ_COAP_CF_CBOR,
					PZ_FMT_CBOR, &a), PZ_OK);
	assert_int_equal(a.code, PZ_COAP_CODE(2, 2));
	assert_null(find(&a, 12, 0));
	assert_null(find(&a, PZ_COAP_OPT_RQI, 0));
	assert_non_null(find(&a, PZ_COAP_OPT_RSC, 0));
	assert_int_equal(a.body.len, 0);
	pz_coap_answer_clear(&a);
	pz_rsp_clear(&rsp);
}

static void test_answer_cbor(void **state)
{
	struct pz_rsp rsp;
	struct pz_coap_answer a;
	json_t *back = NULL;
	char err[100];

	(void)state;
	pz_rsp_init(&rsp);
	rsp.rsc = 4004;
	rsp.pc = json_pack("{s:s}", "m2m:dbg", "no such resource");
	assert_int_equal(pz_coap_answer(&rsp, "r", PZ_COAP_CF_CBOR,
					PZ_FMT_CBOR, &a), PZ_OK);
	assert_int_equal(a.code, PZ_COAP_CODE(4, 4));
	assert_int_equal(pz_codec_parse(PZ_FMT_CBOR, (uint8_t *)a.body.data,
					a.body.len, &pz_codec_default_limits,
					&back, err, sizeof(err)), PZ_OK);
	assert_string_equal(json_string_value(json_object_get(back,
							      "m2m:dbg")),
			    "no such resource");
	json_decref(back);
	pz_coap_answer_clear(&a);
	pz_rsp_clear(&rsp);
}

static void test_plain_allowed(void **state)
{
	(void)state;
	assert_true(pz_coap_plain_allowed("C*", "Csensor1"));
	assert_true(pz_coap_plain_allowed("Sx  C*dev", "Cabcdev"));
	assert_true(pz_coap_plain_allowed("*", "anything"));
	assert_true(pz_coap_plain_allowed("Cexact", "Cexact"));
	assert_false(pz_coap_plain_allowed("Cexact", "Cexact2"));
	assert_false(pz_coap_plain_allowed("C*dev", "Cdevx"));
	assert_false(pz_coap_plain_allowed("C*", "Sx"));
	assert_false(pz_coap_plain_allowed("", "C1"));
	assert_false(pz_coap_plain_allowed(NULL, "C1"));
	assert_false(pz_coap_plain_allowed("*", NULL));
	assert_false(pz_coap_plain_allowed("*", ""));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_retrieve), T(test_create_notify), T(test_update_delete),
		T(test_bad_method), T(test_senml), T(test_senml_refusals),
		T(test_onem2m_options), T(test_bad_option_values),
		T(test_unknown_critical), T(test_repeated_option),
		T(test_proxy), T(test_scopes), T(test_bad_paths),
		T(test_query), T(test_accept), T(test_refusal_format),
		T(test_content_format), T(test_bad_content), T(test_too_big),
		T(test_observe),
		cmocka_unit_test(test_codes), cmocka_unit_test(test_answer),
		cmocka_unit_test(test_answer_cbor),
		cmocka_unit_test(test_plain_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
