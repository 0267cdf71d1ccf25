/*
 * test_milenage.c - 3GPP Milenage (pz_milenage.h).
 *
 * Where expected values come from: 3GPP TS 35.208 (Milenage design
 * conformance test data), section 4.3, test sets 1 to 6, every input and
 * output octet as published; set 1 is also in shared/spec/security.md
 * section 1.4.  Each set is cross-checked against an independent Python
 * implementation (cryptography's AES) in tests/it/test_boot_vectors.py,
 * so a mistyped digit here would fail there too.
 *
 * Beyond the vectors: every function agrees with pz_milenage_vector, one
 * context gives the same results as fresh ones over many RANDs (the key
 * schedule is reused, not disturbed), bad lengths and NULLs are refused,
 * pz_milenage_done wipes OPc, and every allocation of the set-up fails
 * cleanly in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/crypto.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_milenage.h"

struct tset {
	const char *k, *rand, *sqn, *amf, *op, *opc;
	const char *f1, *f1s, *f2, *f5, *f3, *f4, *f5s;
};

/* TS 35.208 4.3.1 - 4.3.6, in the order of its tables. */
static const struct tset sets[] = {
	{ "465b5ce8b199b49faa5f0a2ee238a6bc", "23553cbe9637a89d218ae64dae47bf35",
	  "ff9bb4d0b607", "b9b9", "cdc202d5123e20f62b6d676ac72cb318",
	  "cd63cb71954a9f4e48a5994e37a02baf", "4a9ffac354dfafb3",
	  "01cfaf9ec4e871e9", "a54211d5e3ba50bf", "aa689c648370",
	  "b40ba9a3c58b2a05bbf0d987b21bf8cb", "f769bcd751044604127672711c6d3441",
	  "451e8beca43b" },
	{ "0396eb317b6d1c36f19c1c84cd6ffd16", "c00d603103dcee52c4478119494202e8",
	  "fd8eef40df7d", "af17", "ff53bade17df5d4e793073ce9d7579fa",
	  "53c15671c60a4b731c55b4a441c0bde2", "5df5b31807e258b0",
	  "a8c016e51ef4a343", "d3a628ed988620f0", "c47783995f72",
	  "58c433ff7a7082acd424220f2b67c556", "21a8c1f929702adb3e738488b9f5c5da",
	  "30f1197061c1" },
	{ "fec86ba6eb707ed08905757b1bb44b8f", "9f7c8d021accf4db213ccff0c7f71a6a",
	  "9d0277595ffc", "725c", "dbc59adcb6f9a0ef735477b7fadf8374",
	  "1006020f0a478bf6b699f15c062e42b3", "9cabc3e99baf7281",
	  "95814ba2b3044324", "8011c48c0c214ed2", "33484dc2136b",
	  "5dbdbb2954e8f3cde665b046179a5098", "59a92d3b476a0443487055cf88b2307b",
	  "deacdd848cc6" },
	{ "9e5944aea94b81165c82fbf9f32db751", "ce83dbc54ac0274a157c17f80d017bd6",
	  "0b604a81eca8", "9e09", "223014c5806694c007ca1eeef57f004f",
	  "a64a507ae1a2a98bb88eb4210135dc87", "74a58220cba84c49",
	  "ac2cc74a96871837", "f365cd683cd92e96", "f0b9c08ad02e",
	  "e203edb3971574f5a94b0d61b816345d", "0c4524adeac041c4dd830d20854fc46b",
	  "6085a86c6f63" },
	{ "4ab1deb05ca6ceb051fc98e77d026a84", "74b0cd6031a1c8339b2b6ce2b8c4a186",
	  "e880a1b580b6", "9f07", "2d16c5cd1fdf6b22383584e3bef2a8d8",
	  "dcf07cbd51855290b92a07a9891e523e", "49e785dd12626ef2",
	  "9e85790336bb3fa2", "5860fc1bce351e7e", "31e11a609118",
	  "7657766b373d1c2138f307e3de9242f9", "1c42e960d89b8fa99f2744e0708ccb53",
	  "fe2555e54aa9" },
	{ "6c38a116ac280c454f59332ee35c8c4f", "ee6466bc96202c5a557abbeff8babf63",
	  "414b98222181", "4464", "1ba00a1a7c6700ac8c3ff3e96ad08725",
	  "3803ef5363b947c6aaa225e58fae3934", "078adfb488241a57",
	  "80246b8d0186bcf1", "16c8233f05a0ac28", "45b0f69ab06c",
	  "3f8c7587fe8e4b233af676aede30ba3b", "a7466cc1e6b2a1337d49d3b66e95d7b4",
	  "1f53cd2b1113" },
};
#define NSETS (sizeof sets / sizeof sets[0])

/* hex into out, which must be exactly strlen(hex) / 2 octets. */
static void unhex(const char *hex, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(hex), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void expect_hex(const uint8_t *got, const char *hex)
{
	uint8_t want[16];
	size_t n = strlen(hex) / 2;

	assert_true(n <= sizeof want);
	unhex(hex, want, n);
	assert_memory_equal(got, want, n);
}

struct tin {
	uint8_t k[16], rand[16], sqn[6], amf[2], op[16], opc[16];
};

static void load(const struct tset *s, struct tin *in)
{
	unhex(s->k, in->k, 16);
	unhex(s->rand, in->rand, 16);
	unhex(s->sqn, in->sqn, 6);
	unhex(s->amf, in->amf, 2);
	unhex(s->op, in->op, 16);
	unhex(s->opc, in->opc, 16);
}

/* Each function on its own, for set s, from an initialised m. */
static void check_functions(const struct pz_milenage *m,
			    const struct tset *s, const struct tin *in)
{
	uint8_t mac[8], res[8], ck[16], ik[16], ak[6];
	struct pz_milenage_out o;

	assert_int_equal(pz_milenage_f1(m, in->rand, in->sqn, in->amf, mac),
			 PZ_OK);
	expect_hex(mac, s->f1);
	assert_int_equal(pz_milenage_f1star(m, in->rand, in->sqn, in->amf,
					    mac), PZ_OK);
	expect_hex(mac, s->f1s);
	assert_int_equal(pz_milenage_f2345(m, in->rand, res, ck, ik, ak),
			 PZ_OK);
	expect_hex(res, s->f2);
	expect_hex(ck, s->f3);
	expect_hex(ik, s->f4);
	expect_hex(ak, s->f5);
	assert_int_equal(pz_milenage_f5star(m, in->rand, ak), PZ_OK);
	expect_hex(ak, s->f5s);

	memset(&o, 0xa5, sizeof o);
	assert_int_equal(pz_milenage_vector(m, in->rand, in->sqn, in->amf, &o),
			 PZ_OK);
	expect_hex(o.mac_a, s->f1);
	expect_hex(o.mac_s, s->f1s);
	expect_hex(o.res, s->f2);
	expect_hex(o.ck, s->f3);
	expect_hex(o.ik, s->f4);
	expect_hex(o.ak, s->f5);
	expect_hex(o.ak_s, s->f5s);
}

static void test_ts35208_sets(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSETS; i++) {
		struct pz_milenage m;
		struct tin in;
		uint8_t opc[16];

		print_message("TS 35.208 test set %zu\n", i + 1);
		load(&sets[i], &in);
		/* OPc three ways. */
		memset(opc, 0, sizeof opc);
		assert_int_equal(pz_milenage_opc(in.k, in.op, opc), PZ_OK);
		expect_hex(opc, sets[i].opc);
		assert_int_equal(pz_milenage_init_op(&m, in.k, 16, in.op, 16),
				 PZ_OK);
		memset(opc, 0, sizeof opc);
		assert_int_equal(pz_milenage_get_opc(&m, opc), PZ_OK);
		expect_hex(opc, sets[i].opc);
		check_functions(&m, &sets[i], &in);
		pz_milenage_done(&m);

		/* From the stored OPc, as an authentication centre does. */
		assert_int_equal(pz_milenage_init(&m, in.k, 16, in.opc, 16),
				 PZ_OK);
		check_functions(&m, &sets[i], &in);
		pz_milenage_done(&m);
	}
}

/* Set 1's outputs as the spec sheet quotes them (section 1.4), which
 * P2 and the GBA vectors build on. */
static void test_spec_sheet_set1(void **state)
{
	struct pz_milenage m;
	struct tin in;
	uint8_t res[8], ck[16], ik[16], ak[6];

	(void)state;
	load(&sets[0], &in);
	assert_int_equal(pz_milenage_init_op(&m, in.k, 16, in.op, 16), PZ_OK);
	assert_int_equal(pz_milenage_f2345(&m, in.rand, res, ck, ik, ak),
			 PZ_OK);
	expect_hex(res, "a54211d5e3ba50bf");
	expect_hex(ck, "b40ba9a3c58b2a05bbf0d987b21bf8cb");
	expect_hex(ik, "f769bcd751044604127672711c6d3441");
	expect_hex(ak, "aa689c648370");
	pz_milenage_done(&m);
}

/* f2345 fills exactly the outputs asked for. */
static void test_f2345_subsets(void **state)
{
	struct pz_milenage m;
	struct tin in;

	(void)state;
	load(&sets[1], &in);
	assert_int_equal(pz_milenage_init(&m, in.k, 16, in.opc, 16), PZ_OK);
	for (unsigned mask = 1; mask < 16; mask++) {
		uint8_t res[8], ck[16], ik[16], ak[6];
		uint8_t res0[8], ck0[16], ik0[16], ak0[6];

		memset(res, 0xee, 8);
		memset(ck, 0xee, 16);
		memset(ik, 0xee, 16);
		memset(ak, 0xee, 6);
		memcpy(res0, res, 8);
		memcpy(ck0, ck, 16);
		memcpy(ik0, ik, 16);
		memcpy(ak0, ak, 6);
		assert_int_equal(pz_milenage_f2345(&m, in.rand,
						   mask & 1 ? res : NULL,
						   mask & 2 ? ck : NULL,
						   mask & 4 ? ik : NULL,
						   mask & 8 ? ak : NULL), PZ_OK);
		if (mask & 1)
			expect_hex(res, sets[1].f2);
		else
			assert_memory_equal(res, res0, 8);
		if (mask & 2)
			expect_hex(ck, sets[1].f3);
		else
			assert_memory_equal(ck, ck0, 16);
		if (mask & 4)
			expect_hex(ik, sets[1].f4);
		else
			assert_memory_equal(ik, ik0, 16);
		if (mask & 8)
			expect_hex(ak, sets[1].f5);
		else
			assert_memory_equal(ak, ak0, 6);
	}
	assert_int_equal(pz_milenage_f2345(&m, in.rand, NULL, NULL, NULL,
					   NULL), PZ_EINVAL);
	pz_milenage_done(&m);
}

/*
 * One context through 2,000 pseudo-random (RAND, SQN, AMF), interleaving
 * every function, against a fresh context per input: reusing the key
 * schedule changes nothing, and the functions agree with the vector.
 */
static void test_context_reuse(void **state)
{
	struct pz_milenage m;
	struct tin in;
	uint32_t x = 0x12345678;

	(void)state;
	load(&sets[2], &in);
	assert_int_equal(pz_milenage_init(&m, in.k, 16, in.opc, 16), PZ_OK);
	for (int n = 0; n < 2000; n++) {
		struct pz_milenage fresh;
		struct pz_milenage_out a, b;
		uint8_t r[16], sqn[6], amf[2], mac[8];

		for (int i = 0; i < 16; i++) {
			x = x * 1103515245u + 12345u;
			r[i] = (uint8_t)(x >> 16);
		}
		memcpy(sqn, r + 3, 6);
		memcpy(amf, r + 11, 2);
		assert_int_equal(pz_milenage_vector(&m, r, sqn, amf, &a),
				 PZ_OK);
		assert_int_equal(pz_milenage_init(&fresh, in.k, 16, in.opc,
						  16), PZ_OK);
		assert_int_equal(pz_milenage_vector(&fresh, r, sqn, amf, &b),
				 PZ_OK);
		pz_milenage_done(&fresh);
		assert_memory_equal(&a, &b, sizeof a);
		assert_int_equal(pz_milenage_f1(&m, r, sqn, amf, mac), PZ_OK);
		assert_memory_equal(mac, a.mac_a, 8);
		assert_int_equal(pz_milenage_f1star(&m, r, sqn, amf, mac),
				 PZ_OK);
		assert_memory_equal(mac, a.mac_s, 8);
		assert_int_equal(pz_milenage_f5star(&m, r, mac), PZ_OK);
		assert_memory_equal(mac, a.ak_s, 6);
	}
	pz_milenage_done(&m);
}

static void test_bad_args(void **state)
{
	static const size_t bad[] = { 0, 1, 15, 17, 32 };
	struct pz_milenage m, dead;
	struct pz_milenage_out o;
	struct tin in;
	uint8_t buf[16];

	(void)state;
	load(&sets[0], &in);
	/* Lengths other than 16 for K, OP and OPc; m stays harmless. */
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&m, 0x5a, sizeof m);
		assert_int_equal(pz_milenage_init(&m, in.k, bad[i], in.opc, 16),
				 PZ_EINVAL);
		assert_null(m.aes);
		pz_milenage_done(&m);
		memset(&m, 0x5a, sizeof m);
		assert_int_equal(pz_milenage_init(&m, in.k, 16, in.opc, bad[i]),
				 PZ_EINVAL);
		assert_null(m.aes);
		pz_milenage_done(&m);
		memset(&m, 0x5a, sizeof m);
		assert_int_equal(pz_milenage_init_op(&m, in.k, bad[i], in.op,
						     16), PZ_EINVAL);
		assert_null(m.aes);
		memset(&m, 0x5a, sizeof m);
		assert_int_equal(pz_milenage_init_op(&m, in.k, 16, in.op,
						     bad[i]), PZ_EINVAL);
		assert_null(m.aes);
	}
	assert_int_equal(pz_milenage_init(NULL, in.k, 16, in.opc, 16),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_init(&m, NULL, 16, in.opc, 16), PZ_EINVAL);
	assert_int_equal(pz_milenage_init(&m, in.k, 16, NULL, 16), PZ_EINVAL);
	assert_int_equal(pz_milenage_init_op(NULL, in.k, 16, in.op, 16),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_init_op(&m, NULL, 16, in.op, 16),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_init_op(&m, in.k, 16, NULL, 16),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_opc(NULL, in.op, buf), PZ_EINVAL);
	assert_int_equal(pz_milenage_opc(in.k, NULL, buf), PZ_EINVAL);
	assert_int_equal(pz_milenage_opc(in.k, in.op, NULL), PZ_EINVAL);

	/* NULL arguments to the functions. */
	assert_int_equal(pz_milenage_init(&m, in.k, 16, in.opc, 16), PZ_OK);
	assert_int_equal(pz_milenage_f1(NULL, in.rand, in.sqn, in.amf, buf),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_f1(&m, NULL, in.sqn, in.amf, buf),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_f1(&m, in.rand, NULL, in.amf, buf),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_f1(&m, in.rand, in.sqn, NULL, buf),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_f1(&m, in.rand, in.sqn, in.amf, NULL),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_f1star(&m, in.rand, in.sqn, in.amf, NULL),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_f2345(&m, NULL, buf, NULL, NULL, NULL),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_f5star(&m, in.rand, NULL), PZ_EINVAL);
	assert_int_equal(pz_milenage_f5star(&m, NULL, buf), PZ_EINVAL);
	assert_int_equal(pz_milenage_vector(&m, in.rand, in.sqn, in.amf, NULL),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_vector(&m, in.rand, NULL, in.amf, &o),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_get_opc(&m, NULL), PZ_EINVAL);
	assert_int_equal(pz_milenage_get_opc(NULL, buf), PZ_EINVAL);

	/* Done: OPc wiped, every function refuses, done again is harmless. */
	pz_milenage_done(&m);
	assert_null(m.aes);
	memset(buf, 0, sizeof buf);
	assert_memory_equal(m.opc, buf, 16);
	assert_int_equal(pz_milenage_f1(&m, in.rand, in.sqn, in.amf, buf),
			 PZ_EINVAL);
	assert_int_equal(pz_milenage_f5star(&m, in.rand, buf), PZ_EINVAL);
	assert_int_equal(pz_milenage_get_opc(&m, buf), PZ_EINVAL);
	pz_milenage_done(&m);
	pz_milenage_done(NULL);
	memset(&dead, 0, sizeof dead);
	pz_milenage_done(&dead);
}

/* libcrypto allocates through pz_malloc here (see main): fail each
 * allocation of the set-up in turn. */
static void test_alloc_failure(void **state)
{
	struct tin in;
	unsigned long n;
	int rc = PZ_ENOMEM;

	(void)state;
	load(&sets[3], &in);
	for (n = 1; n < 1000; n++) {
		struct pz_milenage m;
		struct pz_milenage_out o;

		pz_mem_fail_after(n);
		rc = pz_milenage_init_op(&m, in.k, 16, in.op, 16);
		pz_mem_fail_after(0);
		if (rc != PZ_OK) {
			assert_int_equal(rc, PZ_ENOMEM);
			assert_null(m.aes);
			continue;
		}
		assert_int_equal(pz_milenage_vector(&m, in.rand, in.sqn,
						    in.amf, &o), PZ_OK);
		expect_hex(o.mac_a, sets[3].f1);
		expect_hex(o.ak_s, sets[3].f5s);
		pz_milenage_done(&m);
		break;
	}
	assert_int_equal(rc, PZ_OK);
	if (n < 2)
		fail_msg("no allocation to fail");
}

static void *t_crypto_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return pz_malloc(n);
}

static void *t_crypto_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return pz_realloc(p, n);
}

static void t_crypto_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	pz_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ts35208_sets),
		cmocka_unit_test(test_spec_sheet_set1),
		cmocka_unit_test(test_f2345_subsets),
		cmocka_unit_test(test_context_reuse),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_alloc_failure),
	};

	if (!CRYPTO_set_mem_functions(t_crypto_malloc, t_crypto_realloc,
				      t_crypto_free)) {
		fprintf(stderr, "CRYPTO_set_mem_functions refused\n");
		return 1;
	}
	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	return cmocka_run_group_tests_name("milenage", tests, NULL, NULL);
}
