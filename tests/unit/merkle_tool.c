/*
 * merkle_tool.c - the Merkle module (pz_merkle.h) on the command line, for
 * the cross-check against an independent implementation
 * (tests/it/test_merkle_vectors.py).  A test tool; not installed.
 *
 *   merkle_tool N < queries
 *
 * builds a log of N entries the way the trust log does (pz_merkle_leaf,
 * then pz_merkle_append storing every node it emits), entry i being the
 * ASCII text "entry-<i>" (no NUL), and answers one query per input line
 * with one line of JSON, hashes in lower-case hex:
 *
 *   root n                          {"root": H}
 *   leaf i                          {"leaf": H}
 *   path i n                        {"path": [H, ...]}
 *   proof m n                       {"proof": [H, ...]}
 *   vpath i n LEAF ROOT [H ...]     {"ok": true|false}
 *   vproof m n ROOT_M ROOT_N [H ...] {"ok": true|false}
 *
 * Roots, paths and proofs are computed from the stored nodes through
 * pz_merkle_root/_inclusion/_consistency for the tree of the first n
 * entries (n <= N); the frontier's root is checked against pz_merkle_root
 * at every size while building.  An error answers {"error": "<name>"}.
 * Exit status 0, or 1 on bad usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_merkle.h"

#define HL PZ_MERKLE_HASH_LEN
#define MAX_HASHES 128      /* hashes accepted on a verify line */

struct tool {
	uint64_t cap;                  /* entries stored */
	uint64_t n;                    /* size of the tree being queried */
	uint8_t *lv[64];               /* node (l, i) at lv[l] + 32 * i */
};

static int tool_emit(void *arg, unsigned level, uint64_t index,
		     const uint8_t hash[HL])
{
	struct tool *t = arg;

	if (level >= 64 || index >= (t->cap >> level))
		return PZ_EINVAL;
	memcpy(t->lv[level] + HL * index, hash, HL);
	return PZ_OK;
}

static int tool_get(void *arg, unsigned level, uint64_t index,
		    uint8_t out[HL])
{
	struct tool *t = arg;

	/* Only nodes of the tree being queried exist. */
	if (level >= 64 || index >= (t->n >> level))
		return PZ_ENOTFOUND;
	memcpy(out, t->lv[level] + HL * index, HL);
	return PZ_OK;
}

static void put_hash(const uint8_t *h)
{
	for (int i = 0; i < HL; i++)
		printf("%02x", h[i]);
}

static void put_list(const char *key, const uint8_t *p, size_t len)
{
	printf("{\"%s\": [", key);
	for (size_t i = 0; i < len; i++) {
		printf(i ? ", \"" : "\"");
		put_hash(p + HL * i);
		printf("\"");
	}
	printf("]}\n");
}

static int unhex(const char *s, uint8_t *out)
{
	if (strlen(s) != 2 * HL)
		return -1;
	for (int i = 0; i < HL; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int build(struct tool *t, uint64_t cap)
{
	struct pz_merkle_frontier f;
	uint8_t leaf[HL], a[HL], b[HL];
	char text[32];
	int rc;

	t->cap = cap;
	for (unsigned l = 0; l < 64 && (cap >> l); l++) {
		t->lv[l] = pz_calloc(cap >> l, HL);
		if (!t->lv[l])
			return PZ_ENOMEM;
	}
	pz_merkle_frontier_init(&f);
	for (uint64_t i = 0; i < cap; i++) {
		int len = snprintf(text, sizeof(text), "entry-%" PRIu64, i);

		rc = pz_merkle_leaf(text, (size_t)len, leaf);
		if (rc == PZ_OK)
			rc = pz_merkle_append(&f, leaf, tool_emit, t);
		t->n = i + 1;
		if (rc == PZ_OK)
			rc = pz_merkle_frontier_root(&f, a);
		if (rc == PZ_OK)
			rc = pz_merkle_root(i + 1, tool_get, t, b);
		if (rc != PZ_OK)
			return rc;
		if (memcmp(a, b, HL) != 0) {
			fprintf(stderr, "frontier root differs at %" PRIu64
				"\n", i + 1);
			return PZ_ESTATE;
		}
	}
	return PZ_OK;
}

/* vpath / vproof: the hashes after the numbers. */
static void verify(struct tool *t, int incl, uint64_t a, uint64_t n,
		   char *rest)
{
	static uint8_t p[MAX_HASHES * HL];
	uint8_t x[HL], y[HL];
	size_t len = 0;
	char *tok, *save = NULL;
	int ok;

	(void)t;
	tok = strtok_r(rest, " \t\n", &save);
	if (!tok || unhex(tok, x) != 0)
		goto bad;
	tok = strtok_r(NULL, " \t\n", &save);
	if (!tok || unhex(tok, y) != 0)
		goto bad;
	while ((tok = strtok_r(NULL, " \t\n", &save)) != NULL) {
		if (len == MAX_HASHES || unhex(tok, p + HL * len) != 0)
			goto bad;
		len++;
	}
	if (incl)
		ok = pz_merkle_verify_inclusion(a, n, x, p, len, y);
	else
		ok = pz_merkle_verify_consistency(a, n, x, y, p, len);
	printf("{\"ok\": %s}\n", ok ? "true" : "false");
	return;
bad:
	printf("{\"error\": \"bad hash list\"}\n");
}

static void query(struct tool *t, char *line)
{
	uint8_t out[PZ_MERKLE_MAX_PROOF * HL];
	char op[16];
	uint64_t a = 0, n = 0;
	size_t len = 0;
	int used = 0, rc = PZ_OK;

	if (sscanf(line, "%15s %" SCNu64 " %n", op, &a, &used) < 2) {
		printf("{\"error\": \"bad query\"}\n");
		return;
	}
	if (strcmp(op, "root") && strcmp(op, "leaf") &&
	    sscanf(line + used, "%" SCNu64 " %n", &n, &used) < 1) {
		printf("{\"error\": \"bad query\"}\n");
		return;
	}
	if (!strcmp(op, "vpath") || !strcmp(op, "vproof")) {
		char *rest = line;

		/* skip "op a n" */
		for (int w = 0; w < 3; w++) {
			rest += strspn(rest, " \t");
			rest += strcspn(rest, " \t\n");
		}
		verify(t, op[1] == 'p' && op[2] == 'a', a, n, rest);
		return;
	}
	if (!strcmp(op, "root") || !strcmp(op, "leaf")) {
		if (a > t->cap || (op[0] == 'l' && a >= t->cap)) {
			rc = PZ_EINVAL;
		} else if (op[0] == 'l') {
			memcpy(out, t->lv[0] + HL * a, HL);
		} else {
			t->n = a;
			rc = pz_merkle_root(a, tool_get, t, out);
		}
		if (rc == PZ_OK) {
			printf("{\"%s\": \"", op);
			put_hash(out);
			printf("\"}\n");
		}
	} else if (!strcmp(op, "path") || !strcmp(op, "proof")) {
		if (n > t->cap) {
			rc = PZ_EINVAL;
		} else {
			t->n = n;
			if (op[1] == 'a')
				rc = pz_merkle_inclusion(a, n, tool_get, t,
							 out, &len);
			else
				rc = pz_merkle_consistency(a, n, tool_get, t,
							   out, &len);
		}
		if (rc == PZ_OK)
			put_list(op, out, len);
	} else {
		printf("{\"error\": \"bad query\"}\n");
		return;
	}
	if (rc != PZ_OK)
		printf("{\"error\": \"%s\"}\n", pz_strerror(rc));
}

int main(int argc, char **argv)
{
	struct tool t;
	char *line = NULL, *end;
	size_t room = 0;
	uint64_t cap;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: merkle_tool N < queries\n");
		return 1;
	}
	cap = strtoull(argv[1], &end, 10);
	if (*end || cap > 10000000) {
		fprintf(stderr, "merkle_tool: N must be 0..10000000\n");
		return 1;
	}
	memset(&t, 0, sizeof(t));
	rc = build(&t, cap);
	if (rc != PZ_OK) {
		fprintf(stderr, "merkle_tool: %s\n", pz_strerror(rc));
		return 1;
	}
	while (getline(&line, &room, stdin) > 0) {
		query(&t, line);
		fflush(stdout);
	}
	free(line);
	for (unsigned l = 0; l < 64; l++)
		pz_free(t.lv[l]);
	return 0;
}
