/*
 * One Redis link on hiredis async and libevent (rlink.h), in stream.c's
 * patterns: `ac = NULL` before a free, replies checked against the live
 * context, and hiredis 0.14's missing connect timeout made with a timer.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>
#include <openssl/evp.h>

#include "conf.h"
#include "log.h"
#include "rlink.h"
#include "sentinel.h"
#include "xmalloc.h"

#define RLINK_BACKOFF_MIN_MS	100
#define RLINK_CHECK_MS		5000	/* with sentinels: still the master? */

enum rlink_state {
	RLINK_DOWN,		/* waiting for the retry timer */
	RLINK_CONNECTING,	/* connect, AUTH and PING under way */
	RLINK_UP,
};

struct rlink {
	char			*name;
	struct event_base	*base;
	const struct conf	*conf;
	rlink_state_cb		 state_cb;
	void			*arg;

	redisAsyncContext	*ac;
	enum rlink_state	 state;
	struct event		*retry_ev;	/* reconnect and connect timeout */
	int64_t			 backoff_ms;
	bool			 started;
	char			*last_error;

	struct sentinel		*sentinel;	/* NULL: redis.host/port */
	char			 master_host[256]; /* connected to, by sentinel */
	int			 master_port;
	struct event		*check_ev;	/* re-asks the sentinels */
};

/* One command in flight; for a script, what a resend as EVAL needs. */
struct rlink_req {
	rlink_reply_cb		 cb;
	void			*arg;
	struct rlink		*rl;
	struct rlink_script	*script;	/* NULL: a plain command */
	int			 argc;		/* EVAL's, for the resend */
	char			**argv;
	size_t			*argvlen;
};

static void rlink_connect(struct rlink *rl);
static void rlink_connect_ac(struct rlink *rl, redisAsyncContext *ac);

static void
rlink_timer(struct event *ev, int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	event_add(ev, &tv);
}

/* Log a failure once per outage, and say so when the link was up. */
static void
rlink_report(struct rlink *rl, const char *why)
{
	if (rl->state == RLINK_UP)
		log_warnx("rlink %s: redis link lost: %s", rl->name, why);
	else if (rl->last_error == NULL)
		log_warnx("rlink %s: redis unavailable: %s", rl->name, why);
	else
		log_debug("rlink %s: redis still unavailable: %s", rl->name,
		    why);
	free(rl->last_error);
	rl->last_error = xstrdup(why);
}

/* Drop the connection (if any) and try again after the backoff. */
static void
rlink_retry(struct rlink *rl, const char *why)
{
	redisAsyncContext *ac = rl->ac;
	bool was_up = rl->state == RLINK_UP;
	int64_t jitter;

	rlink_report(rl, why);
	rl->state = RLINK_DOWN;
	rl->ac = NULL;
	if (ac != NULL) {
		ac->data = NULL;
		redisAsyncFree(ac);	/* pending callbacks get NULL */
	}
	if (rl->backoff_ms == 0)
		rl->backoff_ms = RLINK_BACKOFF_MIN_MS;
	else if (rl->backoff_ms < rl->conf->reconnect_max_ms)
		rl->backoff_ms *= 2;
	if (rl->backoff_ms > rl->conf->reconnect_max_ms)
		rl->backoff_ms = rl->conf->reconnect_max_ms;
	jitter = rl->backoff_ms / 5 > 0 ? random() % (rl->backoff_ms / 5) : 0;
	rlink_timer(rl->retry_ev, rl->backoff_ms - jitter);
	if (was_up && rl->state_cb != NULL)
		rl->state_cb(rl->arg, false);
}

static void
rlink_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct rlink *rl = arg;

	(void)fd;
	(void)events;
	if (rl->state == RLINK_CONNECTING)
		rlink_retry(rl, "connect timed out");
	else if (rl->state == RLINK_DOWN)
		rlink_connect(rl);
}

/* The reply to our own AUTH or PING. */
static void
rlink_setup_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct rlink *rl = privdata;
	redisReply *reply = r;
	char why[512];

	if (reply == NULL || rl->ac != c)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		/* Never echo the password: only Redis's own message. */
		snprintf(why, sizeof why, "%s", reply->str);
		rlink_retry(rl, why);
		return;
	}
	if (reply->type == REDIS_REPLY_ARRAY && rl->sentinel != NULL) {
		char *cause = NULL;

		/* ROLE: the sentinels' address must be the master's. */
		if (sentinel_parse_role(reply, &cause) == -1) {
			snprintf(why, sizeof why, "%s:%d: %s", rl->master_host,
			    rl->master_port, cause);
			free(cause);
			sentinel_distrust(rl->sentinel);
			rlink_retry(rl, why);
		} else
			(void)sentinel_confirm(rl->master_host,
			    rl->master_port);
		return;
	}
	if (reply->type != REDIS_REPLY_STATUS || strcmp(reply->str,
	    "PONG") != 0 || rl->state != RLINK_CONNECTING)
		return;		/* AUTH's OK */
	event_del(rl->retry_ev);
	rl->state = RLINK_UP;
	rl->backoff_ms = 0;
	if (rl->last_error != NULL)
		log_notice("rlink %s: connected to redis", rl->name);
	free(rl->last_error);
	rl->last_error = NULL;
	if (rl->state_cb != NULL)
		rl->state_cb(rl->arg, true);
}

static void
rlink_connect_cb(const redisAsyncContext *c, int status)
{
	struct rlink *rl = c->data;
	const struct conf *cf;
	const char *argv[3];
	size_t argvlen[3];
	int argc = 0, i;
	char why[256];

	if (rl == NULL || c != rl->ac)
		return;
	if (status != REDIS_OK) {
		snprintf(why, sizeof why, "connect: %s", c->errstr);
		rl->ac = NULL;	/* hiredis frees it after this callback */
		rlink_retry(rl, why);
		return;
	}
	cf = rl->conf;
	if (cf->redis_password != NULL) {
		argv[argc++] = "AUTH";
		if (cf->redis_user != NULL)
			argv[argc++] = cf->redis_user;
		argv[argc++] = cf->redis_password;
		for (i = 0; i < argc; i++)
			argvlen[i] = strlen(argv[i]);
		redisAsyncCommandArgv(rl->ac, rlink_setup_cb, rl, argc, argv,
		    argvlen);
	}
	if (rl->sentinel != NULL && rl->ac != NULL) {
		argv[0] = "ROLE";
		argvlen[0] = 4;
		redisAsyncCommandArgv(rl->ac, rlink_setup_cb, rl, 1, argv,
		    argvlen);
	}
	argv[0] = "PING";
	argvlen[0] = 4;
	if (rl->ac != NULL)
		redisAsyncCommandArgv(rl->ac, rlink_setup_cb, rl, 1, argv,
		    argvlen);
}

static void
rlink_disconnect_cb(const redisAsyncContext *c, int status)
{
	struct rlink *rl = c->data;
	char why[256];

	if (rl == NULL || c != rl->ac)
		return;
	snprintf(why, sizeof why, "%s", status == REDIS_OK ? "closed" :
	    c->errstr);
	rl->ac = NULL;		/* freed by hiredis after this callback */
	rlink_retry(rl, why);
}

/*
 * The sentinels' answer: connect while connecting; while up (the
 * periodic check), a different master means a failover to follow.
 */
static void
rlink_resolved_cb(void *arg, const char *host, int port, const char *err)
{
	struct rlink *rl = arg;
	char why[512];

	if (rl->state == RLINK_CONNECTING && rl->ac == NULL) {
		if (err != NULL) {
			rlink_retry(rl, err);
			return;
		}
		snprintf(rl->master_host, sizeof rl->master_host, "%s", host);
		rl->master_port = port;
		rlink_connect_ac(rl, redisAsyncConnect(host, port));
		return;
	}
	if (err != NULL || rl->state != RLINK_UP)
		return;
	if (strcmp(host, rl->master_host) != 0 || port != rl->master_port) {
		snprintf(why, sizeof why, "the sentinels name %s:%d as the "
		    "master now", host, port);
		rlink_retry(rl, why);
	}
}

static void
rlink_check_cb(evutil_socket_t fd, short events, void *arg)
{
	struct rlink *rl = arg;

	(void)fd;
	(void)events;
	if (rl->state == RLINK_UP)
		(void)sentinel_resolve(rl->sentinel, rlink_resolved_cb, rl);
}

static void
rlink_connect(struct rlink *rl)
{
	const struct conf *c = rl->conf;
	redisAsyncContext *ac;

	rl->state = RLINK_CONNECTING;
	if (rl->sentinel != NULL) {
		/* -1: a check is under way, and its answer connects. */
		(void)sentinel_resolve(rl->sentinel, rlink_resolved_cb, rl);
		return;
	}
	if (c->redis_socket != NULL)
		ac = redisAsyncConnectUnix(c->redis_socket);
	else
		ac = redisAsyncConnect(c->redis_host, c->redis_port);
	rlink_connect_ac(rl, ac);
}

/* Set up a connection under way, or retry when it failed at once. */
static void
rlink_connect_ac(struct rlink *rl, redisAsyncContext *ac)
{
	char why[256];

	if (ac == NULL)
		fatalx("rlink %s: out of memory", rl->name);
	if (ac->err) {
		snprintf(why, sizeof why, "connect: %s", ac->errstr);
		redisAsyncFree(ac);
		rlink_retry(rl, why);
		return;
	}
	ac->data = rl;
	rl->ac = ac;
	redisLibeventAttach(ac, rl->base);
	redisAsyncSetConnectCallback(ac, rlink_connect_cb);
	redisAsyncSetDisconnectCallback(ac, rlink_disconnect_cb);
	rlink_timer(rl->retry_ev, rl->conf->connect_timeout_ms);
}

struct rlink *
rlink_create(struct event_base *base, const struct conf *c, const char *name,
    rlink_state_cb state_cb, void *arg)
{
	struct rlink *rl = xcalloc(1, sizeof *rl);

	rl->name = xstrdup(name);
	rl->base = base;
	rl->conf = c;
	rl->state_cb = state_cb;
	rl->arg = arg;
	rl->state = RLINK_DOWN;
	rl->retry_ev = evtimer_new(base, rlink_retry_cb, rl);
	if ((rl->sentinel = sentinel_create(base, c)) != NULL) {
		struct timeval tv = { RLINK_CHECK_MS / 1000, 0 };

		rl->check_ev = event_new(base, -1, EV_PERSIST, rlink_check_cb,
		    rl);
		event_add(rl->check_ev, &tv);
	}
	return rl;
}

void
rlink_start(struct rlink *rl)
{
	if (rl->started)
		return;
	rl->started = true;
	rlink_connect(rl);
}

void
rlink_free(struct rlink *rl)
{
	redisAsyncContext *ac;

	if (rl == NULL)
		return;
	ac = rl->ac;
	rl->ac = NULL;
	rl->state = RLINK_DOWN;
	if (ac != NULL) {
		ac->data = NULL;
		redisAsyncFree(ac);
	}
	event_free(rl->retry_ev);
	if (rl->check_ev != NULL)
		event_free(rl->check_ev);
	sentinel_free(rl->sentinel);
	free(rl->last_error);
	free(rl->name);
	free(rl);
}

bool
rlink_up(const struct rlink *rl)
{
	return rl->state == RLINK_UP && rl->ac != NULL;
}

const char *
rlink_last_error(const struct rlink *rl)
{
	return rl->last_error;
}

static void
rlink_req_free(struct rlink_req *req)
{
	int i;

	for (i = 0; i < req->argc; i++)
		free(req->argv[i]);
	free(req->argv);
	free(req->argvlen);
	free(req);
}

/*
 * hiredis's callback for every command of ours. With NULL (lost or
 * freed) it touches nothing but req: the link may be gone.
 */
static void
rlink_done_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct rlink_req *req = privdata;
	struct rlink *rl = req->rl;
	redisReply *reply = r;

	if (reply != NULL && req->script != NULL &&
	    reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "NOSCRIPT", 8) == 0 && rl->ac == c) {
		log_debug("rlink %s: script %s not cached, sent whole",
		    rl->name, req->script->name);
		req->script = NULL;	/* one resend at most */
		if (redisAsyncCommandArgv(c, rlink_done_cb, req, req->argc,
		    (const char **)req->argv, req->argvlen) == REDIS_OK)
			return;
		reply = NULL;
	}
	req->cb(req->arg, reply);
	rlink_req_free(req);
}

int
rlink_command(struct rlink *rl, rlink_reply_cb cb, void *arg, int argc,
    const char **argv, const size_t *argvlen)
{
	struct rlink_req *req;

	if (!rlink_up(rl))
		return -1;
	req = xcalloc(1, sizeof *req);
	req->cb = cb;
	req->arg = arg;
	req->rl = rl;
	if (redisAsyncCommandArgv(rl->ac, rlink_done_cb, req, argc, argv,
	    argvlen) != REDIS_OK) {
		free(req);
		return -1;
	}
	return 0;
}

/* The script's SHA-1 in hex, computed once. */
static void
rlink_script_sha(struct rlink_script *s)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	if (s->sha[0] != '\0')
		return;
	if (EVP_Digest(s->text, strlen(s->text), md, &len, EVP_sha1(),
	    NULL) != 1 || len != 20)
		fatalx("rlink: cannot hash script %s", s->name);
	for (i = 0; i < len; i++) {
		s->sha[2 * i] = hex[md[i] >> 4];
		s->sha[2 * i + 1] = hex[md[i] & 0xf];
	}
	s->sha[40] = '\0';
}

int
rlink_eval(struct rlink *rl, struct rlink_script *s, rlink_reply_cb cb,
    void *arg, int nkeys, int argc, const char **argv,
    const size_t *argvlen)
{
	struct rlink_req *req;
	char nk[16];
	int i, n = argc + 3;

	if (!rlink_up(rl))
		return -1;
	rlink_script_sha(s);
	snprintf(nk, sizeof nk, "%d", nkeys);
	req = xcalloc(1, sizeof *req);
	req->cb = cb;
	req->arg = arg;
	req->rl = rl;
	req->script = s;
	/* EVAL's arguments, kept for a resend; argv[1] is the SHA first. */
	req->argc = n;
	req->argv = xcalloc((size_t)n, sizeof *req->argv);
	req->argvlen = xcalloc((size_t)n, sizeof *req->argvlen);
	req->argv[0] = xstrdup("EVALSHA");
	req->argvlen[0] = 7;
	req->argv[1] = xstrdup(s->sha);
	req->argvlen[1] = 40;
	req->argv[2] = xstrdup(nk);
	req->argvlen[2] = strlen(nk);
	for (i = 0; i < argc; i++) {
		req->argvlen[i + 3] = argvlen != NULL ? argvlen[i] :
		    strlen(argv[i]);
		req->argv[i + 3] = xmalloc(req->argvlen[i + 3] + 1);
		memcpy(req->argv[i + 3], argv[i], req->argvlen[i + 3]);
		req->argv[i + 3][req->argvlen[i + 3]] = '\0';
	}
	if (redisAsyncCommandArgv(rl->ac, rlink_done_cb, req, n,
	    (const char **)req->argv, req->argvlen) != REDIS_OK) {
		rlink_req_free(req);
		return -1;
	}
	/* Ready for the resend as EVAL with the text. */
	free(req->argv[0]);
	req->argv[0] = xstrdup("EVAL");
	req->argvlen[0] = 4;
	free(req->argv[1]);
	req->argv[1] = xstrdup(s->text);
	req->argvlen[1] = strlen(s->text);
	return 0;
}
