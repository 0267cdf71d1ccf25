/*
 * mqtt.c - plaza's requests over the oneM2M MQTT binding (--via
 * mqtt://host:port): the same call as over HTTP, sent as one request
 * primitive (JSON) on /oneM2M/req/<origin>/<CSE-ID>/json (reg_req for a
 * registration) through the broker, answered by the response primitive
 * with the same rqi on the matching resp topic.  One blocking libmosquitto
 * connection per request; the credential goes in the primitive's "token"
 * (docs/mqtt.md).
 */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_int.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"

#define MQ_WAIT_MS 10000     /* how long an answer may take */

struct mq_wait {
	const char *rqi;          /* the request's */
	char *payload;            /* the answer, owned */
	int len;
	bool subscribed;
};

/* id in topic form: leading '/' dropped, inner '/' become ':'. */
static void mq_topic_id(const char *id, char *out, size_t len)
{
	size_t n = 0;

	while (*id == '/')
		id++;
	for (; *id && n + 1 < len; id++)
		out[n++] = *id == '/' ? ':' : *id;
	out[n] = '\0';
}

static int hexval(int ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' :
	       ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
	       ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* Percent-decode s[0..n) into a new string (caller frees). */
static char *pct_decode(const char *s, size_t n)
{
	char *out = pz_malloc(n + 1), *p = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			*p++ = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else {
			*p++ = s[i];
		}
	}
	*p = '\0';
	return out;
}

/* One query parameter into the primitive: rcn, drt and rt at the top,
 * everything else in fc (a repeated name becomes a list). */
static int mq_param(json_t *prim, json_t *fc, const char *k, const char *v)
{
	json_t *old;

	if (!strcmp(k, "rcn") || !strcmp(k, "drt"))
		return json_object_set_new(prim, k, json_integer(atoll(v)));
	if (!strcmp(k, "rt"))
		return json_object_set_new(prim, "rt", json_pack("{s:I}",
					   "rtv", (json_int_t)atoll(v)));
	old = json_object_get(fc, k);
	if (!old)
		return json_object_set_new(fc, k, json_string(v));
	if (json_is_array(old))
		return json_array_append_new(old, json_string(v));
	return json_object_set_new(fc, k, json_pack("[O,s]", old, v));
}

static int mq_query(json_t *prim, const char *q)
{
	json_t *fc = json_object();
	int rc = 0;

	if (!fc)
		return -1;
	while (q && *q && !rc) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);
		char *k = pct_decode(q, eq ? (size_t)(eq - q) : n);
		char *v = eq ? pct_decode(eq + 1, n - (size_t)(eq - q) - 1) :
			  pz_strdup("");

		rc = k && v ? mq_param(prim, fc, k, v) : -1;
		pz_free(k);
		pz_free(v);
		q += n + (q[n] == '&');
	}
	if (!rc && json_object_size(fc))
		return json_object_set_new(prim, "fc", fc);
	json_decref(fc);
	return rc;
}

/* The request primitive for call; NULL when out of memory. */
static json_t *mq_primitive(struct cli *c, const struct call *call,
			    const char *origin, const char *rqi)
{
	const char *m = call->method;
	int op = !strcmp(m, "GET") ? 2 : !strcmp(m, "PUT") ? 3 :
		 !strcmp(m, "DELETE") ? 4 : call->ty ? 1 : 5;
	json_t *prim = json_pack("{s:i,s:s,s:s,s:s,s:s}", "op", op, "to",
				 call->path, "fr", origin, "rqi", rqi, "rvi",
				 "4");

	if (!prim)
		return NULL;
	if ((call->ty && json_object_set_new(prim, "ty",
					     json_integer(call->ty))) ||
	    (call->pc && json_object_set(prim, "pc", (json_t *)call->pc)) ||
	    mq_query(prim, call->query) ||
	    (!call->anonymous && cli__token(c) &&
	     json_object_set_new(prim, "token", json_string(c->token)))) {
		json_decref(prim);
		return NULL;
	}
	return prim;
}

static void mq_on_subscribe(struct mosquitto *m, void *ud, int mid,
			    int n, const int *qos)
{
	struct mq_wait *w = ud;

	(void)m;
	(void)mid;
	(void)n;
	(void)qos;
	w->subscribed = true;
}

static void mq_on_message(struct mosquitto *m, void *ud,
			  const struct mosquitto_message *msg)
{
	struct mq_wait *w = ud;
	json_t *doc;
	const char *rqi;

	(void)m;
	if (w->payload)
		return;
	doc = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
	rqi = json_string_value(json_object_get(doc, "rqi"));
	if (rqi && !strcmp(rqi, w->rqi)) {
		w->payload = pz_malloc((size_t)msg->payloadlen + 1);
		if (w->payload) {
			memcpy(w->payload, msg->payload,
			       (size_t)msg->payloadlen);
			w->payload[msg->payloadlen] = '\0';
			w->len = msg->payloadlen;
		}
	}
	json_decref(doc);
}

/* "mqtt://host:port[/CSE-ID]" into host, port and cse. */
static int mq_parse_url(const char *url, char *host, size_t hlen, int *port,
			char *cse, size_t clen)
{
	const char *p = url + 7, *colon, *slash;
	char *end;
	long n;

	if (strncmp(url, "mqtt://", 7))
		return PZ_EINVAL;
	slash = strchr(p, '/');
	colon = memchr(p, ':', slash ? (size_t)(slash - p) : strlen(p));
	if (!colon || colon == p || (size_t)(colon - p) >= hlen)
		return PZ_EINVAL;
	memcpy(host, p, (size_t)(colon - p));
	host[colon - p] = '\0';
	n = strtol(colon + 1, &end, 10);
	if (n < 1 || n > 65535 || (*end && *end != '/'))
		return PZ_EINVAL;
	*port = (int)n;
	snprintf(cse, clen, "%s", slash && slash[1] ? slash + 1 : "plaza-in");
	return PZ_OK;
}

/* The answer primitive into r, as the HTTP path would fill it. */
static int mq_reply(const char *payload, int len, struct reply *r)
{
	json_t *doc = json_loadb(payload, (size_t)len, 0, NULL), *pc;
	const char *tok;
	char *body;

	if (!doc || !json_is_integer(json_object_get(doc, "rsc"))) {
		json_decref(doc);
		return cli__say(PZ_EIO, "malformed answer primitive");
	}
	r->rsc = (int)json_integer_value(json_object_get(doc, "rsc"));
	r->http = 0;
	tok = json_string_value(json_object_get(doc, "token"));
	if (tok)
		snprintf(r->token, sizeof(r->token), "%s", tok);
	pc = json_object_get(doc, "pc");
	if (pc) {
		/* cli__outcome parses the body into r->doc, as for HTTP. */
		body = json_dumps(pc, JSON_COMPACT);
		if (body)
			pz_buf_adds(&r->body, body);
		free(body);
	}
	json_decref(doc);
	return PZ_OK;
}

static long mq_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cli__mqtt_call(struct cli *c, const struct call *call, struct reply *r)
{
	char host[256], cse[256], orig[256], rqi[64], topic[640];
	const char *origin = call->origin ? call->origin : c->origin;
	bool reg = call->ty == 2 && !strcmp(call->method, "POST");
	struct mosquitto *m = NULL;
	struct mq_wait w = { 0 };
	json_t *prim = NULL;
	char *payload = NULL;
	int port, rc;
	long deadline;

	if (call->mgmt)
		return cli__usage_error("this command needs HTTP (--url); "
					"--via mqtt:// carries oneM2M "
					"requests only");
	if (mq_parse_url(c->via, host, sizeof(host), &port, cse,
			 sizeof(cse)) != PZ_OK)
		return cli__usage_error("--via must be mqtt://HOST:PORT"
					"[/CSE-ID], not '%s'", c->via);
	mq_topic_id(origin, orig, sizeof(orig));
	mq_topic_id(cse, cse, sizeof(cse));
	snprintf(rqi, sizeof(rqi), "cli-%ld-%lu", (long)getpid(), ++c->rqn);
	w.rqi = rqi;
	prim = mq_primitive(c, call, origin, rqi);
	payload = prim ? json_dumps(prim, JSON_COMPACT) : NULL;
	if (!payload) {
		rc = cli__say(PZ_ENOMEM, "out of memory");
		goto out;
	}
	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, &w);
	if (!m) {
		rc = cli__say(PZ_ENOMEM, "out of memory");
		goto out;
	}
	mosquitto_subscribe_callback_set(m, mq_on_subscribe);
	mosquitto_message_callback_set(m, mq_on_message);
	if (mosquitto_connect(m, host, port, 30) != MOSQ_ERR_SUCCESS) {
		rc = cli__say(PZ_EAGAIN, "cannot reach the broker at %s:%d",
			      host, port);
		goto out;
	}
	snprintf(topic, sizeof(topic), "/oneM2M/%s/%s/%s/json",
		 reg ? "reg_resp" : "resp", orig, cse);
	mosquitto_subscribe(m, NULL, topic, 1);
	deadline = mq_ms() + MQ_WAIT_MS;
	while (!w.subscribed && mq_ms() < deadline &&
	       mosquitto_loop(m, 100, 1) == MOSQ_ERR_SUCCESS)
		;
	snprintf(topic, sizeof(topic), "/oneM2M/%s/%s/%s/json",
		 reg ? "reg_req" : "req", orig, cse);
	mosquitto_publish(m, NULL, topic, (int)strlen(payload), payload, 1,
			  false);
	while (!w.payload && mq_ms() < deadline &&
	       mosquitto_loop(m, 100, 1) == MOSQ_ERR_SUCCESS)
		;
	if (!w.payload) {
		rc = cli__say(PZ_EAGAIN, "no answer from plazad through %s:%d "
			      "within %d s", host, port, MQ_WAIT_MS / 1000);
		goto out;
	}
	rc = mq_reply(w.payload, w.len, r);
	if (rc == PZ_OK)
		rc = cli__outcome(c, call, r);
out:
	if (m) {
		mosquitto_disconnect(m);
		mosquitto_destroy(m);
	}
	mosquitto_lib_cleanup();
	pz_free(w.payload);
	free(payload);
	json_decref(prim);
	return rc;
}
