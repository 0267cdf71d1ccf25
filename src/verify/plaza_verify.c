/*
 * plaza_verify.c - plaza-verify, the auditor's tool for plaza's trust log
 * (docs/trust.md, "Auditing with plaza-verify").  It checks signed tree
 * heads, proof bundles and consistency proofs with nothing but the log's
 * public key: no store, no core, no SQLite.
 *
 * Exit status: 0 verified, 1 verification failed (one line on stderr
 * says what failed), 2 usage, I/O, network or malformed input.
 */
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_err.h"
#include "verify_int.h"

#define EXIT_FAILED 1
#define EXIT_ERROR 2

static const char usage_text[] =
"usage: plaza-verify [options] head [HEAD]\n"
"       plaza-verify [options] proof BUNDLE\n"
"       plaza-verify [options] consistency OLD [NEW [PROOF]]\n"
"       plaza-verify [options] --log URL device ID\n"
"       plaza-verify [options] --log URL entry SEQ\n"
"\n"
"Check plaza's trust log with nothing but its public key.\n"
"\n"
"Commands:\n"
"  head [HEAD]        check a signed tree head's signature; print its size,\n"
"                     time and root (HEAD defaults to URL/.plaza/log/head)\n"
"  proof BUNDLE       check a proof bundle (/.plaza/log/proof): the head's\n"
"                     signature, every entry's audit path to the signed\n"
"                     root, and that each entry is a CBOR map carrying its\n"
"                     own seq; print each entry as JSON\n"
"  consistency OLD [NEW [PROOF]]\n"
"                     check both heads and that NEW extends OLD.  NEW is a\n"
"                     head, or a consistency document\n"
"                     (/.plaza/log/consistency?from=OLD.size), which carries\n"
"                     the new head and the proof; PROOF is such a document\n"
"                     or a JSON array of base64 hashes.  With --log, NEW\n"
"                     defaults to URL/.plaza/log/head and a missing proof\n"
"                     is fetched\n"
"  device ID          fetch URL/.plaza/log/proof?id=ID and check it as\n"
"                     'proof' does, plus that every entry is about the\n"
"                     record's identifier and every entry of its history is\n"
"                     proven\n"
"  entry SEQ          fetch URL/.plaza/log/proof?seq=SEQ and check it\n"
"\n"
"HEAD, BUNDLE, OLD, NEW and PROOF are file paths, '-' for stdin, or\n"
"http(s) URLs.  A HEAD may also be any document carrying a \"head\" (a\n"
"bundle, a consistency document, a file written by --save-head).\n"
"\n"
"Options:\n"
"  -k, --key KEY       the log's public key: a PEM file (Ed25519,\n"
"                      SubjectPublicKeyInfo) or a URL (URL/.plaza/log/key;\n"
"                      the default with --log).  A fetched key proves\n"
"                      nothing unless its log id is checked out of band:\n"
"                      use --log-id\n"
"  -i, --log-id B64    the expected log id (base64 SHA-256 of the raw key)\n"
"  -l, --log URL       the plaza the documents come from\n"
"  -s, --since HEAD    also check that the verified head extends this older\n"
"                      head (the proof is fetched from --log)\n"
"  -o, --save-head FILE  store the verified head in FILE, for the next\n"
"                      run's --since (written only when all checks pass)\n"
"  -j, --json          print the result as one JSON document\n"
"  -q, --quiet         print nothing on success\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 verified; 1 verification failed (stderr names the head,\n"
"entry or field); 2 usage, I/O, network or malformed input.\n"
"\n"
"Example (a device's history, remembering the head for next time):\n"
"  plaza-verify --key log.pem --log https://plaza.example --since h.json \\\n"
"      --save-head h.json device urn:dev:mac:0024befffe804ff1\n";

struct opts {
	const char *key;                /* --key source, or NULL */
	const char *log_id;             /* --log-id, or NULL */
	char *log;                      /* --log without trailing '/' */
	const char *since;              /* --since source, or NULL */
	const char *save;               /* --save-head file, or NULL */
	bool json;                      /* --json */
	bool quiet;                     /* --quiet */
};

struct ctx {
	struct opts o;
	uint8_t pub[32];                /* the log key, raw */
	uint8_t id[PZ_TLOG_HASH];       /* its log id */
	json_t *out;                    /* the result, for --json */
	char err[1024];                 /* reason of the failure */
};

static int usage_error(struct ctx *c, const char *what)
{
	snprintf(c->err, sizeof(c->err), "%s (plaza-verify --help)", what);
	return PZ_EINVAL;
}

static char *url_of(const struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* c->o.log followed by the formatted path (free), or NULL. */
static char *url_of(const struct ctx *c, const char *fmt, ...)
{
	char *path = NULL, *url = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	if (asprintf(&url, "%s%s", c->o.log, path) < 0)
		url = NULL;
	free(path);
	return url;
}

/* A JSON document from src. */
static int load_json(struct ctx *c, const char *src, json_t **out)
{
	json_error_t je;
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = pz_verify__read(src, &text, &len, c->err, sizeof(c->err));
	if (rc != PZ_OK)
		return rc;
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!*out) {
		snprintf(c->err, sizeof(c->err), "%s: not JSON: line %d: %s",
			 src, je.line, je.text);
		return PZ_EINVAL;
	}
	return PZ_OK;
}

/* --- the key ------------------------------------------------------------- */

static int key_from_pem(struct ctx *c, const char *src, const char *pem,
			size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	size_t n = sizeof(c->pub);
	int rc = PZ_OK;

	if (!k || EVP_PKEY_id(k) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(k, c->pub, &n) != 1 || n != 32) {
		snprintf(c->err, sizeof(c->err), "%s: not an Ed25519 public "
			 "key in PEM (SubjectPublicKeyInfo)", src);
		rc = PZ_EINVAL;
	}
	EVP_PKEY_free(k);
	BIO_free(bio);
	if (rc == PZ_OK &&
	    !EVP_Digest(c->pub, 32, c->id, NULL, EVP_sha256(), NULL))
		rc = PZ_ENOMEM;
	return rc;
}

/* The pinned log id, if any, against the key's. */
static int key_pin(struct ctx *c, bool fetched)
{
	uint8_t want[64];
	char have[48];

	pz_b64_encode(c->id, sizeof(c->id), have, 0);
	if (!c->o.log_id) {
		if (fetched)
			fprintf(stderr, "plaza-verify: warning: the key was "
				"fetched from the operator, which proves "
				"nothing unless its log id is checked out of "
				"band (--log-id): log id %s\n", have);
		return PZ_OK;
	}
	if (strlen(c->o.log_id) > 48 ||
	    pz_b64_decode(c->o.log_id, want, sizeof(want)) != PZ_TLOG_HASH)
		return usage_error(c, "--log-id must be base64 of 32 bytes");
	if (memcmp(want, c->id, PZ_TLOG_HASH) != 0) {
		snprintf(c->err, sizeof(c->err), "the key's log id %s is not "
			 "the pinned %s", have, c->o.log_id);
		return PZ_ECORRUPT;
	}
	return PZ_OK;
}

static int load_key(struct ctx *c)
{
	char *src = NULL, *pem = NULL;
	size_t len = 0;
	int rc;

	if (c->o.key)
		src = strdup(c->o.key);
	else if (c->o.log)
		src = url_of(c, "/.plaza/log/key");
	else
		return usage_error(c, "the log's key is needed: --key KEY.pem");
	if (!src)
		return PZ_ENOMEM;
	rc = pz_verify__read(src, &pem, &len, c->err, sizeof(c->err));
	if (rc == PZ_OK)
		rc = key_from_pem(c, src, pem, len);
	if (rc == PZ_OK)
		rc = key_pin(c, pz_verify__is_url(src));
	free(pem);
	free(src);
	return rc;
}

/* --- output -------------------------------------------------------------- */

static json_t *head_json(const struct pz_verify_head *h)
{
	return pz_tlog_head_json(h->log_id, &h->h);
}

static void print_head(struct ctx *c, const char *label,
		       const struct pz_verify_head *h)
{
	char root[48], when[40] = "?";
	time_t s = (time_t)(h->h.ts / 1000);
	struct tm tm;

	if (c->o.json) {
		json_object_set_new(c->out, label, head_json(h));
		return;
	}
	if (c->o.quiet)
		return;
	pz_b64_encode(h->h.root, sizeof(h->h.root), root, 0);
	if (h->h.ts >= 0 && gmtime_r(&s, &tm))
		snprintf(when + strftime(when, 20, "%Y-%m-%dT%H:%M:%S", &tm),
			 sizeof(when) - 19, ".%03dZ", (int)(h->h.ts % 1000));
	printf("%s: tree_size %" PRIu64 ", timestamp %" PRId64 " (%s), "
	       "root_hash %s\n", label, h->h.size, h->h.ts, when, root);
}

static void print_entries(struct ctx *c, const struct pz_verify_bundle *b,
			  json_t *entries)
{
	json_t *doc;
	size_t i;

	if (c->o.json) {
		json_object_set(c->out, "entries", entries);
		return;
	}
	if (c->o.quiet)
		return;
	json_array_foreach(entries, i, doc) {
		char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);

		printf("entry %" PRIu64 ": %s\n", b->e[i].seq, s ? s : "?");
		free(s);
	}
}

static void print_ok(struct ctx *c, const char *what)
{
	char id[48];

	pz_b64_encode(c->id, sizeof(c->id), id, 0);
	if (c->o.json) {
		json_object_set_new(c->out, "log_id", json_string(id));
		json_object_set_new(c->out, "verified", json_true());
		json_object_set_new(c->out, "summary", json_string(what));
	} else if (!c->o.quiet) {
		printf("log_id: %s\nverified: %s\n", id, what);
	}
}

/* Write the verified head to --save-head, through a temporary file. */
static int save_head(struct ctx *c, const struct pz_verify_head *h)
{
	json_t *j = head_json(h);
	char *tmp = NULL;
	int rc = PZ_OK;

	if (!j || asprintf(&tmp, "%s.tmp", c->o.save) < 0) {
		json_decref(j);
		return PZ_ENOMEM;
	}
	if (json_dump_file(j, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 ||
	    rename(tmp, c->o.save) != 0) {
		snprintf(c->err, sizeof(c->err), "%s: cannot write the head",
			 c->o.save);
		remove(tmp);
		rc = PZ_EIO;
	}
	free(tmp);
	json_decref(j);
	return rc;
}

/* --- heads and consistency ------------------------------------------------ */

/* A head from src (a head or a document carrying one), signature checked. */
static int load_head(struct ctx *c, const char *src,
		     struct pz_verify_head *h)
{
	json_t *j = NULL;
	int rc = load_json(c, src, &j);

	if (rc == PZ_OK)
		rc = pz_verify__head_parse(pz_verify__head_of(j), h, c->err,
					   sizeof(c->err));
	if (rc == PZ_OK)
		rc = pz_verify__head_check(c->pub, h, c->err, sizeof(c->err));
	json_decref(j);
	return rc;
}

/* A consistency document with the range m..n (n 0: any). */
static int cons_range(struct ctx *c, const struct pz_verify_cons *k,
		      const char *src, uint64_t m, uint64_t n)
{
	if ((k->from || k->to) && (k->from != m || (n && k->to != n))) {
		snprintf(c->err, sizeof(c->err), "%s: a proof from %" PRIu64
			 " to %" PRIu64 " entries, not from %" PRIu64, src,
			 k->from, k->to, m);
		return PZ_EINVAL;
	}
	return PZ_OK;
}

/* A head the server sent with a proof: if it is validly signed for the
 * size we hold but with another root, that is a fork. */
static int cons_head(struct ctx *c, const struct pz_verify_cons *k,
		     const struct pz_verify_head *nw)
{
	if (!k->has_head || k->head.h.size != nw->h.size ||
	    memcmp(k->head.h.root, nw->h.root, PZ_TLOG_HASH) == 0)
		return PZ_OK;
	if (pz_verify__head_check(c->pub, &k->head, c->err,
				  sizeof(c->err)) != PZ_OK)
		return PZ_ECORRUPT;
	snprintf(c->err, sizeof(c->err), "not consistent: two different "
		 "roots signed for %" PRIu64 " entries (a fork)", nw->h.size);
	return PZ_ECORRUPT;
}

/* The consistency proof between m and n fetched from --log. */
static int fetch_cons(struct ctx *c, uint64_t m, uint64_t n,
		      struct pz_verify_cons *k)
{
	char *url = url_of(c, "/.plaza/log/consistency?from=%" PRIu64
			   "&to=%" PRIu64, m, n);
	json_t *j = NULL;
	int rc = url ? load_json(c, url, &j) : PZ_ENOMEM;

	if (rc == PZ_OK)
		rc = pz_verify__cons_parse(j, k, c->err, sizeof(c->err));
	if (rc == PZ_OK)
		rc = cons_range(c, k, url, m, n);
	json_decref(j);
	free(url);
	return rc;
}

/* nw extends old: the proof k (NULL: fetched from --log when needed). */
static int extends(struct ctx *c, const struct pz_verify_head *old,
		   const struct pz_verify_head *nw,
		   const struct pz_verify_cons *k)
{
	struct pz_verify_cons fetched;
	uint64_t m = old->h.size, n = nw->h.size;
	int rc = PZ_OK;

	if (!k && m > 0 && m < n) {
		if (!c->o.log)
			return usage_error(c, "a consistency proof is needed "
					   "(PROOF, or --log URL to fetch it)");
		rc = fetch_cons(c, m, n, &fetched);
		k = &fetched;
	}
	if (rc == PZ_OK && k)
		rc = cons_head(c, k, nw);
	if (rc == PZ_OK)
		rc = pz_verify__consistency(old, nw, k ? k->proof : NULL,
					    k ? k->nproof : 0, c->err,
					    sizeof(c->err));
	return rc;
}

/* --since: the verified head nw extends the one the auditor kept.  This
 * comes before the entries are checked: a rewritten log is the finding,
 * whatever the rewritten entries look like. */
static int since(struct ctx *c, const struct pz_verify_head *nw)
{
	struct pz_verify_head old;
	int rc = PZ_OK;

	if (c->o.since) {
		rc = load_head(c, c->o.since, &old);
		if (rc == PZ_OK)
			rc = extends(c, &old, nw, NULL);
		if (rc == PZ_OK)
			print_head(c, "since", &old);
	}
	return rc;
}

/* --save-head, once everything verified. */
static int save(struct ctx *c, const struct pz_verify_head *nw)
{
	return c->o.save ? save_head(c, nw) : PZ_OK;
}

/* --- commands ------------------------------------------------------------- */

static int cmd_head(struct ctx *c, int argc, char **argv)
{
	struct pz_verify_head h;
	char *src = argc > 0 ? strdup(argv[0]) :
		    c->o.log ? url_of(c, "/.plaza/log/head") : NULL;
	int rc;

	if (argc > 1)
		rc = usage_error(c, "head takes one HEAD");
	else if (!src)
		rc = argc > 0 ? PZ_ENOMEM :
		     usage_error(c, "head needs HEAD or --log URL");
	else
		rc = load_head(c, src, &h);
	if (rc == PZ_OK)
		rc = since(c, &h);
	if (rc == PZ_OK)
		rc = save(c, &h);
	if (rc == PZ_OK) {
		print_head(c, "head", &h);
		print_ok(c, "the head's signature");
	}
	free(src);
	return rc;
}

static int check_bundle(struct ctx *c, const char *src)
{
	struct pz_verify_bundle b;
	json_t *j = NULL, *entries = NULL;
	char what[160];
	int rc = load_json(c, src, &j);

	if (rc == PZ_OK)
		rc = pz_verify__bundle_parse(j, &b, c->err, sizeof(c->err));
	else
		memset(&b, 0, sizeof(b));
	if (rc == PZ_OK)
		rc = pz_verify__head_check(c->pub, &b.head, c->err,
					   sizeof(c->err));
	if (rc == PZ_OK)
		rc = since(c, &b.head);
	if (rc == PZ_OK)
		rc = pz_verify__bundle_check(&b, &entries, c->err,
					     sizeof(c->err));
	if (rc == PZ_OK)
		rc = save(c, &b.head);
	if (rc == PZ_OK) {
		const char *id = json_string_value(
			json_object_get(b.record, "id"));

		print_head(c, "head", &b.head);
		print_entries(c, &b, entries);
		snprintf(what, sizeof(what), "%zu entr%s%s%s included in the "
			 "signed head of size %" PRIu64, b.n,
			 b.n == 1 ? "y" : "ies", id ? " of " : "",
			 id ? id : "", b.head.h.size);
		print_ok(c, what);
	}
	json_decref(entries);
	pz_verify__bundle_free(&b);
	json_decref(j);
	return rc;
}

static int cmd_proof(struct ctx *c, int argc, char **argv)
{
	if (argc != 1)
		return usage_error(c, "proof takes one BUNDLE");
	return check_bundle(c, argv[0]);
}

static int cmd_fetch_bundle(struct ctx *c, int argc, char **argv,
			    bool device)
{
	char *url = NULL, *esc = NULL, *end = NULL;
	int rc = PZ_OK;

	if (argc != 1 || !c->o.log)
		return usage_error(c, device ? "device takes one ID and needs "
				   "--log URL" : "entry takes one SEQ and "
				   "needs --log URL");
	if (device) {
		esc = pz_verify__escape(argv[0]);
		url = esc ? url_of(c, "/.plaza/log/proof?id=%s", esc) : NULL;
	} else {
		unsigned long long seq = strtoull(argv[0], &end, 10);

		if (!argv[0][0] || *end || argv[0][0] == '-')
			return usage_error(c, "SEQ must be a number");
		url = url_of(c, "/.plaza/log/proof?seq=%llu", seq);
	}
	rc = url ? check_bundle(c, url) : PZ_ENOMEM;
	free(url);
	free(esc);
	return rc;
}

/* NEW (and PROOF) of the consistency command into *nw and *k. */
static int load_new(struct ctx *c, const char *src, const char *proof,
		    uint64_t m, struct pz_verify_head *nw,
		    struct pz_verify_cons *k, bool *have_k)
{
	json_t *j = NULL, *p = NULL;
	int rc = load_json(c, src, &j);

	*have_k = false;
	if (rc == PZ_OK && json_object_get(j, "proof")) {
		/* a consistency document: it carries the head */
		rc = proof ? usage_error(c, "NEW is a consistency document: "
					 "no PROOF after it") :
		     pz_verify__cons_parse(j, k, c->err, sizeof(c->err));
		if (rc == PZ_OK && !k->has_head)
			rc = usage_error(c, "NEW is a consistency document "
					 "without a head");
		if (rc == PZ_OK)
			rc = cons_range(c, k, src, m, 0);
		if (rc == PZ_OK)
			*nw = k->head;
		*have_k = true;
	} else if (rc == PZ_OK) {
		rc = pz_verify__head_parse(pz_verify__head_of(j), nw, c->err,
					   sizeof(c->err));
		if (rc == PZ_OK && proof)
			rc = load_json(c, proof, &p);
		if (rc == PZ_OK && p)
			rc = pz_verify__cons_parse(p, k, c->err,
						   sizeof(c->err));
		if (rc == PZ_OK && p)
			rc = cons_range(c, k, proof, m, nw->h.size);
		*have_k = p != NULL;
	}
	if (rc == PZ_OK)
		rc = pz_verify__head_check(c->pub, nw, c->err,
					   sizeof(c->err));
	json_decref(p);
	json_decref(j);
	return rc;
}

static int cmd_consistency(struct ctx *c, int argc, char **argv)
{
	struct pz_verify_head old, nw;
	struct pz_verify_cons k;
	char *src = NULL;
	bool have_k = false;
	int rc;

	if (argc < 1 || argc > 3)
		return usage_error(c, "consistency takes OLD [NEW [PROOF]]");
	rc = load_head(c, argv[0], &old);
	if (rc != PZ_OK)
		return rc;
	if (argc > 1)
		src = strdup(argv[1]);
	else if (!c->o.log)
		return usage_error(c, "consistency needs NEW or --log URL");
	else    /* the newest head; extends() fetches the proof it needs */
		src = url_of(c, "/.plaza/log/head");
	rc = src ? load_new(c, src, argc > 2 ? argv[2] : NULL, old.h.size,
			    &nw, &k, &have_k) : PZ_ENOMEM;
	if (rc == PZ_OK)
		rc = extends(c, &old, &nw, have_k ? &k : NULL);
	if (rc == PZ_OK)
		rc = save(c, &nw);
	if (rc == PZ_OK) {
		print_head(c, "old", &old);
		print_head(c, "new", &nw);
		print_ok(c, "both heads' signatures, and the new tree "
			 "extends the old");
	}
	free(src);
	return rc;
}

/* --- main ----------------------------------------------------------------- */

static int parse_opts(struct ctx *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "log-id", required_argument, NULL, 'i' },
		{ "log", required_argument, NULL, 'l' },
		{ "since", required_argument, NULL, 's' },
		{ "save-head", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "+k:i:l:s:o:jqh", lo,
				 NULL)) != -1) {
		switch (ch) {
		case 'k': c->o.key = optarg; break;
		case 'i': c->o.log_id = optarg; break;
		case 'l':
			free(c->o.log);
			c->o.log = strdup(optarg);
			if (!c->o.log)
				return PZ_ENOMEM;
			for (size_t n = strlen(c->o.log);
			     n > 0 && c->o.log[n - 1] == '/'; n--)
				c->o.log[n - 1] = '\0';
			break;
		case 's': c->o.since = optarg; break;
		case 'o': c->o.save = optarg; break;
		case 'j': c->o.json = true; break;
		case 'q': c->o.quiet = true; break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		default:
			return usage_error(c, "unknown option");
		}
	}
	if (c->o.log && !pz_verify__is_url(c->o.log))
		return usage_error(c, "--log must be an http(s) URL");
	if (c->o.since && !c->o.log &&
	    !(optind < argc && strcmp(argv[optind], "consistency") == 0))
		return usage_error(c, "--since needs --log URL to fetch the "
				   "consistency proof");
	return PZ_OK;
}

static int run(struct ctx *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct ctx *c, int argc, char **argv);
	} cmds[] = {
		{ "head", cmd_head },
		{ "proof", cmd_proof },
		{ "consistency", cmd_consistency },
	};
	const char *cmd = argv[0];
	int rc;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i].name) == 0) {
			rc = load_key(c);
			return rc == PZ_OK ? cmds[i].fn(c, argc - 1, argv + 1) :
			       rc;
		}
	if (strcmp(cmd, "device") == 0 || strcmp(cmd, "entry") == 0) {
		rc = load_key(c);
		return rc == PZ_OK ? cmd_fetch_bundle(c, argc - 1, argv + 1,
						      cmd[0] == 'd') : rc;
	}
	snprintf(c->err, sizeof(c->err), "unknown command '%s' "
		 "(plaza-verify --help)", cmd);
	return PZ_EINVAL;
}

int main(int argc, char **argv)
{
	struct ctx c;
	int rc, status;

	memset(&c, 0, sizeof(c));
	rc = parse_opts(&c, argc, argv);
	if (rc == -1)
		return 0;
	if (rc == PZ_OK && optind >= argc)
		rc = usage_error(&c, "no command");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c.out = json_object();
	if (rc == PZ_OK && !c.out)
		rc = PZ_ENOMEM;
	if (rc == PZ_OK)
		rc = run(&c, argc - optind, argv + optind);
	if (rc == PZ_ENOMEM && !c.err[0])
		snprintf(c.err, sizeof(c.err), "out of memory");
	status = rc == PZ_OK ? 0 : rc == PZ_ECORRUPT ? EXIT_FAILED :
		 EXIT_ERROR;
	if (rc == PZ_OK && c.o.json) {
		json_dumpf(c.out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	} else if (rc == PZ_ECORRUPT) {
		fprintf(stderr, "plaza-verify: verification failed: %s\n",
			c.err);
	} else if (rc != PZ_OK) {
		fprintf(stderr, "plaza-verify: %s\n", c.err);
	}
	json_decref(c.out);
	free(c.o.log);
	curl_global_cleanup();
	return status;
}
