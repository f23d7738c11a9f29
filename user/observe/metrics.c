// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Prometheus exposition over libmicrohttpd.
 *
 * Who touches what:
 * - The agent's thread (the one that owns its state) renders the body with
 *   metrics_publish() into an immutable, refcounted buffer and swaps it in
 *   as the current one. That is the only place the render callback runs.
 * - Rendering is on demand, at most once per state: the agent bumps the
 *   generation at each tick (metrics_invalidate()) and renders nothing
 *   until a scrape asks. A /metrics request that finds the current body
 *   older than the generation is suspended (MHD), queued on the waiting
 *   list and the agent is woken through wake_fd; the agent renders once
 *   (metrics_serve_pending()) and resumes every waiting request, which is
 *   then answered with the new body. A request the agent does not answer
 *   within METRICS_RENDER_WAIT_MS (a stalled loop) is resumed by the HTTP
 *   thread and gets the body there is, if any (else 503). So an unscraped
 *   agent renders nothing, and N scrapes in one tick cost one render.
 * - The HTTP thread (ours, running MHD in external-poll mode) never sees the
 *   agent's state: /metrics takes a reference on the current body under
 *   body_mutex (held for a pointer read and an increment, or a list
 *   change, never across I/O or a render) and streams from it; /healthz
 *   and /readyz read two atomics, so they answer while a render runs.
 * - A body is freed when its last reference goes: the agent's swap, the
 *   next tick (metrics_invalidate() lets a body go that no response
 *   streams: none is held between scrapes), or the end of the last
 *   response that streams it. N slow clients share the bodies they started
 *   on; at most METRICS_MAX_BODIES exist at once (the agent keeps the
 *   current one instead of rendering another).
 * - Every connection has a deadline: each request must be answered and
 *   sent within METRICS_DEADLINE_S of the connection's start or of its
 *   previous response. The HTTP thread shuts down the socket of one that
 *   overstays; MHD closes it. Connections are also limited in number, per
 *   source address, in pool memory and in kernel send buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include "clock.h"
#include "hist.h"
#include "log.h"
#include "metrics.h"

/* One rendered body: immutable once published. */
struct body {
	atomic_uint refs;
	struct metrics_server *s;
	uint64_t gen;		/* of the state it was rendered from */
	size_t len;		/* of data */
	char *data;		/* the render's own buffer, not a copy */
};

/* A /metrics request that waited: the body it is answered with. */
struct req {
	struct body *bd;	/* a reference, or NULL: nothing to serve */
};

/* A /metrics request suspended until the agent renders. */
struct waiter {
	struct MHD_Connection *conn;
	struct req *rq;
	uint64_t since_ns;
};

/* A connection as the HTTP thread tracks it, for its deadline. */
struct conn {
	struct conn *prev, *next;
	int fd;
	bool cut;		/* shut down, MHD will close it */
	uint64_t deadline_ns;
};

struct metrics_server {
	struct MHD_Daemon *daemon;
	metrics_render_fn render;
	void *ctx;
	char addr[128];
	/* agent thread only */
	size_t last_len;	/* of the last body: the next render's first size */
	uint64_t nr_renders;
	bool skip_logged;
	/* shared */
	pthread_mutex_t body_mutex;	/* guards cur, waiting, nr_waiting */
	struct body *cur;
	struct waiter waiting[METRICS_MAX_CONNECTIONS];
	unsigned int nr_waiting;
	_Atomic uint64_t gen;	/* bumped by the agent when its state changed */
	int wake_fd;		/* eventfd: a request waits for a render */
	atomic_uint nr_bodies;	/* allocated: current + those still streaming */
	atomic_bool stop;
	/* HTTP thread only */
	pthread_t thread;
	bool thread_started;
	struct conn conns;	/* list head */
	uint64_t next_sweep_ns;
	uint64_t log_window_ns;
	unsigned int log_count;
};

static atomic_bool metrics_ready;
static _Atomic uint64_t metrics_last_beat_ns;
static atomic_uint metrics_health_timeout_s = METRICS_HEALTH_TIMEOUT_DEFAULT;

/* ---- strbuf ---- */

void strbuf_init(struct strbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void strbuf_reset(struct strbuf *b)
{
	b->len = 0;
	if (b->buf)
		b->buf[0] = '\0';
}

void strbuf_free(struct strbuf *b)
{
	free(b->buf);
	strbuf_init(b);
}

static int strbuf_grow(struct strbuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->err)
		return b->err;
	if (b->len + need + 1 <= b->cap)
		return 0;
	while (cap < b->len + need + 1)
		cap *= 2;
	p = realloc(b->buf, cap);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->buf = p;
	b->cap = cap;
	return 0;
}

void strbuf_append(struct strbuf *b, const char *s, size_t n)
{
	if (strbuf_grow(b, n))
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || strbuf_grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* ---- health state ---- */

void metrics_set_ready(bool ready)
{
	atomic_store(&metrics_ready, ready);
}

void metrics_heartbeat(uint64_t now_ns)
{
	atomic_store(&metrics_last_beat_ns, now_ns);
}

void metrics_set_health_timeout(unsigned int seconds)
{
	atomic_store(&metrics_health_timeout_s, seconds);
}

bool metrics_is_healthy(uint64_t last_beat_ns, uint64_t now_ns,
			unsigned int timeout_s)
{
	if (now_ns < last_beat_ns)	/* a beat raced our clock read */
		return true;
	return now_ns - last_beat_ns <= (uint64_t)timeout_s * 1000000000ULL;
}

/* ---- address parsing ---- */

static int parse_port(const char *s, in_port_t *port)
{
	char *end;
	unsigned long v;

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535 || *s == '-' || *s == '+')
		return -EINVAL;
	*port = htons((uint16_t)v);
	return 0;
}

static int parse_addr(const char *addr, struct sockaddr_storage *ss, bool *any)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN];
	const char *colon, *close;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	*any = false;
	if (addr[0] == '[') {
		close = strchr(addr, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		hl = (size_t)(close - addr - 1);
		if (hl == 0 || hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr + 1, hl);
		host[hl] = '\0';
		in6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		return parse_port(close + 2, &in6->sin6_port);
	}
	colon = strrchr(addr, ':');
	if (!colon || strchr(addr, ':') != colon)
		return -EINVAL;
	hl = (size_t)(colon - addr);
	if (hl >= sizeof(host))
		return -EINVAL;
	if (hl == 0) {
		/* ":port": every address; dual stack is tried first at bind */
		*any = true;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_any;
		return parse_port(colon + 1, &in6->sin6_port);
	}
	memcpy(host, addr, hl);
	host[hl] = '\0';
	in4->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
		return -EINVAL;
	return parse_port(colon + 1, &in4->sin_port);
}

int metrics_parse_addr(const char *addr, struct sockaddr_storage *ss, bool *any)
{
	int err = addr ? parse_addr(addr, ss, any) : -EINVAL;

	if (err)
		pr_err("metrics: --metrics-addr: invalid address \"%s\" "
		       "(want IPv4:port, [IPv6]:port or :port)",
		       addr ? addr : "(null)");
	return err;
}

/* ---- bodies ---- */

static void body_put(struct body *bd)
{
	struct metrics_server *s;

	if (!bd || atomic_fetch_sub(&bd->refs, 1) != 1)
		return;
	s = bd->s;
	free(bd->data);
	free(bd);
	atomic_fetch_sub(&s->nr_bodies, 1);
}

/* The current body with a reference taken, or NULL before the first one. */
static struct body *body_get(struct metrics_server *s)
{
	struct body *bd;

	pthread_mutex_lock(&s->body_mutex);
	bd = s->cur;
	if (bd)
		atomic_fetch_add(&bd->refs, 1);
	pthread_mutex_unlock(&s->body_mutex);
	return bd;
}

/*
 * The body takes the render's buffer over: no second copy of it exists.
 * Large buffers are mappings of their own (main() fixes glibc's mmap
 * threshold), so freeing one gives its pages back at once.
 */
static struct body *body_new(struct metrics_server *s, struct strbuf *text,
			     uint64_t gen)
{
	struct body *bd = calloc(1, sizeof(*bd));

	if (!bd)
		return NULL;
	atomic_init(&bd->refs, 1);
	bd->s = s;
	bd->gen = gen;
	bd->len = text->len;
	bd->data = text->buf;
	strbuf_init(text);
	atomic_fetch_add(&s->nr_bodies, 1);
	return bd;
}

/* Is the current body rendered from the newest state? */
static bool body_fresh(struct metrics_server *s)
{
	bool fresh;

	pthread_mutex_lock(&s->body_mutex);
	fresh = s->cur && s->cur->gen == atomic_load(&s->gen);
	pthread_mutex_unlock(&s->body_mutex);
	return fresh;
}

static void render_self(struct strbuf *b, uint64_t renders)
{
	metrics_family(b, "colod_metrics_renders_total", "counter",
		       "Bodies of /metrics rendered (at most one per tick, only when scraped).");
	strbuf_printf(b, "colod_metrics_renders_total %" PRIu64 "\n", renders);
}

int metrics_publish(struct metrics_server *s)
{
	struct body *bd, *old;
	struct strbuf text;
	uint64_t gen;

	if (!s)
		return 0;
	if (atomic_load(&s->nr_bodies) >= METRICS_MAX_BODIES) {
		/* slow clients still hold older ones: serve the current longer */
		if (!s->skip_logged)
			pr_warn("metrics: slow clients hold %u bodies; /metrics is "
				"not refreshed until they finish or time out",
				METRICS_MAX_BODIES - 1);
		s->skip_logged = true;
		return -EBUSY;
	}
	s->skip_logged = false;
	gen = atomic_load(&s->gen);
	strbuf_init(&text);
	/* room for the last body and some: no realloc in the common case */
	if (s->last_len && strbuf_grow(&text, s->last_len + s->last_len / 8))
		return text.err;
	render_self(&text, ++s->nr_renders);	/* first: a short read finds it */
	if (s->render)
		s->render(&text, s->ctx);
	if (text.err) {
		strbuf_free(&text);
		return -ENOMEM;
	}
	if (!text.buf)
		strbuf_append(&text, "", 0);
	s->last_len = text.len;
	bd = body_new(s, &text, gen);
	if (!bd) {
		strbuf_free(&text);
		return -ENOMEM;
	}
	pthread_mutex_lock(&s->body_mutex);
	old = s->cur;
	s->cur = bd;
	pthread_mutex_unlock(&s->body_mutex);
	body_put(old);
	return 0;
}

/*
 * The state changed: the next scrape renders. The server lets its body go
 * now unless a response still streams it (then freeing it would gain
 * nothing, and it is what scrapes get while slow clients hold
 * METRICS_MAX_BODIES): between scrapes no body is held.
 */
void metrics_invalidate(struct metrics_server *s)
{
	struct body *old = NULL;

	if (!s)
		return;
	atomic_fetch_add(&s->gen, 1);
	pthread_mutex_lock(&s->body_mutex);
	/* references are taken under the mutex only: 1 stays 1 here */
	if (s->cur && atomic_load(&s->cur->refs) == 1) {
		old = s->cur;
		s->cur = NULL;
	}
	pthread_mutex_unlock(&s->body_mutex);
	body_put(old);
}

int metrics_wake_fd(const struct metrics_server *s)
{
	return s ? s->wake_fd : -1;
}

/*
 * Take the waiters off the list (all, or those waiting since before
 * older_than_ns), give each a reference to the current body (a tick may
 * drop it before they are answered) and let MHD run them again: their
 * handler then answers with it. MHD_resume_connection() may be called
 * from any thread; it wakes the HTTP thread through MHD's own channel.
 */
static void resume_waiters(struct metrics_server *s, uint64_t older_than_ns)
{
	struct MHD_Connection *conns[METRICS_MAX_CONNECTIONS];
	unsigned int i, n = 0, keep = 0;

	pthread_mutex_lock(&s->body_mutex);
	for (i = 0; i < s->nr_waiting; i++) {
		if (s->waiting[i].since_ns >= older_than_ns) {
			s->waiting[keep++] = s->waiting[i];
			continue;
		}
		if (s->cur)
			atomic_fetch_add(&s->cur->refs, 1);
		s->waiting[i].rq->bd = s->cur;
		conns[n++] = s->waiting[i].conn;
	}
	s->nr_waiting = keep;
	pthread_mutex_unlock(&s->body_mutex);
	for (i = 0; i < n; i++)
		MHD_resume_connection(conns[i]);
}

int metrics_serve_pending(struct metrics_server *s)
{
	uint64_t v;
	int err = 0;

	if (!s)
		return 0;
	if (read(s->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		err = -errno;
	if (!body_fresh(s))
		err = metrics_publish(s);
	resume_waiters(s, UINT64_MAX);
	return err;
}

/* ---- HTTP (all of it in the HTTP thread) ---- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, const char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)body,
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn,
				  unsigned int status, const char *text)
{
	return reply(conn, status, "text/plain; charset=utf-8", text,
		     strlen(text));
}

static ssize_t body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct body *bd = cls;
	size_t n;

	if (pos >= bd->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = bd->len - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, bd->data + pos, n);
	return (ssize_t)n;
}

static void body_release(void *cls)
{
	body_put(cls);
}

/*
 * Suspend the request until the agent renders; false if it cannot wait
 * (the list is full): it is answered now with the body there is.
 */
static bool wait_for_render(struct metrics_server *s, struct MHD_Connection *conn,
			    void **req_ctx)
{
	static const uint64_t one = 1;
	struct req *rq = calloc(1, sizeof(*rq));
	bool queued = false;

	if (!rq)
		return false;
	pthread_mutex_lock(&s->body_mutex);
	if (s->nr_waiting < METRICS_MAX_CONNECTIONS) {
		/* suspended before it is listed: only a suspended one is resumed */
		MHD_suspend_connection(conn);
		s->waiting[s->nr_waiting++] = (struct waiter) {
			.conn = conn, .rq = rq, .since_ns = mono_ns(),
		};
		*req_ctx = rq;	/* freed when the request completes */
		queued = true;
	}
	pthread_mutex_unlock(&s->body_mutex);
	if (!queued)
		free(rq);
	if (queued && write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("metrics: cannot wake the agent: %s", strerror(errno));
	return queued;
}

static enum MHD_Result serve_metrics(struct metrics_server *s,
				     struct MHD_Connection *conn, void **req_ctx)
{
	struct req *rq = *req_ctx;
	struct MHD_Response *resp;
	struct body *bd;
	enum MHD_Result ret;

	/* once per request: the second call, after the wait, takes its body */
	if (!rq && !body_fresh(s) && wait_for_render(s, conn, req_ctx))
		return MHD_YES;
	if (rq) {
		bd = rq->bd;
		rq->bd = NULL;
	} else {
		bd = body_get(s);
	}

	if (!bd)
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "no metrics yet\n");
	/* our own response per request: it holds one reference, not a copy */
	resp = MHD_create_response_from_callback(bd->len, METRICS_BLOCK_SIZE,
						 body_read, bd, body_release);
	if (!resp) {
		body_put(bd);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				METRICS_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_ctx)
{
	struct metrics_server *s = cls;

	/*
	 * MHD calls once the headers are in; every answer is given then.
	 * A request body is never waited for: MHD closes the connection
	 * after the answer instead of reading it.
	 */
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "method not allowed\n");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(s, conn, req_ctx);
	if (!strcmp(url, "/healthz")) {
		if (metrics_is_healthy(atomic_load(&metrics_last_beat_ns), mono_ns(),
				       atomic_load(&metrics_health_timeout_s)))
			return reply_text(conn, MHD_HTTP_OK, "ok\n");
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "agent loop stalled\n");
	}
	if (!strcmp(url, "/readyz")) {
		if (atomic_load(&metrics_ready))
			return reply_text(conn, MHD_HTTP_OK, "ready\n");
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "not ready\n");
	}
	if (!strcmp(url, "/"))
		return reply_text(conn, MHD_HTTP_OK,
				  "colod: /metrics /healthz /readyz\n");
	return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

static uint64_t deadline_from_now(void)
{
	return mono_ns() + (uint64_t)METRICS_DEADLINE_S * 1000000000ULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn,
			  void **socket_ctx, enum MHD_ConnectionNotificationCode code)
{
	struct metrics_server *s = cls;
	const union MHD_ConnectionInfo *info;
	struct conn *c = *socket_ctx;
	int sndbuf = METRICS_SNDBUF;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (c) {
			c->prev->next = c->next;
			c->next->prev = c->prev;
			free(c);
			*socket_ctx = NULL;
		}
		return;
	}
	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	c = calloc(1, sizeof(*c));
	if (!c || !info) {
		free(c);
		return;
	}
	c->fd = info->connect_fd;
	c->deadline_ns = deadline_from_now();
	/* what the kernel queues for a client that does not read */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	c->next = &s->conns;
	c->prev = s->conns.prev;
	s->conns.prev->next = c;
	s->conns.prev = c;
	*socket_ctx = c;
}

/* A response went out (or failed): the next request gets a new deadline. */
static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **req_ctx, enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *info;
	struct req *rq = *req_ctx;
	struct conn *c;

	if (rq) {
		body_put(rq->bd);
		free(rq);
		*req_ctx = NULL;
	}
	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	c = info ? info->socket_context : NULL;
	if (c)
		c->deadline_ns = deadline_from_now();
}

/* Cut connections past their deadline. Same thread as MHD: fds are live. */
static void sweep(struct metrics_server *s)
{
	uint64_t now = mono_ns();
	struct conn *c;

	if (now < s->next_sweep_ns)
		return;
	s->next_sweep_ns = now + 100000000ULL;
	for (c = s->conns.next; c != &s->conns; c = c->next) {
		if (c->cut || now < c->deadline_ns)
			continue;
		shutdown(c->fd, SHUT_RDWR);
		c->cut = true;
	}
}

/* MHD's messages, at most 10 a minute: a flood of refused clients is not logged one by one. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct metrics_server *s = cls;
	uint64_t now = mono_ns();
	char msg[256];

	if (now - s->log_window_ns > 60000000000ULL) {
		if (s->log_count > 10)
			pr_warn("metrics: %u more messages from the HTTP server "
				"in the last minute", s->log_count - 10);
		s->log_window_ns = now;
		s->log_count = 0;
	}
	if (s->log_count++ >= 10)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	pr_warn("metrics: %s", msg);
}

static void *http_thread(void *arg)
{
	struct metrics_server *s = arg;

	while (!atomic_load(&s->stop)) {
		MHD_run_wait(s->daemon, 100);
		sweep(s);
		/* the agent did not render in time: the last body it has */
		resume_waiters(s, mono_ns() - (uint64_t)METRICS_RENDER_WAIT_MS * 1000000ULL);
	}
	return NULL;
}

static struct MHD_Daemon *start_daemon(struct metrics_server *s,
				       struct sockaddr_storage *ss,
				       unsigned int extra_flags)
{
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			     MHD_ALLOW_SUSPEND_RESUME | extra_flags;

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
				MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned int)METRICS_IDLE_TIMEOUT_S,
				MHD_OPTION_CONNECTION_LIMIT,
				(unsigned int)METRICS_MAX_CONNECTIONS,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				(unsigned int)METRICS_MAX_PER_IP,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				(size_t)METRICS_CONN_MEMORY,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_END);
}

static void server_free(struct metrics_server *s)
{
	if (s->thread_started) {
		atomic_store(&s->stop, true);
		pthread_join(s->thread, NULL);
	}
	/* MHD closes suspended connections only once they are resumed */
	resume_waiters(s, UINT64_MAX);
	if (s->daemon)
		MHD_stop_daemon(s->daemon);	/* releases every response */
	body_put(s->cur);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->body_mutex);
	free(s);
}

struct metrics_server *metrics_start(const char *addr, metrics_render_fn render,
				     void *ctx)
{
	struct sockaddr_storage ss;
	struct metrics_server *s;
	bool any;
	int err;

	err = metrics_parse_addr(addr, &ss, &any);
	if (err) {
		errno = -err;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->render = render;
	s->ctx = ctx;
	pthread_mutex_init(&s->body_mutex, NULL);
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0) {
		err = errno;
		pr_err("metrics: eventfd: %s", strerror(err));
		server_free(s);
		errno = err;
		return NULL;
	}
	s->conns.next = s->conns.prev = &s->conns;
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	/* the loop counts as alive from the moment we start serving */
	metrics_heartbeat(mono_ns());
	s->daemon = start_daemon(s, &ss, any ? MHD_USE_DUAL_STACK : 0);
	if (!s->daemon && any) {
		/* host without IPv6: fall back to IPv4 INADDR_ANY */
		struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
		in_port_t port = ((struct sockaddr_in6 *)&ss)->sin6_port;

		memset(&ss, 0, sizeof(ss));
		in4->sin_family = AF_INET;
		in4->sin_addr.s_addr = htonl(INADDR_ANY);
		in4->sin_port = port;
		s->daemon = start_daemon(s, &ss, 0);
	}
	if (!s->daemon) {
		err = errno ? errno : EADDRINUSE;
		pr_err("metrics: cannot listen on %s: %s", addr, strerror(err));
		server_free(s);
		errno = err;
		return NULL;
	}
	err = pthread_create(&s->thread, NULL, http_thread, s);
	if (err) {
		pr_err("metrics: cannot start the HTTP thread: %s", strerror(err));
		server_free(s);
		errno = err;
		return NULL;
	}
	s->thread_started = true;
	pr_info("metrics: serving /metrics /healthz /readyz on %s (port %u)",
		addr, metrics_port(s));
	return s;
}

unsigned int metrics_port(const struct metrics_server *s)
{
	const union MHD_DaemonInfo *info;

	if (!s || !s->daemon)
		return 0;
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	return info ? info->port : 0;
}

void metrics_stop(struct metrics_server *s)
{
	if (s)
		server_free(s);
}

/* ---- rendering ---- */

void metrics_family(struct strbuf *b, const char *name, const char *type,
		    const char *help)
{
	strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_label_escape(struct strbuf *b, const char *value)
{
	const char *p;

	for (p = value; *p; p++) {
		switch (*p) {
		case '\\':
			strbuf_append(b, "\\\\", 2);
			break;
		case '"':
			strbuf_append(b, "\\\"", 2);
			break;
		case '\n':
			strbuf_append(b, "\\n", 2);
			break;
		default:
			strbuf_append(b, p, 1);
		}
	}
}

/* Exact decimal seconds from nanoseconds: no float rounding in counters. */
static void put_seconds(struct strbuf *b, uint64_t ns)
{
	strbuf_printf(b, "%" PRIu64 ".%09" PRIu64, ns / UINT64_C(1000000000),
		      ns % UINT64_C(1000000000));
}

static void put_labels(struct strbuf *b, const char *labels, const char *extra)
{
	bool have = labels && *labels;

	if (!have && !extra)
		return;
	strbuf_printf(b, "{%s%s%s}", have ? labels : "",
		      have && extra ? "," : "", extra ? extra : "");
}

void metrics_render_histogram(struct strbuf *b, const char *name,
			      const char *labels, const uint64_t *buckets,
			      uint64_t sum_ns)
{
	uint64_t cum = 0, bound;
	char le[48];
	size_t i;

	for (i = 0; i < HIST_PROM_BOUNDS; i++) {
		cum += buckets[i];
		bound = hist_prom_bound_us(i);
		snprintf(le, sizeof(le), "le=\"%" PRIu64 ".%06" PRIu64 "\"",
			 bound / 1000000, bound % 1000000);
		strbuf_printf(b, "%s_bucket", name);
		put_labels(b, labels, le);
		strbuf_printf(b, " %" PRIu64 "\n", cum);
	}
	cum += buckets[HIST_PROM_BOUNDS];
	strbuf_printf(b, "%s_bucket", name);
	put_labels(b, labels, "le=\"+Inf\"");
	strbuf_printf(b, " %" PRIu64 "\n%s_sum", cum, name);
	put_labels(b, labels, NULL);
	strbuf_append(b, " ", 1);
	put_seconds(b, sum_ns);
	strbuf_printf(b, "\n%s_count", name);
	put_labels(b, labels, NULL);
	strbuf_printf(b, " %" PRIu64 "\n", cum);
}

/* 'cgroup="<escaped path>"' into a scratch buffer. */
static const char *cg_label(struct strbuf *tmp, const char *path)
{
	strbuf_reset(tmp);
	strbuf_append(tmp, "cgroup=\"", 8);
	metrics_label_escape(tmp, path ? path : "");
	strbuf_append(tmp, "\"", 1);
	return tmp->err ? "" : tmp->buf;
}

typedef void (*cg_line_fn)(struct strbuf *b, const char *lbl,
			   const struct metrics_cgroup *cg);

static void for_each_cg(struct strbuf *b, const struct metrics_cgroup *cgs,
			size_t n, cg_line_fn fn)
{
	struct strbuf tmp;
	size_t i;

	strbuf_init(&tmp);
	for (i = 0; i < n; i++)
		fn(b, cg_label(&tmp, cgs[i].path), &cgs[i]);
	if (tmp.err)
		b->err = tmp.err;
	strbuf_free(&tmp);
}

static void cg_info(struct strbuf *b, const char *lbl,
		    const struct metrics_cgroup *cg)
{
	strbuf_printf(b, "colod_cgroup_info{%s,class=\"", lbl);
	metrics_label_escape(b, cg->cls ? cg->cls : "");
	strbuf_printf(b, "\"} 1\n");
}

static void cg_hist(struct strbuf *b, const char *lbl,
		    const struct metrics_cgroup *cg)
{
	if (cg->runq_buckets)
		metrics_render_histogram(b, "colod_cgroup_runq_latency_seconds", lbl,
					 cg->runq_buckets, cg->cnt->runq_sum_ns);
}

static void cg_max(struct strbuf *b, const char *lbl,
		   const struct metrics_cgroup *cg)
{
	strbuf_printf(b, "colod_cgroup_runq_latency_max_seconds{%s} ", lbl);
	put_seconds(b, cg->cnt->runq_max_ns);
	strbuf_append(b, "\n", 1);
}

static void cg_cpu(struct strbuf *b, const char *lbl,
		   const struct metrics_cgroup *cg)
{
	strbuf_printf(b, "colod_cgroup_cpu_seconds_total{%s} ", lbl);
	put_seconds(b, cg->cnt->cpu_ns);
	strbuf_append(b, "\n", 1);
}

static void cg_reclaim_time(struct strbuf *b, const char *lbl,
			    const struct metrics_cgroup *cg)
{
	strbuf_printf(b, "colod_cgroup_reclaim_stall_seconds_total{%s,kind=\"direct\"} ",
		      lbl);
	put_seconds(b, cg->cnt->direct_reclaim_ns);
	strbuf_printf(b, "\ncolod_cgroup_reclaim_stall_seconds_total{%s,kind=\"memcg\"} ",
		      lbl);
	put_seconds(b, cg->cnt->memcg_reclaim_ns);
	strbuf_append(b, "\n", 1);
}

static void cg_reclaim_count(struct strbuf *b, const char *lbl,
			     const struct metrics_cgroup *cg)
{
	strbuf_printf(b,
		"colod_cgroup_reclaim_stalls_total{%s,kind=\"direct\"} %" PRIu64 "\n"
		"colod_cgroup_reclaim_stalls_total{%s,kind=\"memcg\"} %" PRIu64 "\n",
		lbl, (uint64_t)cg->cnt->direct_reclaim_count,
		lbl, (uint64_t)cg->cnt->memcg_reclaim_count);
}

static void cg_switches(struct strbuf *b, const char *lbl,
			const struct metrics_cgroup *cg)
{
	strbuf_printf(b,
		"colod_cgroup_context_switches_total{%s,kind=\"voluntary\"} %" PRIu64 "\n"
		"colod_cgroup_context_switches_total{%s,kind=\"involuntary\"} %" PRIu64 "\n",
		lbl, (uint64_t)cg->cnt->nvcsw, lbl, (uint64_t)cg->cnt->nivcsw);
}

static void cg_breaches(struct strbuf *b, const char *lbl,
			const struct metrics_cgroup *cg)
{
	strbuf_printf(b, "colod_cgroup_latency_breaches_total{%s} %" PRIu64 "\n",
		      lbl, (uint64_t)cg->cnt->breaches);
}

static void cg_breaches_be(struct strbuf *b, const char *lbl,
			   const struct metrics_cgroup *cg)
{
	strbuf_printf(b, "colod_cgroup_latency_breaches_be_total{%s} %" PRIu64 "\n",
		      lbl, (uint64_t)cg->cnt->breaches_be);
}

static const struct {
	const char *name;
	const char *type;
	const char *help;
	cg_line_fn fn;
} cg_families[] = {
	{ "colod_cgroup_info", "gauge",
	  "QoS class colod assigned to the cgroup (always 1).", cg_info },
	{ "colod_cgroup_runq_latency_seconds", "histogram",
	  "Run-queue latency (wakeup to switch-in) of the cgroup's tasks (LS cgroups).", cg_hist },
	{ "colod_cgroup_runq_latency_max_seconds", "gauge",
	  "Largest run-queue latency seen since the agent started.", cg_max },
	{ "colod_cgroup_cpu_seconds_total", "counter",
	  "On-CPU time of the cgroup's tasks, charged at switch-out.", cg_cpu },
	{ "colod_cgroup_reclaim_stall_seconds_total", "counter",
	  "Time the cgroup's tasks spent stalled in memory reclaim.", cg_reclaim_time },
	{ "colod_cgroup_reclaim_stalls_total", "counter",
	  "Number of reclaim stalls of the cgroup's tasks.", cg_reclaim_count },
	{ "colod_cgroup_context_switches_total", "counter",
	  "Context switches of the cgroup's tasks.", cg_switches },
	{ "colod_cgroup_latency_breaches_total", "counter",
	  "Run-queue latency samples above the cgroup's LS threshold.", cg_breaches },
	{ "colod_cgroup_latency_breaches_be_total", "counter",
	  "Of those, samples where a BE task had the CPU until the LS task got it.",
	  cg_breaches_be },
};

void metrics_render_cgroups(struct strbuf *b, const struct metrics_cgroup *cgs,
			    size_t n)
{
	size_t f;

	for (f = 0; f < sizeof(cg_families) / sizeof(cg_families[0]); f++) {
		metrics_family(b, cg_families[f].name, cg_families[f].type,
			       cg_families[f].help);
		for_each_cg(b, cgs, n, cg_families[f].fn);
	}
}

static void gauge(struct strbuf *b, const char *name, const char *help,
		  uint64_t v)
{
	metrics_family(b, name, "gauge", help);
	strbuf_printf(b, "%s %" PRIu64 "\n", name, v);
}

static void counter(struct strbuf *b, const char *name, const char *help,
		    uint64_t v)
{
	metrics_family(b, name, "counter", help);
	strbuf_printf(b, "%s %" PRIu64 "\n", name, v);
}

void metrics_render_headroom(struct strbuf *b, const struct colod_headroom *h)
{
	gauge(b, "colod_node_capacity_cpu_milli", "Node CPU capacity in millicores.",
	      h->capacity_cpu_milli);
	gauge(b, "colod_node_capacity_memory_bytes", "Node memory capacity in bytes.",
	      h->capacity_memory_bytes);
	gauge(b, "colod_batch_cpu_milli",
	      "Batch CPU (kubernetes.io/batch-cpu) in millicores.", h->batch_cpu_milli);
	gauge(b, "colod_batch_memory_bytes",
	      "Batch memory (kubernetes.io/batch-memory) in bytes.",
	      h->batch_memory_bytes);
	gauge(b, "colod_mid_cpu_milli",
	      "Mid CPU (kubernetes.io/mid-cpu) in millicores.", h->mid_cpu_milli);
	gauge(b, "colod_mid_memory_bytes",
	      "Mid memory (kubernetes.io/mid-memory) in bytes.", h->mid_memory_bytes);
	gauge(b, "colod_ls_used_cpu_milli", "CPU used by LS cgroups in millicores.",
	      h->ls_used_cpu_milli);
	gauge(b, "colod_system_used_cpu_milli",
	      "CPU used by system cgroups in millicores.", h->system_used_cpu_milli);
	gauge(b, "colod_be_cpu_quota_milli",
	      "CPU currently allowed to BE cgroups in millicores.", h->be_quota_milli);
}

void metrics_render_agent(struct strbuf *b, const struct metrics_agent_counters *c)
{
	counter(b, "colod_config_reloads_total",
		"Configuration reloads that were applied.", c->config_reloads);
	counter(b, "colod_config_errors_total",
		"Configuration files rejected as invalid.", c->config_errors);
	counter(b, "colod_bpf_map_full_total",
		"Samples dropped because the cg_stats map was full.", c->bpf_map_full);
	counter(b, "colod_bpf_untracked_dropped_total",
		"Samples of cgroups colod does not track dropped because cg_stats was 3/4 full.",
		c->bpf_untracked_dropped);
	counter(b, "colod_ringbuf_drops_total",
		"Breach events lost because the ring buffer was full.", c->ringbuf_drops);
	counter(b, "colod_breaches_rate_limited_total",
		"Breach events not sent because of the in-kernel rate limit.",
		c->breaches_rate_limited);
	counter(b, "colod_breach_events_total",
		"Breach events received from the ring buffer.", c->breach_events);
	counter(b, "colod_breach_events_chance_total",
		"Breach events over twice the LS budget that an LS at its budget shows by "
		"chance: no cut.", c->breach_chance);
	counter(b, "colod_k8s_node_updates_total",
		"Node status patches accepted by the API server.", c->k8s_updates);
	counter(b, "colod_k8s_node_errors_total",
		"Node status patches that failed.", c->k8s_errors);
	counter(b, "colod_pod_source_lists_total",
		"Pod lists read from the pod source (kubelet /pods).", c->pod_source_lists);
	counter(b, "colod_pod_source_errors_total",
		"Polls of the pod source that failed (the last list stays).",
		c->pod_source_errors);
	counter(b, "colod_pod_source_fallback_total",
		"Pod cgroups classed by their QoS directory: pod not in the pod list.",
		c->pod_source_fallback);
	counter(b, "colod_loop_ticks_total", "Iterations of the agent loop.",
		c->ticks);
	counter(b, "colod_knob_reads_total",
		"Knobs read back to see that colod's value is in place; a knob nobody "
		"wrote since (inotify) is not read, but for a resync every 60 ticks.",
		c->knob_reads);
	gauge(b, "colod_cgroups", "Cgroups tracked by the agent.", c->cgroups);
}

void metrics_render_counter_by(struct strbuf *b, const char *name, const char *help,
			       const char *label, const struct metrics_kind_count *k,
			       size_t n)
{
	size_t i;

	metrics_family(b, name, "counter", help);
	for (i = 0; i < n; i++) {
		strbuf_printf(b, "%s{%s=\"", name, label);
		metrics_label_escape(b, k[i].kind ? k[i].kind : "");
		strbuf_printf(b, "\"} %" PRIu64 "\n", k[i].count);
	}
}

void metrics_render_actions(struct strbuf *b, const struct metrics_kind_count *k,
			    size_t n)
{
	metrics_render_counter_by(b, "colod_actions_total",
				  "Throttling and restoring actions the agent applied.",
				  "kind", k, n);
}
