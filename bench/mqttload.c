/*
 * mqttload.c - load generator for the oneM2M MQTT binding (bench/README.md,
 * MQTT section).  C clients (one libmosquitto connection and network
 * thread each) keep W requests outstanding each for D seconds and count
 * the answers, at QoS 1 both ways, through a real broker.
 *
 *   mqttload -p PORT -m create -c C -w W -d D   oneM2M creates: each client
 *       registers an AE (Cbench<k>-<i>) on reg_req, creates container c,
 *       then posts contentInstances to it and waits for the answers on its
 *       resp topic
 *   mqttload -p PORT -m echo ...                the reference: the same
 *       request and answer sizes, but an echo client in this process
 *       answers each request (two broker messages per round trip, nothing
 *       else): mosquitto's own ceiling for this traffic
 *
 * Prints one line: mode, clients, window, seconds, completed round trips,
 * rate/s, p50/p99 latency in ms, and the errors (answers other than 2001).
 * A bench tool: threads are fine here (plazad itself has none).
 */
#include <mosquitto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 256
#define LAT_MAX 2000000

struct client {
	struct mosquitto *m;
	int idx;
	char orig[64];
	char req_topic[128];
	char resp_topic[128];
	atomic_int phase;           /* 0 register, 1 container, 2 load */
	atomic_int ready;           /* setup answers seen */
	unsigned long seq;
	double *sent;               /* send time by seq % window slots */
	int window;
};

static const char *host = "127.0.0.1";
static int port, nclients = 8, window = 8, seconds = 10;
static const char *mode = "create";
static const char *cse = "plaza-in";
static atomic_long done_n, errors;
static atomic_int running;
static double *lat;             /* latencies, ms */
static atomic_long nlat;
static char run_id[16];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void send_one(struct client *c)
{
	char buf[512];
	unsigned long s = c->seq++;
	int n;

	c->sent[s % (unsigned long)c->window] = now_ms();
	n = snprintf(buf, sizeof(buf), "{\"op\":1,\"to\":\"plaza/%s/c\","
		     "\"fr\":\"%s\",\"rqi\":\"%lu\",\"rvi\":\"4\",\"ty\":4,"
		     "\"pc\":{\"m2m:cin\":{\"cnf\":\"text/plain:0\","
		     "\"con\":\"21.5\"}}}", c->orig, c->orig, s);
	mosquitto_publish(c->m, NULL, c->req_topic, n, buf, 1, false);
}

static void setup_step(struct client *c)
{
	char buf[512], topic[128];
	int n;

	if (c->phase == 0) {
		snprintf(topic, sizeof(topic), "/oneM2M/reg_req/%s/%s/json",
			 c->orig, cse);
		n = snprintf(buf, sizeof(buf), "{\"op\":1,\"to\":\"plaza\","
			     "\"fr\":\"%s\",\"rqi\":\"reg\",\"ty\":2,\"pc\":"
			     "{\"m2m:ae\":{\"rn\":\"%s\",\"api\":\"Nbench\","
			     "\"rr\":false,\"srv\":[\"4\"]}}}", c->orig,
			     c->orig);
	} else {
		snprintf(topic, sizeof(topic), "%s", c->req_topic);
		n = snprintf(buf, sizeof(buf), "{\"op\":1,\"to\":\"plaza/%s\","
			     "\"fr\":\"%s\",\"rqi\":\"cnt\",\"ty\":3,\"pc\":"
			     "{\"m2m:cnt\":{\"rn\":\"c\",\"mni\":100}}}",
			     c->orig, c->orig);
	}
	mosquitto_publish(c->m, NULL, topic, n, buf, 1, false);
}

static void on_message(struct mosquitto *m, void *ud,
		       const struct mosquitto_message *msg)
{
	struct client *c = ud;
	const char *p = msg->payload;
	const char *q;
	unsigned long s;

	(void)m;
	if (c->phase < 2) {
		if (!strstr(p, "\"rsc\":2001")) {
			fprintf(stderr, "setup of %s failed: %.*s\n", c->orig,
				msg->payloadlen, p);
			exit(1);
		}
		c->phase++;
		if (c->phase < 2)
			setup_step(c);
		else
			c->ready = 1;
		return;
	}
	q = strstr(p, "\"rqi\":\"");
	if (!strstr(p, "\"rsc\":2001"))
		errors++;
	if (q) {
		s = strtoul(q + 7, NULL, 10);
		long i = nlat++;

		if (i < LAT_MAX)
			lat[i] = now_ms() - c->sent[s % (unsigned long)c->window];
	}
	done_n++;
	if (running)
		send_one(c);
}

/* The echo client of the reference run: answers every request with an
 * answer of plaza's size. */
static void on_echo(struct mosquitto *m, void *ud,
		    const struct mosquitto_message *msg)
{
	char topic[128], buf[512];
	const char *q = strstr(msg->payload, "\"rqi\":\"");
	const char *from = msg->topic + strlen("/oneM2M/req/");
	size_t fl = strcspn(from, "/");
	int n;

	(void)ud;
	snprintf(topic, sizeof(topic), "/oneM2M/resp/%.*s/%s/json", (int)fl,
		 from, cse);
	n = snprintf(buf, sizeof(buf), "{\"rsc\":2001,\"rqi\":\"%lu\","
		     "\"rvi\":\"4\",\"to\":\"%.*s\",\"fr\":\"/%s\",\"pc\":"
		     "{\"m2m:cin\":{\"ty\":4,\"ri\":\"cin123456\",\"rn\":"
		     "\"cin_123456\",\"pi\":\"cnt12\",\"ct\":\"20261125T020000\","
		     "\"lt\":\"20261125T020000\",\"et\":\"99991231T235959\","
		     "\"st\":0,\"cs\":4,\"cnf\":\"text/plain:0\",\"con\":"
		     "\"21.5\"}}}", q ? strtoul(q + 7, NULL, 10) : 0UL,
		     (int)fl, from, cse);
	mosquitto_publish(m, NULL, topic, n, buf, 1, false);
}

static struct mosquitto *connect_client(const char *id, void *ud)
{
	struct mosquitto *m = mosquitto_new(id, true, ud);

	if (!m || mosquitto_max_inflight_messages_set(m, 0) ||
	    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1) ||
	    mosquitto_connect(m, host, port, 60) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "cannot connect %s to %s:%d\n", id, host, port);
		exit(1);
	}
	return m;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static struct client cl[MAX_CLIENTS];
	struct mosquitto *echo = NULL;
	bool is_echo;
	double t0, t1;
	long n0, n;
	int opt;

	while ((opt = getopt(argc, argv, "h:p:m:c:w:d:")) != -1) {
		switch (opt) {
		case 'h': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'm': mode = optarg; break;
		case 'c': nclients = atoi(optarg); break;
		case 'w': window = atoi(optarg); break;
		case 'd': seconds = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: mqttload -p PORT [-h HOST] "
				"[-m create|echo] [-c CLIENTS] [-w WINDOW] "
				"[-d SECONDS]\n");
			return 2;
		}
	}
	if (!port || nclients < 1 || nclients > MAX_CLIENTS || window < 1 ||
	    seconds < 1 || seconds > 600)
		return 2;
	is_echo = !strcmp(mode, "echo");
	lat = calloc(LAT_MAX, sizeof(*lat));
	if (!lat)
		return 1;
	snprintf(run_id, sizeof(run_id), "%x", (unsigned)getpid());
	mosquitto_lib_init();
	if (is_echo) {
		echo = connect_client("bench-echo", NULL);
		mosquitto_message_callback_set(echo, on_echo);
		mosquitto_subscribe(echo, NULL, "/oneM2M/req/+/plaza-in/json",
				    1);
		mosquitto_loop_start(echo);
	}
	for (int i = 0; i < nclients; i++) {
		struct client *c = &cl[i];
		char id[64];

		c->idx = i;
		c->window = window;
		c->sent = calloc((size_t)window, sizeof(double));
		snprintf(c->orig, sizeof(c->orig), "Cbench%s-%d", run_id, i);
		snprintf(c->req_topic, sizeof(c->req_topic),
			 "/oneM2M/req/%s/%s/json", c->orig, cse);
		snprintf(c->resp_topic, sizeof(c->resp_topic),
			 "/oneM2M/resp/%s/%s/json", c->orig, cse);
		snprintf(id, sizeof(id), "load-%s", c->orig);
		c->m = connect_client(id, c);
		mosquitto_message_callback_set(c->m, on_message);
		mosquitto_subscribe(c->m, NULL, c->resp_topic, 1);
		snprintf(id, sizeof(id), "/oneM2M/reg_resp/%s/%s/json",
			 c->orig, cse);
		mosquitto_subscribe(c->m, NULL, id, 1);
		mosquitto_loop_start(c->m);
		if (is_echo) {
			c->phase = 2;
			c->ready = 1;
		}
	}
	usleep(300000);  /* subscriptions in place */
	for (int i = 0; i < nclients && !is_echo; i++)
		setup_step(&cl[i]);
	for (int i = 0; i < nclients; i++)
		while (!cl[i].ready)
			usleep(1000);
	running = 1;
	for (int i = 0; i < nclients; i++)
		for (int k = 0; k < window; k++)
			send_one(&cl[i]);
	/* one second of warm-up, then the measured interval */
	sleep(1);
	n0 = done_n;
	nlat = 0;
	t0 = now_ms();
	sleep((unsigned)seconds);
	n = done_n - n0;
	t1 = now_ms();
	running = 0;
	usleep(500000);
	long k = nlat < LAT_MAX ? nlat : LAT_MAX;

	qsort(lat, (size_t)k, sizeof(*lat), cmp);
	printf("mode=%s clients=%d window=%d seconds=%.1f completed=%ld "
	       "rate=%.0f/s p50=%.2fms p99=%.2fms errors=%ld\n", mode,
	       nclients, window, (t1 - t0) / 1e3, n, n * 1e3 / (t1 - t0),
	       k ? lat[k / 2] : 0, k ? lat[k * 99 / 100] : 0, (long)errors);
	for (int i = 0; i < nclients; i++) {
		mosquitto_disconnect(cl[i].m);
		mosquitto_loop_stop(cl[i].m, true);
		mosquitto_destroy(cl[i].m);
		free(cl[i].sent);
	}
	if (echo) {
		mosquitto_disconnect(echo);
		mosquitto_loop_stop(echo, true);
		mosquitto_destroy(echo);
	}
	mosquitto_lib_cleanup();
	free(lat);
	return errors ? 1 : 0;
}
