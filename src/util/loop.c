/*
 * loop.c - epoll event loop with a timer heap and pre-poll hooks.
 *
 * fd watchers live in an array indexed by fd; timers form a binary min-heap
 * ordered by (deadline, insertion sequence).  Hooks run before each poll; the
 * core uses one to commit the current write batch before sleeping.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "plaza/pz_err.h"
#include "plaza/pz_log.h"
#include "plaza/pz_loop.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"

#define LOOP_MAX_EVENTS 256
#define LOOP_MAX_HOOKS 16

struct loop_watch {
	pz_loop_io_cb cb;   /* NULL when the slot is free */
	void *ud;           /* borrowed */
	unsigned events;    /* PZ_IO_* mask */
};

struct loop_hook {
	pz_loop_hook_cb cb;
	void *ud;
};

struct pz_loop {
	int epfd;                      /* owned */
	struct loop_watch *watch;      /* indexed by fd, owned */
	int nwatch;                    /* slots in watch */
	struct pz_timer **heap;        /* timer heap, owned array */
	long nheap, capheap;
	uint64_t seq;                  /* timer insertion counter */
	struct loop_hook hooks[LOOP_MAX_HOOKS];
	int nhooks;
	int stop;                      /* set by pz_loop_stop */
};

int pz_loop_new(pz_loop **out)
{
	pz_loop *loop = pz_calloc(1, sizeof(*loop));

	if (!loop)
		return PZ_ENOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		pz_free(loop);
		return PZ_EIO;
	}
	*out = loop;
	return PZ_OK;
}

void pz_loop_free(pz_loop *loop)
{
	if (!loop)
		return;
	close(loop->epfd);
	pz_free(loop->watch);
	pz_free(loop->heap);
	pz_free(loop);
}

static uint32_t loop_epoll_mask(unsigned events)
{
	uint32_t m = 0;

	if (events & PZ_IO_READ)
		m |= EPOLLIN;
	if (events & PZ_IO_WRITE)
		m |= EPOLLOUT;
	return m;
}

int pz_loop_io_add(pz_loop *loop, int fd, unsigned events, pz_loop_io_cb cb,
		   void *ud)
{
	struct epoll_event ev = { 0 };

	if (fd < 0 || !cb)
		return PZ_EINVAL;
	if (fd >= loop->nwatch) {
		int n = loop->nwatch ? loop->nwatch : 64;
		struct loop_watch *w;

		while (n <= fd)
			n *= 2;
		w = pz_realloc(loop->watch, (size_t)n * sizeof(*w));
		if (!w)
			return PZ_ENOMEM;
		memset(w + loop->nwatch, 0,
		       (size_t)(n - loop->nwatch) * sizeof(*w));
		loop->watch = w;
		loop->nwatch = n;
	}
	if (loop->watch[fd].cb)
		return PZ_EEXIST;
	ev.events = loop_epoll_mask(events);
	ev.data.fd = fd;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		pz_log(PZ_ERROR, "loop", "epoll add fd %d: %s", fd,
		       strerror(errno));
		return PZ_EIO;
	}
	loop->watch[fd].cb = cb;
	loop->watch[fd].ud = ud;
	loop->watch[fd].events = events;
	return PZ_OK;
}

int pz_loop_io_mod(pz_loop *loop, int fd, unsigned events)
{
	struct epoll_event ev = { 0 };

	if (fd < 0 || fd >= loop->nwatch || !loop->watch[fd].cb)
		return PZ_ENOTFOUND;
	if (loop->watch[fd].events == events)
		return PZ_OK;
	ev.events = loop_epoll_mask(events);
	ev.data.fd = fd;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return PZ_EIO;
	loop->watch[fd].events = events;
	return PZ_OK;
}

void pz_loop_io_del(pz_loop *loop, int fd)
{
	if (fd < 0 || fd >= loop->nwatch || !loop->watch[fd].cb)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->watch[fd].cb = NULL;
	loop->watch[fd].ud = NULL;
	loop->watch[fd].events = 0;
}

/* --- timer heap ---------------------------------------------------------- */

static int timer_less(const struct pz_timer *a, const struct pz_timer *b)
{
	if (a->due_ms != b->due_ms)
		return a->due_ms < b->due_ms;
	return a->seq < b->seq;
}

static void heap_set(pz_loop *loop, long i, struct pz_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(pz_loop *loop, long i)
{
	struct pz_timer *t = loop->heap[i];

	while (i > 0) {
		long parent = (i - 1) / 2;

		if (!timer_less(t, loop->heap[parent]))
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, t);
}

static void heap_down(pz_loop *loop, long i)
{
	struct pz_timer *t = loop->heap[i];

	for (;;) {
		long c = 2 * i + 1;

		if (c >= loop->nheap)
			break;
		if (c + 1 < loop->nheap &&
		    timer_less(loop->heap[c + 1], loop->heap[c]))
			c++;
		if (!timer_less(loop->heap[c], t))
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void pz_loop_timer_init(struct pz_timer *t, pz_loop_cb cb, void *ud)
{
	memset(t, 0, sizeof(*t));
	t->heap_idx = -1;
	t->cb = cb;
	t->ud = ud;
}

void pz_loop_timer_stop(pz_loop *loop, struct pz_timer *t)
{
	long i = t->heap_idx;
	struct pz_timer *last;

	if (i < 0 || i >= loop->nheap || loop->heap[i] != t)
		return;
	t->heap_idx = -1;
	last = loop->heap[--loop->nheap];
	if (i == loop->nheap)
		return;
	heap_set(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->heap_idx);
}

int pz_loop_timer_start(pz_loop *loop, struct pz_timer *t, int64_t ms)
{
	pz_loop_timer_stop(loop, t);
	if (loop->nheap == loop->capheap) {
		long cap = loop->capheap ? loop->capheap * 2 : 64;
		struct pz_timer **h;

		h = pz_realloc(loop->heap, (size_t)cap * sizeof(*h));
		if (!h)
			return PZ_ENOMEM;
		loop->heap = h;
		loop->capheap = cap;
	}
	t->due_ms = pz_time_mono_ms() + (ms > 0 ? ms : 0);
	t->seq = loop->seq++;
	heap_set(loop, loop->nheap++, t);
	heap_up(loop, t->heap_idx);
	return PZ_OK;
}

int pz_loop_hook_add(pz_loop *loop, pz_loop_hook_cb cb, void *ud)
{
	if (loop->nhooks == LOOP_MAX_HOOKS)
		return PZ_ENOMEM;
	loop->hooks[loop->nhooks].cb = cb;
	loop->hooks[loop->nhooks].ud = ud;
	loop->nhooks++;
	return PZ_OK;
}

void pz_loop_hook_del(pz_loop *loop, pz_loop_hook_cb cb, void *ud)
{
	for (int i = 0; i < loop->nhooks; i++) {
		if (loop->hooks[i].cb != cb || loop->hooks[i].ud != ud)
			continue;
		memmove(&loop->hooks[i], &loop->hooks[i + 1],
			(size_t)(loop->nhooks - i - 1) * sizeof(loop->hooks[0]));
		loop->nhooks--;
		return;
	}
}

/* Fire every timer that is due; a callback may re-arm its own timer. */
static void loop_run_timers(pz_loop *loop)
{
	int64_t now = pz_time_mono_ms();
	uint64_t horizon = loop->seq;  /* timers armed from callbacks wait */

	while (loop->nheap > 0) {
		struct pz_timer *t = loop->heap[0];

		if (t->due_ms > now || t->seq >= horizon)
			break;
		pz_loop_timer_stop(loop, t);
		t->cb(t->ud);
	}
}

int pz_loop_run_once(pz_loop *loop, int timeout_ms)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int busy = 0, n, i;

	for (i = 0; i < loop->nhooks; i++)
		busy |= loop->hooks[i].cb(loop->hooks[i].ud);
	if (busy)
		timeout_ms = 0;
	if (loop->nheap > 0 && timeout_ms != 0) {
		int64_t wait = loop->heap[0]->due_ms - pz_time_mono_ms();

		if (wait < 0)
			wait = 0;
		if (timeout_ms < 0 || wait < timeout_ms)
			timeout_ms = wait > 60000 ? 60000 : (int)wait;
	}
	n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return PZ_OK;
		pz_log(PZ_ERROR, "loop", "epoll_wait: %s", strerror(errno));
		return PZ_EIO;
	}
	for (i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		unsigned ev = 0;

		if (fd >= loop->nwatch || !loop->watch[fd].cb)
			continue;  /* removed by an earlier callback */
		if (evs[i].events & EPOLLIN)
			ev |= PZ_IO_READ;
		if (evs[i].events & EPOLLOUT)
			ev |= PZ_IO_WRITE;
		if (evs[i].events & (EPOLLERR | EPOLLHUP))
			ev |= PZ_IO_ERROR | PZ_IO_READ;
		loop->watch[fd].cb(loop->watch[fd].ud, fd, ev);
	}
	loop_run_timers(loop);
	return PZ_OK;
}

int pz_loop_run(pz_loop *loop)
{
	int rc = PZ_OK;

	loop->stop = 0;
	while (!loop->stop && rc == PZ_OK)
		rc = pz_loop_run_once(loop, -1);
	return rc;
}

void pz_loop_stop(pz_loop *loop)
{
	loop->stop = 1;
}
