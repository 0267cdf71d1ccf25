/*
 * test_mqtt_map.c - the MQTT binding's mapping (TS-0010): topics, request
 * primitives in JSON and CBOR to pz_req (every parameter, fc through
 * pz_req_param, the topic's originator against fr, the token), refusals
 * (garbage, missing rqi/op/to, wrong types, oversized, nesting) with rsc
 * and reason, and response and request primitives written and read back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_mqtt.h"

struct m {
	struct pz_mqtt_in in;
	struct pz_mqtt_out out;
	struct pz_req req;
	struct pz_buf cbor;
};

static int setup(void **state)
{
	struct m *m = pz_calloc(1, sizeof(*m));

	if (!m)
		return -1;
	m->in.orig = "Cae1";
	m->in.fmt = PZ_FMT_JSON;
	pz_req_init(&m->req);
	pz_buf_init(&m->cbor, 0);
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	struct m *m = *state;

	pz_req_clear(&m->req);
	pz_buf_free(&m->cbor);
	pz_free(m);
	return 0;
}

static int map(struct m *m, const char *json)
{
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.payload = (const uint8_t *)json;
	m->in.len = strlen(json);
	m->in.fmt = PZ_FMT_JSON;
	return pz_mqtt_map(&m->in, &m->req, &m->out);
}

/* The same primitive, sent as CBOR. */
static int map_cbor(struct m *m, const char *json)
{
	json_t *doc = json_loads(json, 0, NULL);

	assert_non_null(doc);
	pz_buf_reset(&m->cbor);
	assert_int_equal(pz_codec_encode(PZ_FMT_CBOR, doc, &m->cbor), PZ_OK);
	json_decref(doc);
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	m->in.payload = (const uint8_t *)m->cbor.data;
	m->in.len = m->cbor.len;
	m->in.fmt = PZ_FMT_CBOR;
	return pz_mqtt_map(&m->in, &m->req, &m->out);
}

static void refused(struct m *m, const char *json, int rsc, const char *msg)
{
	assert_int_equal(map(m, json), PZ_EREQ);
	assert_int_equal(m->out.rsc, rsc);
	if (!strstr(m->out.msg, msg))
		fail_msg("reason '%s' lacks '%s'", m->out.msg, msg);
}

static void test_topics(void **state)
{
	struct pz_mqtt_topic t;
	char id[PZ_MQTT_ID_MAX];

	(void)state;
	assert_int_equal(pz_mqtt_topic_parse("/oneM2M/req/Cae1/plaza-in/json",
					     "", &t), PZ_OK);
	assert_int_equal(t.kind, PZ_MQTT_REQ);
	assert_string_equal(t.from, "Cae1");
	assert_string_equal(t.to, "plaza-in");
	assert_int_equal(t.fmt, PZ_FMT_JSON);
	assert_int_equal(pz_mqtt_topic_parse(
		"city/oneM2M/reg_req/C/plaza-in/cbor", "city", &t), PZ_OK);
	assert_int_equal(t.kind, PZ_MQTT_REG_REQ);
	assert_int_equal(t.fmt, PZ_FMT_CBOR);
	assert_int_equal(pz_mqtt_topic_parse(
		"/oneM2M/resp/plaza-in/Cae1/json", NULL, &t), PZ_OK);
	assert_int_equal(t.kind, PZ_MQTT_RESP);
	assert_int_equal(pz_mqtt_topic_parse("/oneM2M/req/Cae1/plaza-in/xml",
					     "", &t), PZ_EINVAL);
	assert_int_equal(pz_mqtt_topic_parse("/oneM2M/req//plaza-in/json", "",
					     &t), PZ_EINVAL);
	assert_int_equal(pz_mqtt_topic_parse("/oneM2M/req/a/b/c/json", "",
					     &t), PZ_EINVAL);
	assert_int_equal(pz_mqtt_topic_parse("/oneM2M/req/Cae1/plaza-in/json",
					     "city", &t), PZ_EINVAL);
	assert_int_equal(pz_mqtt_topic_id("/plaza-in/Cae1", id, sizeof(id)),
			 PZ_OK);
	assert_string_equal(id, "plaza-in:Cae1");
	assert_int_equal(pz_mqtt_topic_id("Cae1", id, 4), PZ_ETOOBIG);
	assert_int_equal(pz_mqtt_topic_id("C+", id, sizeof(id)), PZ_EINVAL);
	assert_int_equal(pz_mqtt_topic_id("/", id, sizeof(id)), PZ_EINVAL);
}

static void test_create(void **state)
{
	struct m *m = *state;

	assert_int_equal(map(m, "{\"op\":1,\"to\":\"plaza/ae\",\"fr\":\"Cae1\","
			     "\"rqi\":\"r1\",\"rvi\":\"4\",\"ty\":4,"
			     "\"pc\":{\"m2m:cin\":{\"con\":\"21\"}}}"), PZ_OK);
	assert_int_equal(m->req.op, PZ_OP_CREATE);
	assert_int_equal(m->req.ty, 4);
	assert_string_equal(m->req.to, "plaza/ae");
	assert_string_equal(m->req.fr, "Cae1");
	assert_string_equal(m->req.rqi, "r1");
	assert_string_equal(m->req.rvi, "4");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		m->req.pc, "m2m:cin"), "con")), "21");
	assert_int_equal(m->req.auth, PZ_AUTH_NONE);
	/* CBOR carries the same primitive. */
	assert_int_equal(map_cbor(m, "{\"op\":1,\"to\":\"plaza/ae\",\"rqi\":"
				  "\"r2\",\"ty\":3,\"pc\":{\"m2m:cnt\":{}}}"),
			 PZ_OK);
	assert_int_equal(m->req.ty, 3);
	assert_string_equal(m->req.fr, "Cae1");  /* from the topic */
	assert_string_equal(m->req.rqi, "r2");
}

static void test_params(void **state)
{
	struct m *m = *state;

	assert_int_equal(map(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r\","
			     "\"rcn\":4,\"drt\":2,\"ec\":2,\"gid\":\"g\","
			     "\"vsi\":\"v\",\"ot\":\"20260101T000000\","
			     "\"rqet\":\"20300101T000000\",\"oet\":\"PT5S\","
			     "\"rt\":{\"rtv\":2,\"nu\":[\"mqtt://x/Cae1\"]},"
			     "\"fc\":{\"fu\":1,\"lbl\":[\"a\",\"b\"],\"ty\":"
			     "[3,4],\"lim\":\"5\",\"crb\":\"20300101T000000\","
			     "\"atr\":[{\"nm\":\"rn\",\"val\":\"x\"}]}}"),
			 PZ_OK);
	assert_int_equal(m->req.rcn, 4);
	assert_int_equal(m->req.drt, 2);
	assert_int_equal(m->req.ec, 2);
	assert_int_equal(m->req.rt, 2);
	assert_string_equal(m->req.rtu, "mqtt://x/Cae1");
	assert_string_equal(m->req.gid, "g");
	assert_string_equal(m->req.vsi, "v");
	assert_true(m->req.rqet > 0);
	assert_true(m->req.oet > 0);
	assert_int_equal(m->req.fc.fu, 1);
	assert_int_equal(m->req.fc.nlbl, 2);
	assert_int_equal(m->req.fc.nty, 2);
	assert_int_equal(m->req.fc.ty[1], 4);
	assert_int_equal(m->req.fc.lim, 5);
	assert_true(m->req.fc.crb != PZ_FC_UNSET);
	assert_int_equal(m->req.fc.natr, 1);
	assert_string_equal(m->req.fc.atr_val[0], "x");
}

static void test_token_and_fr(void **state)
{
	struct m *m = *state;

	assert_int_equal(map(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r\","
			     "\"fr\":\"Cae1\",\"token\":\"s3cret\"}"), PZ_OK);
	assert_int_equal(m->req.auth, PZ_AUTH_SECRET);
	assert_string_equal(m->req.secret, "s3cret");
	/* SP-relative fr in its topic form */
	m->in.orig = "plaza-in:Cae1";
	assert_int_equal(map(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r\","
			     "\"fr\":\"/plaza-in/Cae1\"}"), PZ_OK);
	m->in.orig = "Cae1";
	refused(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r9\",\"fr\":\"Cae2\"}",
		4103, "not the topic's originator");
	assert_string_equal(m->req.rqi, "r9");  /* addressable */
	/* Registration: an empty fr is the AE asking for an ID */
	m->in.reg = true;
	assert_int_equal(map(m, "{\"op\":1,\"to\":\"plaza\",\"rqi\":\"r\","
			     "\"fr\":\"\",\"ty\":2,\"pc\":{\"m2m:ae\":{}}}"),
			 PZ_OK);
	assert_string_equal(m->req.fr, "");
	m->in.reg = false;
}

static void test_refusals(void **state)
{
	struct m *m = *state;

	refused(m, "garbage", 4000, "JSON primitive");
	assert_null(m->req.rqi);
	refused(m, "[1,2]", 4000, "primitive");
	refused(m, "{\"op\":2,\"to\":\"plaza\"}", 4000, "missing 'rqi'");
	refused(m, "{\"op\":2,\"rqi\":\"r\"}", 4000, "missing 'to'");
	refused(m, "{\"to\":\"plaza\",\"rqi\":\"r\"}", 4000, "missing 'op'");
	assert_string_equal(m->req.rqi, "r");
	refused(m, "{\"op\":\"2\",\"to\":\"plaza\",\"rqi\":\"r\"}", 4000,
		"'op' must be an integer");
	refused(m, "{\"op\":9,\"to\":\"plaza\",\"rqi\":\"r\"}", 4000,
		"'op' must be");
	refused(m, "{\"op\":2,\"to\":5,\"rqi\":\"r\"}", 4000,
		"'to' must be a string");
	refused(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":7}", 4000,
		"'rqi' must be a string");
	refused(m, "{\"op\":2,\"to\":\"a\\u0001b\",\"rqi\":\"r\"}", 4000,
		"control character");
	refused(m, "{\"op\":1,\"to\":\"plaza\",\"rqi\":\"r\",\"pc\":{}}", 4000,
		"needs 'ty'");
	refused(m, "{\"op\":1,\"to\":\"plaza\",\"rqi\":\"r\",\"ty\":4,"
		"\"pc\":[1]}", 4000, "'pc' must be an object");
	refused(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r\",\"pc\":{}}", 4000,
		"carries no 'pc'");
	refused(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r\",\"rcn\":\"x\"}",
		4000, "'rcn' must be an integer");
	refused(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r\",\"rcn\":99}",
		4000, "rcn");
	refused(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r\",\"fc\":{\"lim\":"
		"true}}", 4000, "'lim'");
	refused(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r\",\"fc\":{\"zz\":1}}",
		4000, "unknown request parameter");
	refused(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r\",\"rqet\":\"soon\"}",
		4000, "invalid 'rqet'");
	refused(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r\",\"ec\":0}", 4000,
		"'ec'");
	refused(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r\",\"token\":\"\"}",
		4000, "empty 'token'");
	refused(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r\",\"rqi\":\"s\"}",
		4000, "JSON primitive");  /* duplicate key */
	m->in.max_len = 10;
	refused(m, "{\"op\":2,\"to\":\"plaza\",\"rqi\":\"r\"}", 4000,
		"exceeds 10 bytes");
	m->in.max_len = 0;
	/* A nesting bomb stops at the codec's depth limit. */
	{
		char bomb[400];
		size_t n = 0;

		n += (size_t)sprintf(bomb, "{\"op\":5,\"to\":\"x\",\"rqi\":\"r\","
				     "\"pc\":");
		for (int i = 0; i < 100; i++)
			bomb[n++] = '[';
		bomb[n] = '\0';
		refused(m, bomb, 4000, "JSON primitive");
	}
}

static void test_answer(void **state)
{
	struct pz_rsp rsp;
	struct pz_buf b;
	json_t *doc;

	(void)state;
	pz_rsp_init(&rsp);
	pz_buf_init(&b, 0);
	rsp.rsc = 2001;
	rsp.pc = json_pack("{s:{s:s}}", "m2m:cin", "con", "21");
	rsp.credential = pz_strdup("tok");
	assert_int_equal(pz_mqtt_answer(&rsp, "r1", "Cae1", "/plaza-in",
					PZ_FMT_JSON, &b), PZ_OK);
	doc = json_loadb(b.data, b.len, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_integer_value(json_object_get(doc, "rsc")), 2001);
	assert_string_equal(json_string_value(json_object_get(doc, "rqi")),
			    "r1");
	assert_string_equal(json_string_value(json_object_get(doc, "to")),
			    "Cae1");
	assert_string_equal(json_string_value(json_object_get(doc, "token")),
			    "tok");
	assert_string_equal(json_string_value(json_object_get(doc, "rvi")),
			    "4");
	json_decref(doc);
	/* and it reads back (CBOR too) */
	pz_buf_reset(&b);
	assert_int_equal(pz_mqtt_answer(&rsp, "r1", NULL, NULL, PZ_FMT_CBOR,
					&b), PZ_OK);
	pz_rsp_clear(&rsp);
	pz_rsp_init(&rsp);
	assert_int_equal(pz_mqtt_response_parse((const uint8_t *)b.data, b.len,
						PZ_FMT_CBOR, &rsp), PZ_OK);
	assert_int_equal(rsp.rsc, 2001);
	assert_string_equal(rsp.rqi, "r1");
	assert_non_null(json_object_get(rsp.pc, "m2m:cin"));
	pz_rsp_clear(&rsp);
	pz_rsp_init(&rsp);
	assert_int_equal(pz_mqtt_response_parse((const uint8_t *)"{\"rqi\":1}",
						9, PZ_FMT_JSON, &rsp),
			 PZ_EINVAL);
	pz_rsp_clear(&rsp);
	pz_buf_free(&b);
}

static void test_request_roundtrip(void **state)
{
	struct m *m = *state;
	struct pz_req req;
	struct pz_buf b;

	pz_req_init(&req);
	pz_buf_init(&b, 0);
	req.op = PZ_OP_NOTIFY;
	req.to = "Cae1";
	req.fr = "/plaza-in";
	req.rqi = "n1";
	req.pc = json_pack("{s:{s:b}}", "m2m:sgn", "vrq", 1);
	assert_int_equal(pz_mqtt_request(&req, PZ_FMT_JSON, &b), PZ_OK);
	m->in.orig = "plaza-in";
	m->in.payload = (const uint8_t *)b.data;
	m->in.len = b.len;
	assert_int_equal(pz_mqtt_map(&m->in, &m->req, &m->out), PZ_OK);
	assert_int_equal(m->req.op, PZ_OP_NOTIFY);
	assert_string_equal(m->req.fr, "/plaza-in");
	assert_string_equal(m->req.rqi, "n1");
	assert_true(json_equal(m->req.pc, req.pc));
	m->in.orig = "Cae1";
	json_decref(req.pc);
	req.pc = NULL;
	pz_req_clear(&req);
	pz_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topics),
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_and_fr, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test(test_answer),
		cmocka_unit_test_setup_teardown(test_request_roundtrip, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
