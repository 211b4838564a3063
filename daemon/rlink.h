/*
 * A general-purpose Redis link for the HA modules: one hiredis async
 * connection on the loop, with a connect timer (hiredis 0.14 has none),
 * AUTH, a PING before it counts as up, and reconnection with backoff.
 * Commands are sent only while it is up; each callback runs exactly once,
 * with the reply or with NULL when the link is lost (or freed) first.
 * The stream reader keeps its own connection (stream.c).
 */
#ifndef STABILD_RLINK_H
#define STABILD_RLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct conf;
struct redisReply;
struct rlink;

/* r is the reply (hiredis frees it after the call), NULL: link lost. */
typedef void (*rlink_reply_cb)(void *arg, const struct redisReply *r);
/* The link came up (true) or went down (false). */
typedef void (*rlink_state_cb)(void *arg, bool up);

/*
 * c is borrowed (a reload changes it in place); name is copied and
 * names the link in the log ("ha", "claims"). state_cb may be NULL.
 */
struct rlink *rlink_create(struct event_base *base, const struct conf *c,
    const char *name, rlink_state_cb state_cb, void *arg);
/* Connect; on failure retry with backoff until rlink_free. */
void rlink_start(struct rlink *rl);
/* Pending callbacks are called with NULL first: free it before their args. */
void rlink_free(struct rlink *rl);
bool rlink_up(const struct rlink *rl);
/* Why the link is down, or NULL. */
const char *rlink_last_error(const struct rlink *rl);

/*
 * Send one command. 0: cb will be called once. -1: not sent (the link is
 * down), cb is not called.
 */
int rlink_command(struct rlink *rl, rlink_reply_cb cb, void *arg, int argc,
    const char **argv, const size_t *argvlen);

/*
 * A Lua script, usually static: sha is filled from text on first use.
 * rlink_eval sends EVALSHA and, on NOSCRIPT (a restarted or failed-over
 * Redis), EVAL with the text; cb sees the script's reply either way.
 * argv holds nkeys keys, then the other arguments. Returns as
 * rlink_command.
 */
struct rlink_script {
	const char	*name;		/* for the log */
	const char	*text;
	char		 sha[41];	/* hex SHA-1 of text; "" until used */
};
int rlink_eval(struct rlink *rl, struct rlink_script *s, rlink_reply_cb cb,
    void *arg, int nkeys, int argc, const char **argv,
    const size_t *argvlen);

#endif
