/*
 * Redis Sentinel discovery (sentinel.h). Asynchronous only: a blocking
 * connect to a dead sentinel would hold the loop. One hiredis context at
 * a time, to one sentinel; hiredis 0.14 has no connect or command
 * timeout, so a timer bounds each exchange. Contexts are never freed
 * inside their own callbacks: disconnected there, freed from the timer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "conf.h"
#include "log.h"
#include "sentinel.h"
#include "xmalloc.h"

#define SENTINEL_TIMEOUT_MS	1000	/* at most, per sentinel */
#define SENTINEL_ADDR_MAX	(256 + 8)

struct sentinel {
	struct event_base	*base;
	const struct conf	*conf;
	int			 n;
	char			 host[CONF_MAX_SENTINELS][256];
	int			 port[CONF_MAX_SENTINELS];

	redisAsyncContext	*ac;		/* asking sentinel `at`, or NULL */
	struct event		*timer;		/* the next step, or a timeout */
	int			 at;
	int			 asked;		/* sentinels tried this round */
	sentinel_cb		 cb;		/* NULL: no resolution under way */
	void			*arg;
	char			 why[256];	/* the last failure */
};

/*
 * Shared by every link of the daemon (there is one master name): the
 * sentinel that answered last is asked first, so that links do not
 * take turns between a sentinel that saw a failover and one that has
 * not yet; and the master the links last confirmed, to count a
 * failover once.
 */
static int	sentinel_first;
static char	sentinel_known[SENTINEL_ADDR_MAX];
static uint64_t	sentinel_moves;

static void sentinel_timer_cb(evutil_socket_t, short, void *);

struct sentinel *
sentinel_create(struct event_base *base, const struct conf *c)
{
	struct sentinel *s;
	const char *list, *p;
	size_t len;

	if (c->redis_sentinels == NULL)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->base = base;
	s->conf = c;
	list = c->redis_sentinels;
	/* conf.c checked the list: host:port, at most CONF_MAX_SENTINELS. */
	while (s->n < CONF_MAX_SENTINELS && conf_list_next(&list, &p, &len)) {
		if (conf_parse_hostport(p, len, s->host[s->n],
		    sizeof s->host[s->n], &s->port[s->n]) == 0)
			s->n++;
	}
	if (s->n == 0)
		fatalx("sentinel: no sentinel in '%s'", c->redis_sentinels);
	s->timer = evtimer_new(base, sentinel_timer_cb, s);
	return s;
}

/*
 * Let go of the context: from inside one of its callbacks only
 * disconnected (hiredis frees it afterwards), elsewhere freed.
 */
static void
sentinel_drop(struct sentinel *s, bool in_callback)
{
	redisAsyncContext *ac = s->ac;

	s->ac = NULL;
	if (ac == NULL)
		return;
	ac->data = NULL;
	if (in_callback)
		redisAsyncDisconnect(ac);
	else
		redisAsyncFree(ac);
}

void
sentinel_free(struct sentinel *s)
{
	if (s == NULL)
		return;
	s->cb = NULL;
	sentinel_drop(s, false);
	event_free(s->timer);
	free(s);
}

static void
sentinel_after(struct sentinel *s, int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(s->timer, &tv);
}

/* This sentinel failed: the next one, in the next turn of the loop. */
static void
sentinel_next(struct sentinel *s, const char *why)
{
	snprintf(s->why, sizeof s->why, "%s:%d: %s", s->host[s->at],
	    s->port[s->at], why);
	log_debug("sentinel: %s", s->why);
	s->at = (s->at + 1) % s->n;
	s->asked++;
	sentinel_after(s, 0);
}

/* The resolution ends; cb may start the next one. */
static void
sentinel_done(struct sentinel *s, const char *host, int port,
    const char *err)
{
	sentinel_cb cb = s->cb;

	s->cb = NULL;
	event_del(s->timer);
	if (cb != NULL)
		cb(s->arg, host, port, err);
}

int
sentinel_parse_addr(const redisReply *r, char *host, size_t hostsz,
    int *port, char **cause)
{
	const redisReply *h, *p;
	char *end;
	long v;

	if (r->type == REDIS_REPLY_NIL) {
		*cause = xstrdup("does not know the master");
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		*cause = xstrdup(r->str);
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    (h = r->element[0])->type != REDIS_REPLY_STRING ||
	    (p = r->element[1])->type != REDIS_REPLY_STRING) {
		*cause = xstrdup("not an address");
		return -1;
	}
	if (h->len == 0 || h->len >= hostsz || memchr(h->str, '\0',
	    h->len) != NULL) {
		*cause = xstrdup("not a host name");
		return -1;
	}
	v = strtol(p->str, &end, 10);
	if (p->len == 0 || end != p->str + p->len || v < 1 || v > 65535) {
		*cause = xstrdup("not a port");
		return -1;
	}
	memcpy(host, h->str, h->len);
	host[h->len] = '\0';
	*port = (int)v;
	return 0;
}

int
sentinel_parse_role(const redisReply *r, char **cause)
{
	const redisReply *e;

	if (r->type == REDIS_REPLY_ERROR) {
		*cause = xasprintf("ROLE: %s", r->str);
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    ((e = r->element[0])->type != REDIS_REPLY_STRING &&
	    e->type != REDIS_REPLY_STATUS)) {
		*cause = xstrdup("ROLE: not a role");
		return -1;
	}
	if (e->len == 6 && memcmp(e->str, "master", 6) == 0)
		return 0;
	*cause = xasprintf("not the master (ROLE %.*s)", (int)e->len, e->str);
	return -1;
}

static void
sentinel_reply_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct sentinel *s = privdata;
	char host[256], *cause = NULL;
	int port;

	if (r == NULL || s->ac != c)
		return;
	event_del(s->timer);
	sentinel_drop(s, true);
	if (sentinel_parse_addr(r, host, sizeof host, &port, &cause) == -1) {
		char why[256];

		snprintf(why, sizeof why, "master %s: %s",
		    s->conf->redis_master_name, cause);
		free(cause);
		sentinel_next(s, why);
		return;
	}
	sentinel_first = s->at;
	log_debug("sentinel: %s:%d says master %s is at %s:%d",
	    s->host[s->at], s->port[s->at], s->conf->redis_master_name, host,
	    port);
	sentinel_done(s, host, port, NULL);
}

static void
sentinel_connect_cb(const redisAsyncContext *c, int status)
{
	struct sentinel *s = c->data;
	char why[256];

	if (s == NULL || s->ac != c || status == REDIS_OK)
		return;
	snprintf(why, sizeof why, "connect: %s", c->errstr);
	s->ac = NULL;		/* hiredis frees it after this callback */
	event_del(s->timer);
	sentinel_next(s, why);
}

static void
sentinel_disconnect_cb(const redisAsyncContext *c, int status)
{
	struct sentinel *s = c->data;
	char why[256];

	if (s == NULL || s->ac != c)
		return;
	snprintf(why, sizeof why, "%s", status == REDIS_OK ? "closed" :
	    c->errstr);
	s->ac = NULL;		/* freed by hiredis after this callback */
	event_del(s->timer);
	sentinel_next(s, why);
}

/* Ask sentinel `at`; the command waits in hiredis for the connect. */
static void
sentinel_ask(struct sentinel *s)
{
	const char *argv[3];
	size_t argvlen[3];
	redisAsyncContext *ac;
	int64_t ms;
	char why[256];

	ac = redisAsyncConnect(s->host[s->at], s->port[s->at]);
	if (ac == NULL)
		fatalx("sentinel: out of memory");
	if (ac->err) {
		snprintf(why, sizeof why, "connect: %s", ac->errstr);
		redisAsyncFree(ac);
		sentinel_next(s, why);
		return;
	}
	ac->data = s;
	s->ac = ac;
	redisLibeventAttach(ac, s->base);
	redisAsyncSetConnectCallback(ac, sentinel_connect_cb);
	redisAsyncSetDisconnectCallback(ac, sentinel_disconnect_cb);
	argv[0] = "SENTINEL";
	argv[1] = "get-master-addr-by-name";
	argv[2] = s->conf->redis_master_name;
	for (int i = 0; i < 3; i++)
		argvlen[i] = strlen(argv[i]);
	if (redisAsyncCommandArgv(ac, sentinel_reply_cb, s, 3, argv,
	    argvlen) != REDIS_OK) {
		sentinel_drop(s, false);
		sentinel_next(s, "cannot send");
		return;
	}
	/* hiredis 0.14 has no async connect or command timeout. */
	ms = s->conf->connect_timeout_ms;
	if (ms <= 0 || ms > SENTINEL_TIMEOUT_MS)
		ms = SENTINEL_TIMEOUT_MS;
	sentinel_after(s, ms);
}

/* The timer: a timeout of the exchange under way, or the next step. */
static void
sentinel_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sentinel *s = arg;
	char err[512];

	(void)fd;
	(void)events;
	if (s->ac != NULL) {
		sentinel_drop(s, false);
		snprintf(s->why, sizeof s->why, "%s:%d: timed out",
		    s->host[s->at], s->port[s->at]);
		log_debug("sentinel: %s", s->why);
		s->at = (s->at + 1) % s->n;
		s->asked++;
	}
	if (s->cb == NULL)
		return;
	if (s->asked >= s->n) {
		snprintf(err, sizeof err, "no sentinel gave the address of "
		    "master %s (last: %s)", s->conf->redis_master_name, s->why);
		sentinel_done(s, NULL, 0, err);
		return;
	}
	sentinel_ask(s);
}

int
sentinel_resolve(struct sentinel *s, sentinel_cb cb, void *arg)
{
	if (s->cb != NULL)
		return -1;
	s->cb = cb;
	s->arg = arg;
	s->asked = 0;
	s->at = sentinel_first % s->n;
	s->why[0] = '\0';
	/* Started from the loop, never calling cb from here. */
	sentinel_after(s, 0);
	return 0;
}

bool
sentinel_confirm(const char *host, int port)
{
	char addr[SENTINEL_ADDR_MAX];

	snprintf(addr, sizeof addr, strchr(host, ':') != NULL ? "[%s]:%d" :
	    "%s:%d", host, port);
	if (strcmp(addr, sentinel_known) == 0)
		return false;
	if (sentinel_known[0] == '\0') {
		log_info("sentinel: master at %s", addr);
		snprintf(sentinel_known, sizeof sentinel_known, "%s", addr);
		return false;
	}
	log_notice("sentinel: the master moved from %s to %s (a failover)",
	    sentinel_known, addr);
	snprintf(sentinel_known, sizeof sentinel_known, "%s", addr);
	sentinel_moves++;
	return true;
}

uint64_t
sentinel_failovers(void)
{
	return sentinel_moves;
}

void
sentinel_distrust(struct sentinel *s)
{
	if (sentinel_first == s->at)
		sentinel_first = (s->at + 1) % s->n;
}
