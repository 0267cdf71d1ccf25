/*
 * pz_loop.h - plazad's single event loop (epoll).
 *
 * One loop owns the core and the store (DESIGN principle 2).  Protocol
 * libraries join it through their file descriptors and timeouts.  Nothing
 * here is thread-safe: every function must be called from the loop's thread.
 */
#ifndef PZ_LOOP_H
#define PZ_LOOP_H

#include <stdint.h>

typedef struct pz_loop pz_loop;

enum {
	PZ_IO_READ = 1,
	PZ_IO_WRITE = 2,
	PZ_IO_ERROR = 4   /* reported only: hang-up or error on the fd */
};

/* Called when fd is ready; events is a mask of PZ_IO_*. */
typedef void (*pz_loop_io_cb)(void *ud, int fd, unsigned events);
/* Called when a timer fires or a hook runs. */
typedef void (*pz_loop_cb)(void *ud);
/* Called before the loop blocks; return nonzero if work is left over so the
 * loop polls without blocking. */
typedef int (*pz_loop_hook_cb)(void *ud);

/*
 * A timer the caller embeds in its own object (no allocation).  Fields are
 * private to the loop; zero-initialise before the first pz_loop_timer_start.
 */
struct pz_timer {
	int64_t due_ms;     /* monotonic deadline */
	uint64_t seq;       /* insertion order, breaks ties */
	long heap_idx;      /* position in the heap, -1 when not armed */
	pz_loop_cb cb;      /* callback */
	void *ud;           /* callback argument, borrowed */
};

/* pz_loop_new - create a loop.  PZ_OK, PZ_ENOMEM or PZ_EIO. */
int pz_loop_new(pz_loop **out);

/* pz_loop_free - destroy the loop (NULL is fine).  Watched fds are not
 * closed; their owners close them. */
void pz_loop_free(pz_loop *loop);

/*
 * pz_loop_io_add - watch fd for events (PZ_IO_READ | PZ_IO_WRITE); cb gets ud
 * (borrowed, must outlive the watch).  PZ_EEXIST if fd is watched already.
 */
int pz_loop_io_add(pz_loop *loop, int fd, unsigned events, pz_loop_io_cb cb,
		   void *ud);

/* pz_loop_io_mod - change the event mask of a watched fd. */
int pz_loop_io_mod(pz_loop *loop, int fd, unsigned events);

/* pz_loop_io_del - stop watching fd; safe to call from inside its callback. */
void pz_loop_io_del(pz_loop *loop, int fd);

/* pz_loop_timer_init - prepare t for use; it is not armed. */
void pz_loop_timer_init(struct pz_timer *t, pz_loop_cb cb, void *ud);

/* pz_loop_timer_start - (re)arm t to fire once after ms milliseconds. */
int pz_loop_timer_start(pz_loop *loop, struct pz_timer *t, int64_t ms);

/* pz_loop_timer_stop - disarm t; harmless when not armed. */
void pz_loop_timer_stop(pz_loop *loop, struct pz_timer *t);

/* pz_loop_hook_add - run cb before every blocking poll, in the order added. */
int pz_loop_hook_add(pz_loop *loop, pz_loop_hook_cb cb, void *ud);

/* pz_loop_hook_del - remove a hook added with the same cb and ud. */
void pz_loop_hook_del(pz_loop *loop, pz_loop_hook_cb cb, void *ud);

/*
 * pz_loop_run_once - run hooks, poll at most timeout_ms (-1 = until an event
 * or timer), dispatch what is ready.  PZ_OK or PZ_EIO.
 */
int pz_loop_run_once(pz_loop *loop, int timeout_ms);

/* pz_loop_run - run until pz_loop_stop is called.  PZ_OK or PZ_EIO. */
int pz_loop_run(pz_loop *loop);

/* pz_loop_stop - make pz_loop_run return after the current iteration. */
void pz_loop_stop(pz_loop *loop);

#endif
