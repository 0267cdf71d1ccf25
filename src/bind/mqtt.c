/*
 * mqtt.c - the oneM2M MQTT binding (TS-0010) on libmosquitto 2.
 *
 * plazad is a client of a real broker.  libmosquitto is driven from
 * plazad's loop, never from a thread of its own: its socket
 * (mosquitto_socket) is watched for reading, and for writing while
 * mosquitto_want_write says it has bytes queued; a one-second timer runs
 * mosquitto_loop_misc (keepalive pings); a loop hook flushes what the
 * core's answers queued before the loop sleeps.  A lost connection is
 * retried with exponential back-off (0.25 s doubling to 30 s), and every
 * (re)connection subscribes again.
 *
 * Requests: /oneM2M/req/+/<CSE-ID>/+ and /oneM2M/reg_req/+/<CSE-ID>/+ at
 * QoS 1.  Each is mapped (mqtt_map.c), submitted to the core and answered
 * at QoS 1 on the matching resp / reg_resp topic.  QoS 1 means a request
 * can arrive twice (a redelivery after a broker restart, or a requester
 * that repeats a request it got no answer to), so the answers to every
 * request other than a Retrieve are remembered by (originator, rqi) for
 * opts.dedup_ms: a repeat gets the stored answer again and never runs
 * twice; a repeat of a request still in the core is dropped (its answer
 * is on its way).
 *
 * Notifications: pz_mqtt_send publishes a Notify primitive on
 * /oneM2M/req/<CSE-ID>/<AE-ID>/json and waits for the answer with the
 * same rqi on /oneM2M/resp/<CSE-ID>/<AE-ID>/+.
 */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <time.h>

#include "plaza/pz_err.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_mqtt.h"

#define MQ_BACKOFF_MIN 250      /* first retry, ms */
#define MQ_BACKOFF_MAX 30000    /* longest wait between retries, ms */
#define MQ_MISC_MS 1000         /* mosquitto_loop_misc period */
#define MQ_TOPIC_MAX 600
#define MQ_BURST 256           /* reads per readiness, at most */

/* One request between the broker and the core. */
struct mq_job {
	struct pz_mqtt *m;
	struct mq_job *next, *prev;    /* in pz_mqtt.jobs */
	struct mq_dup *dup;            /* its duplicate record, or NULL */
	bool answered;                 /* answered by pz_mqtt_drain */
	bool refused;                  /* refused before the core */
	enum pz_fmt fmt;               /* the requester's serialisation */
	char topic[MQ_TOPIC_MAX];      /* where the answer goes */
	char orig[PZ_MQTT_ID_MAX];     /* the topic's originator */
	struct pz_req req;
	struct pz_rsp rsp;
};

/* A request seen, by (originator, rqi); answered ones keep the answer. */
struct mq_dup {
	struct mq_dup *hnext;          /* hash chain */
	struct mq_dup *newer;          /* FIFO, oldest first */
	const char *key;               /* "originator\nrqi", in mem */
	const char *topic;             /* the answer's topic, in mem */
	uint32_t hash;
	bool answered;                 /* false while the core has it */
	int64_t expires;               /* monotonic ms, once answered */
	void *payload;                 /* the answer, owned */
	size_t len;
	char mem[];                    /* key and topic: one allocation */
};

/* A notification waiting for its answer. */
struct mq_out {
	struct mq_out *next;
	struct pz_mqtt *m;
	char rqi[64];
	struct pz_rsp *rsp;            /* the core's, borrowed */
	pz_core_done_cb cb;
	void *ud;
	struct pz_timer timer;         /* notify timeout */
};

struct pz_mqtt {
	pz_loop *loop;                 /* borrowed */
	pz_core *core;                 /* borrowed */
	struct pz_mqtt_opts o;         /* strings are ours (see mq_strdup) */
	char host[256];
	int port;
	struct mosquitto *mosq;        /* owned */
	int fd;                        /* watched socket, -1 if none */
	unsigned ev;                   /* its watched events */
	bool connected;                /* CONNACK accepted */
	bool stopping;
	bool retrying;                 /* the retry timer is armed */
	bool corked;                   /* TCP_CORK set on fd (mq_cork) */
	int64_t backoff;               /* next retry delay, ms */
	struct pz_timer misc;          /* keepalive */
	struct pz_timer retry;         /* reconnection */
	char cse[PZ_MQTT_ID_MAX];      /* the CSE-ID in topic form */
	char cse_fr[PZ_MQTT_ID_MAX + 1];  /* "/<CSE-ID>" */
	struct mq_job *jobs;
	struct mq_dup **buckets;
	size_t nbuckets;
	struct mq_dup *oldest, *newest;
	size_t ndups;
	struct mq_out *outs;
	uint64_t received, answered, duplicates, refused;
};

static int mq_started;

static int64_t mq_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- socket and loop ------------------------------------------------------ */

/*
 * Writes between two sleeps of the loop are corked (TCP_CORK): the
 * PUBACKs of a burst of requests and the answers of a committed batch
 * leave as a few full segments instead of one segment (and one trip
 * through the loopback stack) per message.  mq_hook uncorks before the
 * loop sleeps, so nothing waits for the kernel's 200 ms cork timeout.
 */
static void mq_cork(struct pz_mqtt *m, bool on)
{
	int v = on;

	if (m->fd < 0 || m->corked == on)
		return;
	if (!setsockopt(m->fd, IPPROTO_TCP, TCP_CORK, &v, sizeof(v)))
		m->corked = on;
}

static void mq_io(void *ud, int fd, unsigned events);

/* Watch libmosquitto's current socket with the events it needs now. */
static void mq_sync(struct pz_mqtt *m)
{
	int fd = m->mosq ? mosquitto_socket(m->mosq) : -1;
	unsigned ev = PZ_IO_READ;

	if (fd >= 0 && mosquitto_want_write(m->mosq))
		ev |= PZ_IO_WRITE;
	if (fd != m->fd && m->fd >= 0) {
		pz_loop_io_del(m->loop, m->fd);
		m->fd = -1;
	}
	if (fd != m->fd)
		m->corked = false;  /* a new socket */
	if (fd < 0)
		return;
	if (m->fd < 0) {
		if (pz_loop_io_add(m->loop, fd, ev, mq_io, m) == PZ_OK) {
			m->fd = fd;
			m->ev = ev;
		}
		return;
	}
	if (ev != m->ev && pz_loop_io_mod(m->loop, fd, ev) == PZ_OK)
		m->ev = ev;
}

static void mq_schedule_retry(struct pz_mqtt *m)
{
	if (m->stopping || m->retrying)
		return;
	m->retrying = true;
	pz_loop_timer_start(m->loop, &m->retry, m->backoff);
	pz_log(PZ_INFO, "mqtt", "reconnecting to %s:%d in %lld ms", m->host,
	       m->port, (long long)m->backoff);
	m->backoff = m->backoff * 2 > MQ_BACKOFF_MAX ? MQ_BACKOFF_MAX :
		     m->backoff * 2;
}

/* After libmosquitto reported an error: the connection is gone. */
static void mq_lost(struct pz_mqtt *m, int rc)
{
	m->corked = false;
	if (m->fd >= 0) {
		pz_loop_io_del(m->loop, m->fd);
		m->fd = -1;
	}
	if (m->connected)
		pz_log(PZ_WARN, "mqtt", "connection to %s:%d lost: %s", m->host,
		       m->port, mosquitto_strerror(rc));
	m->connected = false;
	mq_schedule_retry(m);
}

static void mq_io(void *ud, int fd, unsigned events)
{
	struct pz_mqtt *m = ud;
	int rc = MOSQ_ERR_SUCCESS;

	mq_cork(m, true);
	/* libmosquitto reads a few packets per call and buffers nothing
	 * ahead, so keep reading while the socket holds bytes: one loop
	 * turn then serves a burst, not one packet. */
	for (int i = 0; (events & (PZ_IO_READ | PZ_IO_ERROR)) && i < MQ_BURST;
	     i++) {
		int left = 0;

		rc = mosquitto_loop_read(m->mosq, 1);
		if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(m->mosq) != fd ||
		    ioctl(fd, FIONREAD, &left) || left <= 0)
			break;
	}
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(m->mosq))
		rc = mosquitto_loop_write(m->mosq, 1);
	if (rc != MOSQ_ERR_SUCCESS) {
		mq_lost(m, rc);
		return;
	}
	mq_sync(m);
}

static void mq_misc(void *ud)
{
	struct pz_mqtt *m = ud;
	int rc;

	pz_loop_timer_start(m->loop, &m->misc, MQ_MISC_MS);
	if (m->fd < 0)
		return;
	rc = mosquitto_loop_misc(m->mosq);
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(m->mosq))
		rc = mosquitto_loop_write(m->mosq, 1);
	if (rc != MOSQ_ERR_SUCCESS) {
		mq_lost(m, rc);
		return;
	}
	mq_sync(m);
}

static void mq_retry(void *ud)
{
	struct pz_mqtt *m = ud;
	int rc;

	m->retrying = false;
	rc = mosquitto_reconnect_async(m->mosq);
	if (rc != MOSQ_ERR_SUCCESS) {
		pz_log(PZ_INFO, "mqtt", "cannot reach %s:%d: %s", m->host,
		       m->port, mosquitto_strerror(rc));
		mq_schedule_retry(m);
		return;
	}
	mq_sync(m);
}

/* Before the loop sleeps: write what the core's answers queued. */
static int mq_hook(void *ud)
{
	struct pz_mqtt *m = ud;
	int rc;

	if (m->fd < 0)
		return 0;
	if (mosquitto_want_write(m->mosq)) {
		rc = mosquitto_loop_write(m->mosq, 1);
		if (rc != MOSQ_ERR_SUCCESS) {
			mq_lost(m, rc);
			return 0;
		}
		mq_sync(m);
	}
	mq_cork(m, false);
	return 0;
}

/* --- publishing ---------------------------------------------------------- */

static int mq_publish(struct pz_mqtt *m, const char *topic, const void *p,
		      size_t len)
{
	int rc;

	mq_cork(m, true);
	rc = mosquitto_publish(m->mosq, NULL, topic, (int)len, p, 1, false);
	/* Not connected: libmosquitto keeps a QoS 1 message and sends it
	 * after the reconnection. */
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
		pz_log(PZ_WARN, "mqtt", "publish on %s failed: %s", topic,
		       mosquitto_strerror(rc));
	return rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN ? PZ_OK :
	       PZ_EIO;
}

/* --- duplicates ---------------------------------------------------------- */

static uint32_t mq_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void mq_dup_free(struct mq_dup *d)
{
	pz_free(d->payload);
	pz_free(d);
}

static void mq_dup_unhash(struct pz_mqtt *m, struct mq_dup *d)
{
	struct mq_dup **pp = &m->buckets[d->hash % m->nbuckets];

	while (*pp && *pp != d)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = d->hnext;
}

/* Forget answered records past their time or over the cap (oldest
 * first; a record still in the core stops the sweep). */
static void mq_dup_expire(struct pz_mqtt *m)
{
	int64_t now = mq_now();
	struct mq_dup *d;

	while ((d = m->oldest) && d->answered &&
	       (d->expires <= now || m->ndups > m->o.dedup_max)) {
		m->oldest = d->newer;
		if (!m->oldest)
			m->newest = NULL;
		mq_dup_unhash(m, d);
		mq_dup_free(d);
		m->ndups--;
	}
}

static struct mq_dup *mq_dup_find(struct pz_mqtt *m, const char *key,
				  uint32_t h)
{
	for (struct mq_dup *d = m->buckets[h % m->nbuckets]; d; d = d->hnext)
		if (d->hash == h && !strcmp(d->key, key))
			return d;
	return NULL;
}

/* Keep chains short: double the table when it holds two records a
 * bucket (a failed allocation keeps the old one, only slower). */
static void mq_dup_grow(struct pz_mqtt *m)
{
	size_t n = m->nbuckets * 2;
	struct mq_dup **b;

	if (m->ndups < m->nbuckets * 2 || n > (1u << 24))
		return;
	b = pz_calloc(n, sizeof(*b));
	if (!b)
		return;
	for (struct mq_dup *d = m->oldest; d; d = d->newer) {
		d->hnext = b[d->hash % n];
		b[d->hash % n] = d;
	}
	pz_free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

static struct mq_dup *mq_dup_add(struct pz_mqtt *m, const char *key,
				 const char *topic, uint32_t h)
{
	size_t kn = strlen(key) + 1, tn = strlen(topic) + 1;
	struct mq_dup *d;

	mq_dup_grow(m);
	d = pz_calloc(1, sizeof(*d) + kn + tn);
	if (!d)
		return NULL;  /* only weakens duplicate detection */
	memcpy(d->mem, key, kn);
	memcpy(d->mem + kn, topic, tn);
	d->key = d->mem;
	d->topic = d->mem + kn;
	d->hash = h;
	d->hnext = m->buckets[h % m->nbuckets];
	m->buckets[h % m->nbuckets] = d;
	if (m->newest)
		m->newest->newer = d;
	else
		m->oldest = d;
	m->newest = d;
	m->ndups++;
	return d;
}

/* --- requests ------------------------------------------------------------ */

static void mq_job_free(struct mq_job *j)
{
	if (!j)
		return;
	if (j->prev)
		j->prev->next = j->next;
	else if (j->m->jobs == j)
		j->m->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	pz_req_clear(&j->req);
	pz_rsp_clear(&j->rsp);
	pz_free(j);
}

/* Publish j's answer; a deduplicated request keeps it for repeats. */
static void mq_answer(struct mq_job *j)
{
	struct pz_mqtt *m = j->m;
	struct pz_buf b;
	int rc;

	pz_buf_init(&b, 0);
	rc = pz_mqtt_answer(&j->rsp, j->req.rqi, !j->refused && j->req.fr &&
			    *j->req.fr ? j->req.fr : j->orig, m->cse_fr,
			    j->fmt, &b);
	if (rc != PZ_OK) {
		pz_log(PZ_ERROR, "mqtt", "cannot write an answer: %s",
		       pz_strerror(rc));
		pz_buf_free(&b);
		return;
	}
	mq_publish(m, j->topic, b.data, b.len);
	m->answered++;
	if (j->dup) {
		j->dup->answered = true;
		j->dup->expires = mq_now() + m->o.dedup_ms;
		j->dup->len = b.len;
		j->dup->payload = pz_buf_take(&b);
		j->dup = NULL;
		mq_dup_expire(m);
	}
	pz_buf_free(&b);
}

static void mq_done(void *ud, struct pz_rsp *rsp)
{
	struct mq_job *j = ud;

	(void)rsp;
	if (!j->answered)
		mq_answer(j);
	mq_job_free(j);
}

/* Refuse before the core: rsc with a readable reason, logged. */
static void mq_refuse(struct mq_job *j, int rsc, const char *msg)
{
	j->m->refused++;
	j->refused = true;
	pz_log(PZ_INFO, "mqtt", "%s: request %.64s rejected: rsc=%d %s",
	       j->orig, j->req.rqi ? j->req.rqi : "(no rqi)", rsc, msg);
	pz_rsp_clear(&j->rsp);
	pz_rsp_init(&j->rsp);
	j->rsp.rsc = rsc;
	j->rsp.pc = json_pack("{s:s}", "m2m:dbg", msg);
	snprintf(j->rsp.rvi, sizeof(j->rsp.rvi), "%s",
		 j->req.rvi ? j->req.rvi : "4");
	mq_answer(j);
}

/* How the binding vouches for the originator (docs/mqtt.md). */
static void mq_auth(struct pz_mqtt *m, struct mq_job *j)
{
	struct pz_req *req = &j->req;

	if (req->auth == PZ_AUTH_SECRET)
		return;  /* the primitive's token, checked by the core */
	if (req->op == PZ_OP_CREATE && req->ty == PZ_TY_AE)
		return;  /* a registration: the core decides (open or not) */
	if (!m->o.trust_topic)
		return;
	req->auth = PZ_AUTH_PEER;
	req->auth_id = req->fr && *req->fr ? req->fr :
		       pz_arena_strdup(&req->arena, j->orig);
	if (!req->auth_id)
		req->auth = PZ_AUTH_NONE;
}

/* A repeat of a request seen before?  True when handled (answered again
 * or dropped); otherwise j->dup records this one. */
static bool mq_repeat(struct pz_mqtt *m, struct mq_job *j)
{
	char key[PZ_MQTT_ID_MAX + 4200];  /* rqi: 4096 at most (mqtt_map.c) */
	uint32_t h;
	struct mq_dup *d;

	if (j->req.op == PZ_OP_RETRIEVE || !m->o.dedup_max ||
	    (size_t)snprintf(key, sizeof(key), "%s\n%s", j->orig,
			     j->req.rqi) >= sizeof(key))
		return false;
	h = mq_hash(key);
	mq_dup_expire(m);
	d = mq_dup_find(m, key, h);
	if (!d) {
		j->dup = mq_dup_add(m, key, j->topic, h);
		return false;
	}
	m->duplicates++;
	if (d->answered) {
		pz_log(PZ_INFO, "mqtt", "%s: request %.64s repeated: answered "
		       "again, not run again", j->orig, j->req.rqi);
		mq_publish(m, d->topic, d->payload, d->len);
	} else {
		pz_log(PZ_INFO, "mqtt", "%s: request %.64s repeated while it "
		       "runs: dropped", j->orig, j->req.rqi);
	}
	return true;
}

static void mq_request(struct pz_mqtt *m, const struct pz_mqtt_topic *t,
		       const struct mosquitto_message *msg)
{
	struct mq_job *j = pz_calloc(1, sizeof(*j));
	struct pz_mqtt_in in = { 0 };
	struct pz_mqtt_out out;
	int rc;

	if (!j)
		return;
	j->m = m;
	j->fmt = t->fmt;
	snprintf(j->orig, sizeof(j->orig), "%s", t->from);
	pz_req_init(&j->req);
	pz_rsp_init(&j->rsp);
	snprintf(j->topic, sizeof(j->topic), "%s/oneM2M/%s/%s/%s/%s", m->o.prefix,
		 t->kind == PZ_MQTT_REG_REQ ? "reg_resp" : "resp", t->from,
		 t->to, t->fmt == PZ_FMT_CBOR ? "cbor" : "json");
	m->received++;
	in.orig = j->orig;
	in.reg = t->kind == PZ_MQTT_REG_REQ;
	in.fmt = t->fmt;
	in.payload = msg->payload;
	in.len = (size_t)msg->payloadlen;
	in.max_len = m->o.max_payload;
	in.limits = &m->o.limits;
	j->req.binding = "mqtt";
	j->req.peer = j->orig;
	rc = pz_mqtt_map(&in, &j->req, &out);
	if (rc == PZ_ENOMEM)
		mq_refuse(j, PZ_RSC_INTERNAL_SERVER_ERROR, "out of memory");
	else if (rc != PZ_OK)
		mq_refuse(j, out.rsc, out.msg);
	if (rc != PZ_OK || mq_repeat(m, j)) {
		mq_job_free(j);
		return;
	}
	mq_auth(m, j);
	j->next = m->jobs;
	if (m->jobs)
		m->jobs->prev = j;
	m->jobs = j;
	pz_core_submit(m->core, &j->req, &j->rsp, mq_done, j);
}

/* --- notifications ------------------------------------------------------- */

static void mq_out_unlink(struct mq_out *o)
{
	struct mq_out **pp = &o->m->outs;

	while (*pp && *pp != o)
		pp = &(*pp)->next;
	if (*pp)
		*pp = o->next;
	pz_loop_timer_stop(o->m->loop, &o->timer);
}

static void mq_out_timeout(void *ud)
{
	struct mq_out *o = ud;

	mq_out_unlink(o);
	pz_log(PZ_INFO, "mqtt", "notification %s: no answer in %ld ms",
	       o->rqi, o->m->o.notify_timeout_ms);
	o->rsp->rsc = PZ_RSC_REQUEST_TIMEOUT;
	o->cb(o->ud, o->rsp);
	pz_free(o);
}

static void mq_response(struct pz_mqtt *m, const struct pz_mqtt_topic *t,
			const struct mosquitto_message *msg)
{
	struct pz_rsp rsp;
	struct mq_out *o;

	pz_rsp_init(&rsp);
	if (pz_mqtt_response_parse(msg->payload, (size_t)msg->payloadlen,
				   t->fmt, &rsp) != PZ_OK || !rsp.rqi) {
		pz_log(PZ_INFO, "mqtt", "%s: unreadable answer to a "
		       "notification ignored", t->to);
		goto out;
	}
	for (o = m->outs; o && strcmp(o->rqi, rsp.rqi); o = o->next)
		;
	if (!o) {
		pz_log(PZ_DEBUG, "mqtt", "%s: answer to unknown request %.64s",
		       t->to, rsp.rqi);
		goto out;
	}
	mq_out_unlink(o);
	o->rsp->rsc = rsp.rsc;
	o->cb(o->ud, o->rsp);
	pz_free(o);
out:
	pz_rsp_clear(&rsp);
}

int pz_mqtt_send(void *ctx, const char *url, struct pz_req *req,
		 struct pz_rsp *rsp, pz_core_done_cb cb, void *ud)
{
	struct pz_mqtt *m = ctx;
	size_t n = strlen(m->o.broker);
	char ae[PZ_MQTT_ID_MAX], to[PZ_MQTT_ID_MAX], topic[MQ_TOPIC_MAX];
	struct pz_req copy = *req;
	struct mq_out *o;
	struct pz_buf b;
	const char *path, *qs;
	enum pz_fmt fmt;
	size_t plen;
	int rc;

	if (strncmp(url, "mqtt://", 7) || strncmp(url + 7, m->o.broker, n) ||
	    url[7 + n] != '/') {
		pz_log(PZ_INFO, "mqtt", "cannot notify %.100s: plazad reaches "
		       "MQTT subscribers only through its broker %s", url,
		       m->o.broker);
		return PZ_EINVAL;
	}
	/* mqtt://broker/<AE-ID>[?ct=json|cbor] */
	path = url + 8 + n;
	qs = strchr(path, '?');
	plen = qs ? (size_t)(qs - path) : strlen(path);
	if (qs && strcmp(qs, "?ct=json") && strcmp(qs, "?ct=cbor"))
		return PZ_EINVAL;
	fmt = qs && !strcmp(qs, "?ct=cbor") ? PZ_FMT_CBOR : PZ_FMT_JSON;
	if (!m->connected || !req->rqi || strlen(req->rqi) >= sizeof(o->rqi) ||
	    !plen || plen >= sizeof(to))
		return PZ_EIO;
	memcpy(to, path, plen);
	to[plen] = '\0';
	if (pz_mqtt_topic_id(to, ae, sizeof(ae)) != PZ_OK)
		return PZ_EIO;
	copy.to = to;
	pz_buf_init(&b, 0);
	rc = pz_mqtt_request(&copy, fmt, &b);
	o = rc == PZ_OK ? pz_calloc(1, sizeof(*o)) : NULL;
	if (!o) {
		pz_buf_free(&b);
		return rc == PZ_OK ? PZ_ENOMEM : rc;
	}
	o->m = m;
	snprintf(o->rqi, sizeof(o->rqi), "%s", req->rqi);
	o->rsp = rsp;
	o->cb = cb;
	o->ud = ud;
	snprintf(topic, sizeof(topic), "%s/oneM2M/req/%s/%s/%s",
		 m->o.prefix, m->cse, ae, fmt == PZ_FMT_CBOR ? "cbor" : "json");
	rc = mq_publish(m, topic, b.data, b.len);
	pz_buf_free(&b);
	if (rc != PZ_OK) {
		pz_free(o);
		return rc;
	}
	pz_loop_timer_init(&o->timer, mq_out_timeout, o);
	pz_loop_timer_start(m->loop, &o->timer, m->o.notify_timeout_ms);
	o->next = m->outs;
	m->outs = o;
	return PZ_OK;
}

/* --- libmosquitto callbacks ---------------------------------------------- */

static void mq_on_message(struct mosquitto *mosq, void *ud,
			  const struct mosquitto_message *msg)
{
	struct pz_mqtt *m = ud;
	struct pz_mqtt_topic t;

	(void)mosq;
	if (pz_mqtt_topic_parse(msg->topic, m->o.prefix, &t) != PZ_OK) {
		pz_log(PZ_DEBUG, "mqtt", "message on %.200s ignored",
		       msg->topic);
		return;
	}
	if ((t.kind == PZ_MQTT_REQ || t.kind == PZ_MQTT_REG_REQ) &&
	    !strcmp(t.to, m->cse) && msg->retain) {
		/* A retained request would run again at every subscription:
		 * it is not a request, it is a stale copy of one. */
		pz_log(PZ_INFO, "mqtt", "%s: retained message on %.200s "
		       "ignored", t.from, msg->topic);
		return;
	}
	if ((t.kind == PZ_MQTT_REQ || t.kind == PZ_MQTT_REG_REQ) &&
	    !strcmp(t.to, m->cse))
		mq_request(m, &t, msg);
	else if (t.kind == PZ_MQTT_RESP && !strcmp(t.from, m->cse))
		mq_response(m, &t, msg);
}

static void mq_on_connect(struct mosquitto *mosq, void *ud, int rc)
{
	struct pz_mqtt *m = ud;
	char subs[3][MQ_TOPIC_MAX];
	char *list[3] = { subs[0], subs[1], subs[2] };

	if (rc) {
		pz_log(PZ_WARN, "mqtt", "broker %s:%d refused the connection: "
		       "%s", m->host, m->port, mosquitto_connack_string(rc));
		return;  /* libmosquitto disconnects; mq_lost retries */
	}
	m->connected = true;
	m->backoff = MQ_BACKOFF_MIN;
	snprintf(subs[0], MQ_TOPIC_MAX, "%s/oneM2M/req/+/%s/+", m->o.prefix,
		 m->cse);
	snprintf(subs[1], MQ_TOPIC_MAX, "%s/oneM2M/reg_req/+/%s/+",
		 m->o.prefix, m->cse);
	snprintf(subs[2], MQ_TOPIC_MAX, "%s/oneM2M/resp/%s/+/+", m->o.prefix,
		 m->cse);
	rc = mosquitto_subscribe_multiple(mosq, NULL, 3, list, 1, 0, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		pz_log(PZ_WARN, "mqtt", "subscribing failed: %s",
		       mosquitto_strerror(rc));
	pz_log(PZ_INFO, "mqtt", "connected to %s:%d, serving %s/oneM2M/"
	       "{req,reg_req}/+/%s/+", m->host, m->port, m->o.prefix, m->cse);
}

static void mq_on_disconnect(struct mosquitto *mosq, void *ud, int rc)
{
	(void)mosq;
	mq_lost(ud, rc ? rc : MOSQ_ERR_CONN_LOST);
}

static void mq_on_log(struct mosquitto *mosq, void *ud, int level,
		      const char *str)
{
	(void)mosq;
	(void)ud;
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		pz_log(PZ_INFO, "mqtt", "libmosquitto: %s", str);
}

/* --- setup --------------------------------------------------------------- */

static int mq_strdup(const char **s)
{
	char *c = pz_strdup(*s ? *s : "");

	*s = c;
	return c ? PZ_OK : PZ_ENOMEM;
}

/* "host:port" or "[v6]:port" into m->host and m->port. */
static int mq_broker(struct pz_mqtt *m, const char *b)
{
	const char *colon = strrchr(b, ':'), *h = b;
	size_t n;
	char *end;
	long port;

	if (!colon || colon == b)
		return PZ_EINVAL;
	n = (size_t)(colon - b);
	if (*b == '[' && colon[-1] == ']') {
		h = b + 1;
		n -= 2;
	}
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535 || !n || n >= sizeof(m->host))
		return PZ_EINVAL;
	memcpy(m->host, h, n);
	m->host[n] = '\0';
	m->port = (int)port;
	return PZ_OK;
}

static int mq_settings(struct pz_mqtt *m)
{
	int rc = MOSQ_ERR_SUCCESS;

	if (*m->o.username)
		rc = mosquitto_username_pw_set(m->mosq, m->o.username,
					       *m->o.password ? m->o.password :
					       NULL);
	if (rc == MOSQ_ERR_SUCCESS && *m->o.tls_ca)
		rc = mosquitto_tls_set(m->mosq, m->o.tls_ca, NULL,
				       *m->o.tls_cert ? m->o.tls_cert : NULL,
				       *m->o.tls_key ? m->o.tls_key : NULL,
				       NULL);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION,
					  MQTT_PROTOCOL_V311);
	/* Answers are QoS 1: no cap on those awaiting their PUBACK (the
	 * default, 20, would hold answers back under load). */
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_max_inflight_messages_set(m->mosq, 0);
	/* Answers are small writes: without TCP_NODELAY, Nagle's algorithm
	 * and the broker's delayed ACKs hold them up to 40 ms each. */
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if (rc != MOSQ_ERR_SUCCESS) {
		pz_log(PZ_ERROR, "mqtt", "libmosquitto refused the settings: %s",
		       mosquitto_strerror(rc));
		return PZ_EIO;
	}
	mosquitto_connect_callback_set(m->mosq, mq_on_connect);
	mosquitto_disconnect_callback_set(m->mosq, mq_on_disconnect);
	mosquitto_message_callback_set(m->mosq, mq_on_message);
	mosquitto_log_callback_set(m->mosq, mq_on_log);
	return PZ_OK;
}

int pz_mqtt_new(pz_loop *loop, pz_core *core, const struct pz_mqtt_opts *o,
		pz_mqtt **out)
{
	pz_mqtt *m = pz_calloc(1, sizeof(*m));
	char cid[PZ_MQTT_ID_MAX + 8];
	int rc = PZ_ENOMEM;

	if (!m)
		return PZ_ENOMEM;
	m->loop = loop;
	m->core = core;
	m->o = *o;
	m->fd = -1;
	m->backoff = MQ_BACKOFF_MIN;
	pz_loop_timer_init(&m->misc, mq_misc, m);
	pz_loop_timer_init(&m->retry, mq_retry, m);
	if (mq_strdup(&m->o.broker) || mq_strdup(&m->o.cse_id) ||
	    mq_strdup(&m->o.client_id) || mq_strdup(&m->o.prefix) ||
	    mq_strdup(&m->o.username) || mq_strdup(&m->o.password) ||
	    mq_strdup(&m->o.tls_ca) || mq_strdup(&m->o.tls_cert) ||
	    mq_strdup(&m->o.tls_key))
		goto fail;
	if (!m->o.keepalive)
		m->o.keepalive = 60;
	if (!m->o.max_payload)
		m->o.max_payload = 1 << 20;
	if (!m->o.limits.max_bytes)
		m->o.limits = pz_codec_default_limits;
	if (!m->o.notify_timeout_ms)
		m->o.notify_timeout_ms = 5000;
	m->nbuckets = 4096;
	m->buckets = pz_calloc(m->nbuckets, sizeof(*m->buckets));
	if (!m->buckets)
		goto fail;
	rc = PZ_EINVAL;
	if (mq_broker(m, m->o.broker) != PZ_OK ||
	    pz_mqtt_topic_id(m->o.cse_id, m->cse, sizeof(m->cse)) != PZ_OK) {
		pz_log(PZ_ERROR, "mqtt", "bad mqtt.broker '%s' (host:port)",
		       m->o.broker);
		goto fail;
	}
	snprintf(m->cse_fr, sizeof(m->cse_fr), "/%s", m->cse);
	snprintf(cid, sizeof(cid), "plaza-%s", m->cse);
	if (!mq_started) {
		mosquitto_lib_init();
		mq_started = 1;
	}
	rc = PZ_EIO;
	/* A persistent session: while plazad reconnects (the broker stays
	 * up), the broker keeps its QoS 1 requests for it. */
	m->mosq = mosquitto_new(*m->o.client_id ? m->o.client_id : cid, false,
				m);
	if (!m->mosq || mq_settings(m) != PZ_OK)
		goto fail;
	rc = mosquitto_connect_async(m->mosq, m->host, m->port,
				     m->o.keepalive);
	if (rc != MOSQ_ERR_SUCCESS) {
		pz_log(PZ_WARN, "mqtt", "cannot reach %s:%d yet: %s", m->host,
		       m->port, mosquitto_strerror(rc));
		mq_schedule_retry(m);
	}
	rc = pz_loop_hook_add(loop, mq_hook, m);
	if (rc != PZ_OK)
		goto fail;
	pz_loop_timer_start(loop, &m->misc, MQ_MISC_MS);
	mq_sync(m);
	pz_log(PZ_INFO, "mqtt", "MQTT binding for /%s via %s:%d (client %s)",
	       m->cse, m->host, m->port,
	       *m->o.client_id ? m->o.client_id : cid);
	*out = m;
	return PZ_OK;
fail:
	pz_mqtt_free(m);
	return rc;
}

void pz_mqtt_drain(pz_mqtt *m)
{
	if (!m)
		return;
	for (struct mq_job *j = m->jobs; j; j = j->next) {
		if (j->answered)
			continue;
		j->answered = true;
		pz_rsp_clear(&j->rsp);
		pz_rsp_init(&j->rsp);
		j->rsp.rsc = PZ_RSC_INTERNAL_SERVER_ERROR;
		j->rsp.pc = json_pack("{s:s}", "m2m:dbg",
				      "plazad is shutting down");
		mq_answer(j);
	}
	for (int i = 0; i < 3 && m->fd >= 0 && mosquitto_want_write(m->mosq);
	     i++)
		mosquitto_loop_write(m->mosq, 1);
	mq_cork(m, false);
}

void pz_mqtt_free(pz_mqtt *m)
{
	if (!m)
		return;
	m->stopping = true;
	pz_loop_hook_del(m->loop, mq_hook, m);
	pz_loop_timer_stop(m->loop, &m->misc);
	pz_loop_timer_stop(m->loop, &m->retry);
	if (m->fd >= 0)
		pz_loop_io_del(m->loop, m->fd);
	m->fd = -1;
	if (m->mosq) {
		mosquitto_disconnect(m->mosq);
		mosquitto_destroy(m->mosq);
	}
	while (m->jobs)
		mq_job_free(m->jobs);
	while (m->outs) {
		struct mq_out *o = m->outs;

		m->outs = o->next;
		pz_loop_timer_stop(m->loop, &o->timer);
		pz_free(o);
	}
	while (m->oldest) {
		struct mq_dup *d = m->oldest;

		m->oldest = d->newer;
		mq_dup_free(d);
	}
	pz_free(m->buckets);
	pz_free((char *)m->o.broker);
	pz_free((char *)m->o.cse_id);
	pz_free((char *)m->o.client_id);
	pz_free((char *)m->o.prefix);
	pz_free((char *)m->o.username);
	pz_free((char *)m->o.password);
	pz_free((char *)m->o.tls_ca);
	pz_free((char *)m->o.tls_cert);
	pz_free((char *)m->o.tls_key);
	pz_free(m);
}
