/*
 * test_loop.c - the event loop: timers fire in deadline order (ties in
 * the order armed), stop and restart, re-arming from a callback; fd
 * watches on a pipe (read, write, hang-up, removal inside a callback);
 * pre-poll hooks; pz_loop_run / pz_loop_stop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "plaza/pz_err.h"
#include "plaza/pz_loop.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"

#define NT 64

/* What the callbacks record. */
struct rec {
	pz_loop *loop;
	int order[256];             /* ids in firing order */
	int n;
	struct pz_timer t[NT];
	int rearm_left;             /* test_rearm */
	int fd_events[4];           /* test_io */
	unsigned last_mask;
	int last_fd;
	int hook_calls[4];
	int hook_busy;
	char log[64];               /* hook and timer interleaving */
	size_t nlog;
};

struct tid {
	struct rec *r;
	int id;
};

static struct tid ids[NT];

static int setup(void **state)
{
	struct rec *r = pz_calloc(1, sizeof(*r));

	if (!r || pz_loop_new(&r->loop) != PZ_OK)
		return -1;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rec *r = *state;

	pz_loop_free(r->loop);
	pz_free(r);
	return 0;
}

static void on_timer(void *ud)
{
	struct tid *t = ud;

	t->r->order[t->r->n++] = t->id;
	if (t->r->nlog < sizeof(t->r->log) - 1)
		t->r->log[t->r->nlog++] = 'T';
}

static void arm(struct rec *r, int id, int64_t ms)
{
	ids[id].r = r;
	ids[id].id = id;
	if (r->t[id].cb == NULL)
		pz_loop_timer_init(&r->t[id], on_timer, &ids[id]);
	assert_int_equal(pz_loop_timer_start(r->loop, &r->t[id], ms), PZ_OK);
}

/* Run the loop until want timers fired or limit_ms passed. */
static void run_until(struct rec *r, int want, int64_t limit_ms)
{
	int64_t end = pz_time_mono_ms() + limit_ms;

	while (r->n < want && pz_time_mono_ms() < end)
		assert_int_equal(pz_loop_run_once(r->loop, 50), PZ_OK);
}

static void test_timer_order(void **state)
{
	struct rec *r = *state;

	arm(r, 3, 30);
	arm(r, 1, 10);
	arm(r, 2, 20);
	arm(r, 10, 0);
	arm(r, 11, 0);   /* same deadline: in the order armed */
	arm(r, 12, -5);  /* negative means now */
	run_until(r, 6, 2000);
	assert_int_equal(r->n, 6);
	assert_int_equal(r->order[0], 10);
	assert_int_equal(r->order[1], 11);
	assert_int_equal(r->order[2], 12);
	assert_int_equal(r->order[3], 1);
	assert_int_equal(r->order[4], 2);
	assert_int_equal(r->order[5], 3);
	/* Nothing fires twice. */
	assert_int_equal(pz_loop_run_once(r->loop, 40), PZ_OK);
	assert_int_equal(r->n, 6);
}

static void test_timer_not_early(void **state)
{
	struct rec *r = *state;
	int64_t start = pz_time_mono_ms();

	arm(r, 0, 60);
	run_until(r, 1, 2000);
	assert_int_equal(r->n, 1);
	assert_true(pz_time_mono_ms() - start >= 60);
}

static void test_timer_stop_restart(void **state)
{
	struct rec *r = *state;
	struct pz_timer zero;

	arm(r, 1, 10);
	arm(r, 2, 20);
	arm(r, 3, 30);
	pz_loop_timer_stop(r->loop, &r->t[2]);
	pz_loop_timer_stop(r->loop, &r->t[2]);   /* twice is harmless */
	/* Restarting moves a timer: 3 now comes first, once. */
	arm(r, 3, 0);
	run_until(r, 2, 2000);
	assert_int_equal(pz_loop_run_once(r->loop, 60), PZ_OK);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->order[0], 3);
	assert_int_equal(r->order[1], 1);
	/* Stopping a timer that already fired or never ran is harmless. */
	pz_loop_timer_stop(r->loop, &r->t[1]);
	memset(&zero, 0, sizeof(zero));
	pz_loop_timer_stop(r->loop, &zero);
	/* A stopped timer can be armed again. */
	arm(r, 2, 0);
	run_until(r, 3, 2000);
	assert_int_equal(r->order[2], 2);
}

/* Many timers, every third stopped: the rest fire in deadline order (the
 * heap stays ordered under removal from the middle). */
static void test_timer_heap(void **state)
{
	struct rec *r = *state;
	int fired = 0;
	int64_t last_due = 0;

	for (int i = 0; i < NT; i++)
		arm(r, i, (i * 37) % 41);
	for (int i = 0; i < NT; i += 3)
		pz_loop_timer_stop(r->loop, &r->t[i]);
	for (int i = 0; i < NT; i++)
		fired += i % 3 != 0;
	run_until(r, fired, 3000);
	assert_int_equal(r->n, fired);
	for (int k = 0; k < r->n; k++) {
		int id = r->order[k];

		assert_true(id % 3 != 0);
		assert_true(r->t[id].due_ms >= last_due);
		last_due = r->t[id].due_ms;
	}
}

static struct rec *rearm_rec;

static void on_rearm(void *ud)
{
	struct rec *r = rearm_rec;

	(void)ud;
	r->order[r->n++] = 99;
	if (--r->rearm_left > 0)
		pz_loop_timer_start(r->loop, &r->t[0], 0);
}

/* A callback that re-arms its timer at 0 ms does not starve the loop:
 * the timer fires once per iteration. */
static void test_timer_rearm(void **state)
{
	struct rec *r = *state;

	rearm_rec = r;
	r->rearm_left = 3;
	pz_loop_timer_init(&r->t[0], on_rearm, NULL);
	assert_int_equal(pz_loop_timer_start(r->loop, &r->t[0], 0), PZ_OK);
	assert_int_equal(pz_loop_run_once(r->loop, 0), PZ_OK);
	assert_int_equal(r->n, 1);
	assert_int_equal(pz_loop_run_once(r->loop, 0), PZ_OK);
	assert_int_equal(r->n, 2);
	assert_int_equal(pz_loop_run_once(r->loop, 0), PZ_OK);
	assert_int_equal(r->n, 3);
	assert_int_equal(pz_loop_run_once(r->loop, 0), PZ_OK);
	assert_int_equal(r->n, 3);
}

static struct rec *io_rec;

static void on_io(void *ud, int fd, unsigned events)
{
	struct rec *r = io_rec;
	int slot = (int)(intptr_t)ud;

	r->fd_events[slot]++;
	r->last_mask = events;
	r->last_fd = fd;
}

static void on_io_del(void *ud, int fd, unsigned events)
{
	struct rec *r = io_rec;

	(void)ud;
	(void)events;
	r->fd_events[3]++;
	pz_loop_io_del(r->loop, fd);
}

static void test_io(void **state)
{
	struct rec *r = *state;
	int p[2];
	char c;

	io_rec = r;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pz_loop_io_add(r->loop, p[0], PZ_IO_READ, on_io,
					(void *)(intptr_t)0), PZ_OK);
	assert_int_equal(pz_loop_io_add(r->loop, p[0], PZ_IO_READ, on_io,
					NULL), PZ_EEXIST);
	assert_int_equal(pz_loop_io_add(r->loop, -1, PZ_IO_READ, on_io, NULL),
			 PZ_EINVAL);
	assert_int_equal(pz_loop_io_add(r->loop, p[1], PZ_IO_READ, NULL,
					NULL), PZ_EINVAL);
	/* Nothing to read: the poll times out. */
	assert_int_equal(pz_loop_run_once(r->loop, 10), PZ_OK);
	assert_int_equal(r->fd_events[0], 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(pz_loop_run_once(r->loop, 1000), PZ_OK);
	assert_int_equal(r->fd_events[0], 1);
	assert_int_equal(r->last_fd, p[0]);
	assert_true(r->last_mask & PZ_IO_READ);
	assert_false(r->last_mask & PZ_IO_ERROR);
	assert_int_equal(read(p[0], &c, 1), 1);

	/* The write end is writable at once. */
	assert_int_equal(pz_loop_io_add(r->loop, p[1], PZ_IO_WRITE, on_io,
					(void *)(intptr_t)1), PZ_OK);
	assert_int_equal(pz_loop_run_once(r->loop, 1000), PZ_OK);
	assert_int_equal(r->fd_events[1], 1);
	assert_true(r->last_mask & PZ_IO_WRITE);
	/* Switched to read interest it goes quiet. */
	assert_int_equal(pz_loop_io_mod(r->loop, p[1], PZ_IO_READ), PZ_OK);
	assert_int_equal(pz_loop_io_mod(r->loop, p[1], PZ_IO_READ), PZ_OK);
	assert_int_equal(pz_loop_run_once(r->loop, 10), PZ_OK);
	assert_int_equal(r->fd_events[1], 1);
	pz_loop_io_del(r->loop, p[1]);
	pz_loop_io_del(r->loop, p[1]);  /* twice is harmless */
	assert_int_equal(pz_loop_io_mod(r->loop, p[1], PZ_IO_READ),
			 PZ_ENOTFOUND);
	assert_int_equal(pz_loop_io_mod(r->loop, 9999, PZ_IO_READ),
			 PZ_ENOTFOUND);

	/* The writer hangs up: the reader hears READ and ERROR. */
	close(p[1]);
	assert_int_equal(pz_loop_run_once(r->loop, 1000), PZ_OK);
	assert_int_equal(r->fd_events[0], 2);
	assert_true(r->last_mask & PZ_IO_ERROR);
	assert_true(r->last_mask & PZ_IO_READ);
	pz_loop_io_del(r->loop, p[0]);
	close(p[0]);
}

/* A watch can remove itself; a high fd number grows the table. */
static void test_io_del_in_callback(void **state)
{
	struct rec *r = *state;
	int p[2], hi;

	io_rec = r;
	assert_int_equal(pipe(p), 0);
	hi = dup2(p[0], 700);
	assert_int_equal(hi, 700);
	assert_int_equal(pz_loop_io_add(r->loop, hi, PZ_IO_READ, on_io_del,
					NULL), PZ_OK);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(pz_loop_run_once(r->loop, 1000), PZ_OK);
	assert_int_equal(pz_loop_run_once(r->loop, 10), PZ_OK);
	assert_int_equal(r->fd_events[3], 1);
	/* Removed, so it can be added again. */
	assert_int_equal(pz_loop_io_add(r->loop, hi, PZ_IO_READ, on_io,
					(void *)(intptr_t)2), PZ_OK);
	assert_int_equal(pz_loop_run_once(r->loop, 1000), PZ_OK);
	assert_int_equal(r->fd_events[2], 1);
	pz_loop_io_del(r->loop, hi);
	close(hi);
	close(p[0]);
	close(p[1]);
}

static struct rec *hook_rec;

static int on_hook(void *ud)
{
	struct rec *r = hook_rec;
	int i = (int)(intptr_t)ud;

	r->hook_calls[i]++;
	if (r->nlog < sizeof(r->log) - 1)
		r->log[r->nlog++] = (char)('a' + i);
	return i == 0 ? r->hook_busy : 0;
}

static void test_hooks(void **state)
{
	struct rec *r = *state;
	int64_t start;

	hook_rec = r;
	assert_int_equal(pz_loop_hook_add(r->loop, on_hook,
					  (void *)(intptr_t)0), PZ_OK);
	assert_int_equal(pz_loop_hook_add(r->loop, on_hook,
					  (void *)(intptr_t)1), PZ_OK);
	/* Hooks run before the poll, in the order added, then timers. */
	arm(r, 0, 0);
	assert_int_equal(pz_loop_run_once(r->loop, 100), PZ_OK);
	r->log[r->nlog] = '\0';
	assert_string_equal(r->log, "abT");
	/* A busy hook makes the poll non-blocking. */
	r->hook_busy = 1;
	start = pz_time_mono_ms();
	assert_int_equal(pz_loop_run_once(r->loop, 5000), PZ_OK);
	assert_true(pz_time_mono_ms() - start < 1000);
	r->hook_busy = 0;
	/* Removed hooks stop running; the others keep their order. */
	pz_loop_hook_del(r->loop, on_hook, (void *)(intptr_t)0);
	pz_loop_hook_del(r->loop, on_hook, (void *)(intptr_t)3); /* absent */
	assert_int_equal(pz_loop_run_once(r->loop, 0), PZ_OK);
	assert_int_equal(r->hook_calls[0], 2);
	assert_int_equal(r->hook_calls[1], 3);
	pz_loop_hook_del(r->loop, on_hook, (void *)(intptr_t)1);
	/* The table holds a fixed number of hooks. */
	int added = 0;

	while (pz_loop_hook_add(r->loop, on_hook, (void *)(intptr_t)2) ==
	       PZ_OK && added < 100)
		added++;
	assert_true(added >= 4 && added < 100);
	assert_int_equal(pz_loop_hook_add(r->loop, on_hook,
					  (void *)(intptr_t)2), PZ_ENOMEM);
}

static struct rec *stop_rec;

static void on_stop(void *ud)
{
	(void)ud;
	stop_rec->n++;
	pz_loop_stop(stop_rec->loop);
}

static void test_run_stop(void **state)
{
	struct rec *r = *state;

	stop_rec = r;
	pz_loop_timer_init(&r->t[0], on_stop, NULL);
	assert_int_equal(pz_loop_timer_start(r->loop, &r->t[0], 20), PZ_OK);
	assert_int_equal(pz_loop_run(r->loop), PZ_OK);
	assert_int_equal(r->n, 1);
	/* It can run again. */
	assert_int_equal(pz_loop_timer_start(r->loop, &r->t[0], 0), PZ_OK);
	assert_int_equal(pz_loop_run(r->loop), PZ_OK);
	assert_int_equal(r->n, 2);
}

/* run_once(-1) waits for the next timer, not forever. */
static void test_run_once_waits_for_timer(void **state)
{
	struct rec *r = *state;

	arm(r, 0, 30);
	while (r->n == 0)
		assert_int_equal(pz_loop_run_once(r->loop, -1), PZ_OK);
	assert_int_equal(r->n, 1);
}

static void test_alloc_failure(void **state)
{
	unsigned long n;
	int rc = PZ_ENOMEM;

	(void)state;
	for (n = 1; n < 100; n++) {
		pz_loop *loop = NULL;
		struct pz_timer t;
		int p[2];

		assert_int_equal(pipe(p), 0);
		pz_mem_fail_after(n);
		rc = pz_loop_new(&loop);
		if (rc == PZ_OK) {
			pz_loop_timer_init(&t, on_timer, NULL);
			rc = pz_loop_timer_start(loop, &t, 1000);
			if (rc == PZ_OK)
				rc = pz_loop_io_add(loop, p[0], PZ_IO_READ,
						    on_io, NULL);
			pz_loop_free(loop);
		}
		pz_mem_fail_after(0);
		close(p[0]);
		close(p[1]);
		if (rc == PZ_OK)
			break;
		assert_int_equal(rc, PZ_ENOMEM);
	}
	assert_int_equal(rc, PZ_OK);
	pz_loop_free(NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_timer_order),
		T(test_timer_not_early),
		T(test_timer_stop_restart),
		T(test_timer_heap),
		T(test_timer_rearm),
		T(test_io),
		T(test_io_del_in_callback),
		T(test_hooks),
		T(test_run_stop),
		T(test_run_once_waits_for_timer),
		T(test_alloc_failure),
	};

	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
