/*
 * Redis stream consumer on hiredis async and libevent. A connection goes
 * DISCONNECTED → CONNECTING → PREPARING → PENDING → READING; losing it
 * returns to DISCONNECTED and a backoff timer tries again. Entries are
 * acknowledged only once a checkpoint covers them.
 *
 * Each stream key read (redis.stream, then the indicators' own streams)
 * has a reader of its own: a struct stream with its connection, chained
 * from the first by `sibling`. The public functions take the first and
 * act on the whole chain.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "clock.h"
#include "conf.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "reply.h"
#include "sentinel.h"
#include "stall.h"
#include "stream.h"
#include "xmalloc.h"

#define STREAM_BACKOFF_MIN_MS	100
#define STREAM_INFO_MS		5000
#define STREAM_ACK_CHUNK	1000
#define STREAM_ACK_TURN		4	/* XACK commands per turn of the loop */
#define STREAM_SLICE_NS		1000000	/* counting per turn of the loop */
/*
 * Batches held or asked for before a reader stops asking Redis for more,
 * and reads on the wire at once where that is safe (stream_reads_max).
 */
#define STREAM_AHEAD		3
#define STREAM_READS		2
#define STREAM_FIELDS_STACK	64
/* Dead letters read a round trip, looking for an earlier copy. */
#define STREAM_DL_PAGE		500
/* Dead letters one script looks through (a few ms of Redis's time). */
#define STREAM_DL_SCAN		2000
/* A read's reply is late by this much beyond BLOCK and connect_timeout. */
#define STREAM_WATCH_MS		1000

/*
 * Entries read while the detector is busy, or left over when a turn's
 * slice of counting ran out, kept with the reply's memory (hiredis would
 * free it after the callback), to be handed to ingest from `next` on in
 * a later turn.
 */
struct stream_batch {
	struct reply_arena	*arena;
	const redisReply	*entries;
	size_t			 next;
	bool			 redelivered;
	int64_t			 now;
	uint64_t		 gate_seq;	/* HA: the log read it waits for */
	struct stream_batch	*link;
};

/* An entry received and not yet acknowledged. */
struct stream_entry {
	struct stream_id id;
	uint8_t		 flags;
#define STREAM_ENTRY_DL_SENT	0x1	/* dead-letter XADD not yet confirmed */
#define STREAM_ENTRY_DL_FAILED	0x2	/* keep unacknowledged: re-read later */
#define STREAM_ENTRY_ACKED	0x4	/* XACK sent: drop from the list */
};

struct stream {
	int			 k;		/* ingest's stream number */
	char			*key;		/* the stream read */
	struct stream		*head;		/* the first reader */
	struct stream		*sibling;	/* the next reader, or NULL */
	struct reply_reader	*replies;	/* its replies' arena */
	struct event_base	*base;
	const struct conf	*conf;
	struct ingest		*in;
	stream_checkpoint_cb	 checkpoint_cb;
	void			*checkpoint_arg;

	redisAsyncContext	*ac;
	enum stream_state	 state;
	struct event		*retry_ev;	/* reconnect and connect timeout */
	struct event		*info_ev;	/* lag and pending poll */
	int64_t			 backoff_ms;
	bool			 ever_connected;
	bool			 link_up;	/* last reported link state */
	char			*last_error;	/* last reported failure */
	int64_t			 down_since;	/* Unix s: link lost, or start */
	int64_t			 retry_at_ms;	/* Unix ms of the next attempt */
	struct stream_id	 pending_from;	/* paging through pending */
	bool			 idle;
	bool			 dl_script_warned; /* said once per link */
	/*
	 * XREADGROUPs sent and answered on this connection (answers come in
	 * order); those up to reads_void were sent before the held entries
	 * were dropped, and their answers are ignored.
	 */
	uint64_t		 reads_sent;
	uint64_t		 reads_done;
	uint64_t		 reads_void;
	bool			 full;		/* the last read filled its COUNT */
	bool			 feeding;	/* in stream_feed: no nested feed */
	struct stream_batch	*held;		/* waiting for ingest, in order */
	struct event		*feed_ev;	/* counts held entries next turn */

	struct stream_entry	*unacked;
	size_t			 nunacked;
	size_t			 capunacked;
	size_t			 nacked;	/* of them, XACK sent: to drop */
	bool			 unsorted;	/* an id came again or back */
	size_t			 ackpos;	/* an XACK sweep got this far */
	bool			 acking;	/* a sweep is under way */
	bool			 ack_again;	/* and another was asked for */
	struct event		*ack_ev;	/* the sweep's next turn */

	int64_t			 lag;
	int64_t			 pending;
	int64_t			 length;

	const struct stream_gate *gate;		/* HA: NULL when off */
	void			*gate_arg;
	uint64_t		 gate_gen;	/* requests of this link */
	uint64_t		 gate_sent;	/* log reads sent on this link */
	uint64_t		 gate_done;	/* of them, answered (in order) */
	uint64_t		 gate_wait;	/* feeding waits for this one */
	uint64_t		 gate_behind;	/* the one behind the last read */

	/* Following a failover (redis.sentinels or HA). */
	struct sentinel		*sentinel;	/* NULL: redis.host/port */
	char			 master_host[256]; /* connected to, by sentinel */
	int			 master_port;
	struct event		*watch_ev;	/* a read's reply is overdue */
	bool			 replay_told;	/* replayed entries logged */
};

static int64_t stream_now(void);
static uint64_t stream_reads_out(const struct stream *st);
static void stream_connect(struct stream *st);
static int stream_read(struct stream *st);
static void stream_drop_held(struct stream *st);
static void stream_prepare(struct stream *st);
static void stream_info_timer_cb(evutil_socket_t fd, short events, void *arg);
static void stream_watch(struct stream *st);
static void stream_unacked_clear(struct stream *st);
static void stream_connect_ac(struct stream *st, redisAsyncContext *ac);
static void stream_resolved_cb(void *arg, const char *host, int port,
    const char *err);
static void stream_gate_send(struct stream *st);
static bool stream_gate_ready(const struct stream *st);
static bool stream_gate_before(struct stream *st, const redisReply *e);

/*
 * Whether the master may change under us (Sentinel, or HA): the
 * checkpoint, not the group, says what was counted.
 */
static bool
stream_follows(const struct stream *st)
{
	return st->conf->redis_sentinels != NULL || st->conf->ha_enabled;
}

const char *
stream_state_name(enum stream_state s)
{
	switch (s) {
	case STREAM_DISCONNECTED:
		return "disconnected";
	case STREAM_CONNECTING:
		return "connecting";
	case STREAM_PREPARING:
		return "preparing";
	case STREAM_PENDING:
		return "pending";
	case STREAM_READING:
		return "reading";
	case STREAM_STOPPED:
		return "stopped";
	}
	return "unknown";
}

/* The one place the state changes. */
static void
stream_set_state(struct stream *st, enum stream_state s)
{
	if (st->state == s)
		return;
	log_debug("stream: %s -> %s", stream_state_name(st->state),
	    stream_state_name(s));
	st->state = s;
	if ((s == STREAM_PENDING || s == STREAM_READING) && !st->link_up) {
		st->link_up = true;
		st->down_since = 0;
		st->retry_at_ms = 0;
		free(st->last_error);
		st->last_error = NULL;
		if (st->ever_connected)
			metrics.redis_reconnects++;
		log_notice("stream: connected to redis, consuming %s as %s/%s",
		    st->key, st->conf->group, st->conf->consumer);
		st->ever_connected = true;
	}
}

/* Log a failure once per distinct cause while the link is down. */
static void
stream_report(struct stream *st, const char *what)
{
	metrics.redis_errors++;
	if (st->link_up) {
		st->link_up = false;
		st->down_since = stream_now();
		log_warnx("stream: redis link lost: %s", what);
	} else if (st->last_error == NULL)
		log_warnx("stream: redis unavailable: %s", what);
	else
		log_debug("stream: redis still unavailable: %s", what);
	free(st->last_error);
	st->last_error = xstrdup(what);
}

static int64_t
stream_now(void)
{
	return (int64_t)time(NULL);
}

static void
stream_timer(struct event *ev, int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	event_add(ev, &tv);
}

/* Drop the connection (if any) and try again after the backoff. */
static void
stream_retry(struct stream *st, const char *why)
{
	redisAsyncContext *ac = st->ac;
	int64_t jitter;

	st->ac = NULL;
	if (ac != NULL)
		redisAsyncFree(ac);
	stream_unacked_clear(st);	/* all are in our pending list */
	stream_drop_held(st);
	if (st->state == STREAM_STOPPED)
		return;
	stream_report(st, why);
	stream_set_state(st, STREAM_DISCONNECTED);
	if (st->backoff_ms == 0)
		st->backoff_ms = STREAM_BACKOFF_MIN_MS;
	else if (st->backoff_ms < st->conf->reconnect_max_ms)
		st->backoff_ms *= 2;
	if (st->backoff_ms > st->conf->reconnect_max_ms)
		st->backoff_ms = st->conf->reconnect_max_ms;
	/* Up to 20% jitter so that many daemons do not reconnect together. */
	jitter = st->backoff_ms / 5 > 0 ? random() % (st->backoff_ms / 5) : 0;
	stream_timer(st->retry_ev, st->backoff_ms - jitter);
	st->retry_at_ms = stream_now() * 1000 + st->backoff_ms - jitter;
}

/* Whether a callback's reply belongs to the live connection. */
static bool
stream_live(const struct stream *st, const redisAsyncContext *c)
{
	return st->ac != NULL && c == st->ac && st->state != STREAM_STOPPED;
}

static void
stream_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct stream *st = arg;

	(void)fd;
	(void)events;
	if (st->state == STREAM_CONNECTING) {
		stream_retry(st, "connect timed out");
		return;
	}
	if (st->state == STREAM_DISCONNECTED)
		stream_connect(st);
}

static void
stream_connect_cb(const redisAsyncContext *c, int status)
{
	struct stream *st = c->data;

	if (st == NULL || c != st->ac)
		return;
	if (status != REDIS_OK) {
		char why[256];

		snprintf(why, sizeof why, "connect: %s", c->errstr);
		st->ac = NULL;	/* hiredis frees it after this callback */
		stream_retry(st, why);
		return;
	}
	event_del(st->retry_ev);
	stream_prepare(st);
}

static void
stream_disconnect_cb(const redisAsyncContext *c, int status)
{
	struct stream *st = c->data;
	char why[256];

	if (st == NULL || c != st->ac)
		return;
	snprintf(why, sizeof why, "%s", status == REDIS_OK ? "closed" :
	    c->errstr);
	st->ac = NULL;		/* freed by hiredis after this callback */
	stream_retry(st, why);
}

static void
stream_connect(struct stream *st)
{
	const struct conf *c = st->conf;
	redisAsyncContext *ac;

	stream_set_state(st, STREAM_CONNECTING);
	if (st->sentinel != NULL) {
		/* -1: a check is under way, and its answer connects. */
		(void)sentinel_resolve(st->sentinel, stream_resolved_cb, st);
		return;
	}
	if (c->redis_socket != NULL)
		ac = redisAsyncConnectUnix(c->redis_socket);
	else
		ac = redisAsyncConnect(c->redis_host, c->redis_port);
	stream_connect_ac(st, ac);
}

/* Set up a connection under way, or retry when it failed at once. */
static void
stream_connect_ac(struct stream *st, redisAsyncContext *ac)
{
	if (ac == NULL)
		fatalx("stream: out of memory");
	if (ac->err) {
		char why[256];

		snprintf(why, sizeof why, "connect: %s", ac->errstr);
		redisAsyncFree(ac);
		stream_retry(st, why);
		return;
	}
	st->dl_script_warned = false;
	st->reads_sent = st->reads_done = st->reads_void = 0;
	st->full = false;
	/* Keep the reader's buffer between replies instead of freeing and
	 * growing it again for every batch. */
	ac->c.reader->maxbuf = 0;
	ac->c.reader->fn = reply_functions();
	ac->c.reader->privdata = st->replies;
	ac->data = st;
	st->ac = ac;
	redisLibeventAttach(ac, st->base);
	redisAsyncSetConnectCallback(ac, stream_connect_cb);
	redisAsyncSetDisconnectCallback(ac, stream_disconnect_cb);
	/* hiredis 0.14 has no async connect timeout: this timer is it. */
	stream_timer(st->retry_ev, st->conf->connect_timeout_ms);
}

/*
 * The sentinels' answer: connect to the master while connecting;
 * once connected (a periodic check), a different master means a
 * failover, and the link is dropped to follow it.
 */
static void
stream_resolved_cb(void *arg, const char *host, int port, const char *err)
{
	struct stream *st = arg;
	char why[512];

	if (st->state == STREAM_CONNECTING && st->ac == NULL) {
		if (err != NULL) {
			stream_retry(st, err);
			return;
		}
		snprintf(st->master_host, sizeof st->master_host, "%s", host);
		st->master_port = port;
		stream_connect_ac(st, redisAsyncConnect(host, port));
		return;
	}
	if (err != NULL || st->ac == NULL || st->state < STREAM_PENDING ||
	    st->state == STREAM_STOPPED)
		return;
	if (strcmp(host, st->master_host) != 0 || port != st->master_port) {
		snprintf(why, sizeof why, "the sentinels name %s:%d as the "
		    "master now", host, port);
		stream_retry(st, why);
	}
}

/* A read unanswered for too long: a half-open socket to an old master. */
static void
stream_watch_cb(evutil_socket_t fd, short events, void *arg)
{
	struct stream *st = arg;

	(void)fd;
	(void)events;
	if (stream_reads_out(st) > 0 && st->ac != NULL &&
	    st->state != STREAM_STOPPED)
		stream_retry(st, "no reply to a read");
}

/*
 * Send a command; the reply goes to fn with st. -1 when there is no link:
 * a callback may have dropped it (st->ac NULL), or hiredis is tearing it
 * down and refuses new commands; the caller keeps what the command was for.
 */
static int
stream_command(struct stream *st, redisCallbackFn *fn, int argc,
    const char **argv, const size_t *argvlen)
{
	if (st->ac == NULL || redisAsyncCommandArgv(st->ac, fn, st, argc, argv,
	    argvlen) != REDIS_OK) {
		log_debug("stream: command %s not sent", argv[0]);
		return -1;
	}
	return 0;
}

/*
 * The reply of a setup command, or NULL when the link is gone or Redis
 * answered an error (then the link is retried, saying what failed with
 * Redis's own message only: never an argument, so never a password).
 */
static redisReply *
stream_setup_reply(struct stream *st, redisAsyncContext *c, void *r,
    const char *what)
{
	redisReply *reply = r;
	char why[256];

	if (!stream_live(st, c) || reply == NULL)
		return NULL;
	if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof why, "%s: %s", what, reply->str);
		stream_retry(st, why);
		return NULL;
	}
	return reply;
}

static void
stream_auth_cb(redisAsyncContext *c, void *r, void *privdata)
{
	(void)stream_setup_reply(privdata, c, r, "AUTH");
}

static void
stream_group_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct stream *st = privdata;
	redisReply *reply = r;
	char why[256];

	if (!stream_live(st, c) || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "BUSYGROUP", 9) != 0) {
		snprintf(why, sizeof why, "XGROUP CREATE: %s", reply->str);
		stream_retry(st, why);
		return;
	}
	if (reply->type != REDIS_REPLY_ERROR)
		log_notice("stream: created group %s on %s", st->conf->group,
		    st->key);
	st->backoff_ms = 0;
	memset(&st->pending_from, 0, sizeof st->pending_from);
	stream_set_state(st, STREAM_PENDING);
	stream_read(st);
}

static void stream_prepare_group(struct stream *st);

/* With sentinels: the address they gave must be the master's. */
static void
stream_role_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct stream *st = privdata;
	char *cause = NULL;

	if (!stream_live(st, c) || r == NULL)
		return;
	if (sentinel_parse_role(r, &cause) == -1) {
		char why[512];

		snprintf(why, sizeof why, "%s:%d: %s", st->master_host,
		    st->master_port, cause);
		free(cause);
		sentinel_distrust(st->sentinel);
		stream_retry(st, why);
		return;
	}
	(void)sentinel_confirm(st->master_host, st->master_port);
	metrics.redis_failovers = sentinel_failovers();
	stream_prepare_group(st);
}

/*
 * Raise the stream's last generated id to ours when lower (never
 * lower it): a new master that lost the old one's last writes must not
 * hand out ids we have counted already, or their entries would be
 * skipped as seen.
 */
static const char stream_setid_script[] =
    "local function lt(a, b)\n"
    "  if #a ~= #b then return #a < #b end\n"
    "  return a < b\n"
    "end\n"
    "local info = redis.call('XINFO', 'STREAM', KEYS[1])\n"
    "local last\n"
    "for i = 1, #info, 2 do\n"
    "  if info[i] == 'last-generated-id' then last = info[i + 1] end\n"
    "end\n"
    "local lm, ls = string.match(last, '^(%d+)-(%d+)$')\n"
    "local am, as = string.match(ARGV[1], '^(%d+)-(%d+)$')\n"
    "if lm == am and ls == as then return 0 end\n"
    "if (lm == am and lt(ls, as)) or (lm ~= am and lt(lm, am)) then\n"
    "  redis.call('XSETID', KEYS[1], ARGV[1])\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

static void
stream_setid_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct stream *st = privdata;
	redisReply *reply = stream_setup_reply(st, c, r, "XSETID");

	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER &&
	    reply->integer == 1)
		log_notice("stream: raised the last id of %s to the position "
		    "counted (the master had not seen our last entries)",
		    st->key);
}

/*
 * AUTH if configured; with sentinels ROLE; then create the group if
 * absent.
 */
static void
stream_prepare(struct stream *st)
{
	const struct conf *c = st->conf;
	const char *argv[6];
	size_t argvlen[6];
	int argc = 0;

	stream_set_state(st, STREAM_PREPARING);
	if (c->redis_password != NULL) {
		argv[argc++] = "AUTH";
		if (c->redis_user != NULL)
			argv[argc++] = c->redis_user;
		argv[argc++] = c->redis_password;
		for (int i = 0; i < argc; i++)
			argvlen[i] = strlen(argv[i]);
		stream_command(st, stream_auth_cb, argc, argv, argvlen);
	}
	if (st->sentinel != NULL) {
		argv[0] = "ROLE";
		argvlen[0] = 4;
		stream_command(st, stream_role_cb, 1, argv, argvlen);
		return;
	}
	stream_prepare_group(st);
}

/*
 * Create the group if absent: from the start, or, when the master may
 * change, from the checkpointed position (a new master's group may be
 * missing or behind; what the checkpoint holds is counted, and the
 * rest is read again). Then no id reuse (stream_setid_script).
 */
static void
stream_prepare_group(struct stream *st)
{
	const struct conf *c = st->conf;
	const struct stream_id zero = { 0, 0 };
	const struct stream_id *applied = ingest_applied_of(st->in, st->k);
	const char *argv[6];
	size_t argvlen[6];
	char from[STREAM_ID_MAX], last[STREAM_ID_MAX];

	st->replay_told = false;
	argv[0] = "XGROUP";
	argv[1] = "CREATE";
	argv[2] = st->key;
	argv[3] = c->group;
	argv[4] = "0";
	argv[5] = "MKSTREAM";
	if (stream_follows(st)) {
		stream_id_format(ingest_checkpointed_of(st->in, st->k), from);
		argv[4] = from;
	}
	for (int i = 0; i < 6; i++)
		argvlen[i] = strlen(argv[i]);
	stream_command(st, stream_group_cb, 6, argv, argvlen);
	if (!stream_follows(st) || stream_id_cmp(applied, &zero) == 0)
		return;
	stream_id_format(applied, last);
	argv[0] = "EVAL";
	argv[1] = stream_setid_script;
	argv[2] = "1";
	argv[3] = st->key;
	argv[4] = last;
	for (int i = 0; i < 5; i++)
		argvlen[i] = strlen(argv[i]);
	stream_command(st, stream_setid_cb, 5, argv, argvlen);
}

/*
 * The entries not yet acknowledged lie outside the checkpoint's fork
 * (MADV_DONTFORK), as the duplicate index does: the child saves nothing
 * of them, and marking a checkpoint's entries acknowledged after it
 * would otherwise fault on every page of the list (a few hundred faults
 * on the loop after each checkpoint of a live daemon).
 */
static void
stream_unacked_grow(struct stream *st)
{
	size_t cap = st->capunacked ? st->capunacked * 2 : 1024;

	st->unacked = xmap_grow(st->unacked, st->capunacked, cap,
	    sizeof *st->unacked, XMAP_NOFORK);
	st->capunacked = cap;
}

static void
stream_unacked_add(struct stream *st, const struct stream_id *id,
    uint8_t flags)
{
	if (st->nunacked == st->capunacked)
		stream_unacked_grow(st);
	/*
	 * Ids grow within a connection, except where a new master's group
	 * was behind: its pending list, then the same and older ids again.
	 */
	if (st->nunacked > 0 &&
	    stream_id_cmp(id, &st->unacked[st->nunacked - 1].id) <= 0)
		st->unsorted = true;
	st->unacked[st->nunacked].id = *id;
	st->unacked[st->nunacked].flags = flags;
	st->nunacked++;
}

static struct stream_entry *
stream_unacked_find(struct stream *st, const struct stream_id *id)
{
	struct stream_entry *any = NULL;
	size_t lo = 0, hi = st->nunacked, mid;
	int cmp;

	/* Out of order: the copy whose dead letter is in flight first. */
	if (st->unsorted) {
		for (mid = 0; mid < st->nunacked; mid++) {
			if (stream_id_cmp(&st->unacked[mid].id, id) != 0)
				continue;
			if (st->unacked[mid].flags & STREAM_ENTRY_DL_SENT)
				return &st->unacked[mid];
			if (any == NULL)
				any = &st->unacked[mid];
		}
		return any;
	}
	/* Entries arrive in id order within a connection: binary search. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = stream_id_cmp(&st->unacked[mid].id, id);
		if (cmp == 0)
			return &st->unacked[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * A dead-letter write in flight. It keeps a copy of the command: when
 * Redis refuses the source id as not new, the entry may be there already
 * (written before a crash, under its id or, if that was taken, a little
 * later under a new one), or a later one may have got in first (after a
 * failed write, or from another stream); XRANGE from the source id on
 * tells which, and in the second case the entry goes in under a new id,
 * still carrying its source_id (and source_stream).
 */
struct stream_dl {
	struct stream		*st;
	struct stream_id	 id;
	int			 argc;
	char			**argv;
	size_t			*argvlen;
	bool			 new_id;	/* sent with "*" */
	bool			 redelivered;	/* may have been written */
	char			 from[STREAM_ID_MAX + 1]; /* next XRANGE start */
};

static void stream_deadletter_cb(redisAsyncContext *, void *, void *);

static void
stream_dl_free(struct stream_dl *dl)
{
	int i;

	for (i = 0; i < dl->argc; i++)
		free(dl->argv[i]);
	free(dl->argv);
	free(dl->argvlen);
	free(dl);
}

/*
 * Send a dead-letter command. Without a link the entry stays
 * unacknowledged, to be read again and dead-lettered on the next one.
 */
static void
stream_dl_send(struct stream_dl *dl, redisCallbackFn *fn, int argc,
    char **argv, size_t *argvlen)
{
	struct stream *st = dl->st;
	struct stream_entry *e;

	if (st->ac != NULL && redisAsyncCommandArgv(st->ac, fn, dl, argc,
	    (const char **)argv, argvlen) == REDIS_OK)
		return;
	log_debug("stream: dead-letter %s not sent", argv[0]);
	if ((e = stream_unacked_find(st, &dl->id)) != NULL)
		e->flags = STREAM_ENTRY_DL_FAILED;
	stream_dl_free(dl);
}

/* The outcome of a dead-letter write for its unacknowledged entry. */
static void
stream_dl_settle(struct stream_dl *dl, bool ok, const char *why)
{
	struct stream *st = dl->st;
	struct stream_entry *e = stream_unacked_find(st, &dl->id);
	char idbuf[STREAM_ID_MAX];

	if (!ok) {
		/* Keep it unacknowledged: the next connection re-reads it. */
		metrics.redis_errors++;
		stream_id_format(&dl->id, idbuf);
		log_warnx("stream: dead-letter %s to %s failed: %s", idbuf,
		    st->conf->deadletter, why);
		if (e != NULL)
			e->flags = STREAM_ENTRY_DL_FAILED;
	} else if (e != NULL)
		e->flags = 0;
	stream_dl_free(dl);
}

/* A dead-letter command's reply, or NULL once dl is freed (link gone). */
static redisReply *
stream_dl_reply(redisAsyncContext *c, void *r, struct stream_dl *dl)
{
	if (!stream_live(dl->st, c) || r == NULL) {
		stream_dl_free(dl);
		return NULL;
	}
	return r;
}

/* Written now: counted, and the entry may be acknowledged. */
static void
stream_dl_written(struct stream_dl *dl)
{
	metrics.deadletter_writes++;
	stream_dl_settle(dl, true, NULL);
}

/* A field of an entry's field list, or NULL. */
static const redisReply *
stream_field(const redisReply *fl, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i + 1 < fl->elements; i += 2) {
		const redisReply *k = fl->element[i];

		if (k->type == REDIS_REPLY_STRING && k->len == len &&
		    memcmp(k->str, name, len) == 0)
			return fl->element[i + 1];
	}
	return NULL;
}

static bool
stream_reply_is(const redisReply *v, const char *s, size_t len)
{
	return v != NULL && v->type == REDIS_REPLY_STRING && v->len == len &&
	    memcmp(v->str, s, len) == 0;
}

/*
 * Whether the dead letters from our source id on hold this entry: one
 * with its source_id and source_stream (absent for the decision stream).
 * Two streams may have entries of the same id, and a dead letter that
 * could not have its source's id went in a little later under a new one.
 */
static bool
stream_dl_there(const struct stream_dl *dl, const redisReply *reply)
{
	const struct stream *st = dl->st;
	const redisReply *e, *fl, *v;
	size_t i;

	for (i = 0; i < reply->elements; i++) {
		e = reply->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    (fl = e->element[1])->type != REDIS_REPLY_ARRAY)
			continue;
		if (!stream_reply_is(stream_field(fl, "source_id"),
		    dl->argv[2], dl->argvlen[2]))
			continue;
		v = stream_field(fl, "source_stream");
		if (st->k == 0 ? v == NULL :
		    stream_reply_is(v, st->key, strlen(st->key)))
			return true;
	}
	return false;
}

/* Not there: add it under a new id, still with its source_id. */
static void
stream_dl_new_id(struct stream_dl *dl)
{
	free(dl->argv[2]);
	dl->argv[2] = xstrdup("*");
	dl->argvlen[2] = 1;
	dl->new_id = true;
	stream_dl_send(dl, stream_deadletter_cb, dl->argc, dl->argv,
	    dl->argvlen);
}

static void stream_deadletter_check_cb(redisAsyncContext *, void *, void *);

/* XRANGE deadletter FROM + COUNT n: is this entry there already? */
static void
stream_dl_look(struct stream_dl *dl)
{
	static char xrange[] = "XRANGE", plus[] = "+", count[] = "COUNT";
	char page[16], *argv[6];
	size_t argvlen[6];

	snprintf(page, sizeof page, "%d", STREAM_DL_PAGE);
	argv[0] = xrange;
	argvlen[0] = sizeof xrange - 1;
	argv[1] = dl->argv[1];		/* the dead-letter key */
	argvlen[1] = dl->argvlen[1];
	argv[2] = dl->from;
	argvlen[2] = strlen(dl->from);
	argv[3] = plus;
	argvlen[3] = sizeof plus - 1;
	argv[4] = count;
	argvlen[4] = sizeof count - 1;
	argv[5] = page;
	argvlen[5] = strlen(page);
	stream_dl_send(dl, stream_deadletter_check_cb, 6, argv, argvlen);
}

static void
stream_deadletter_check_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct stream_dl *dl = privdata;
	redisReply *reply = stream_dl_reply(c, r, dl);

	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ARRAY && stream_dl_there(dl, reply)) {
		stream_dl_settle(dl, true, NULL);	/* written before */
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		stream_dl_settle(dl, false, reply->str);
		return;
	}
	/* A full page: the copy may be further on. */
	if (reply->type == REDIS_REPLY_ARRAY &&
	    reply->elements == STREAM_DL_PAGE) {
		const redisReply *last = reply->element[reply->elements - 1];

		if (last->type == REDIS_REPLY_ARRAY && last->elements == 2 &&
		    last->element[0]->type == REDIS_REPLY_STRING &&
		    last->element[0]->len < STREAM_ID_MAX) {
			snprintf(dl->from, sizeof dl->from, "(%s",
			    last->element[0]->str);
			stream_dl_look(dl);
			return;
		}
	}
	stream_dl_new_id(dl);
}

/*
 * The look and the write under a new id in one script, so that two
 * instances (HA) that both find the entry missing cannot both write it.
 * It looks through at most ARGV[2] dead letters from ARGV[1] on (Redis
 * runs nothing else meanwhile) and answers 1 (written), 0 (there
 * already) or the last id it looked at, to go on from after it: what
 * another instance writes meanwhile goes in after that id, so the next
 * part sees it. A field counts where it first appears, as in
 * stream_field (an entry may carry its own source_id).
 */
static const char stream_dl_script[] =
    "redis.replicate_commands()\n"
    "local from, left = ARGV[1], tonumber(ARGV[2])\n"
    "local sid, sst = ARGV[3], ARGV[4]\n"
    "local last\n"
    "while left > 0 do\n"
    "  local n = math.min(left, 500)\n"
    "  local r = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', n)\n"
    "  for _, e in ipairs(r) do\n"
    "    local f, s, t, ts = e[2], nil, nil, false\n"
    "    for i = 1, #f, 2 do\n"
    "      if f[i] == 'source_id' and s == nil then s = f[i + 1]\n"
    "      elseif f[i] == 'source_stream' and not ts then\n"
    "        t, ts = f[i + 1], true\n"
    "      end\n"
    "    end\n"
    "    if s == sid and ((sst == '' and not ts) or t == sst) then\n"
    "      return 0\n"
    "    end\n"
    "  end\n"
    "  if #r < n then\n"
    "    redis.call('XADD', KEYS[1], '*', unpack(ARGV, 5))\n"
    "    return 1\n"
    "  end\n"
    "  left = left - #r\n"
    "  last = r[#r][1]\n"
    "  from = '(' .. last\n"
    "end\n"
    "return last\n";

static void stream_deadletter_script_cb(redisAsyncContext *, void *,
    void *);

/* Look for the entry from dl->from on, and write it if missing. */
static void
stream_dl_script_send(struct stream_dl *dl)
{
	static char eval[] = "EVAL", one[] = "1", empty[] = "";
	const struct stream *st = dl->st;
	char scan[16], **argv;
	size_t *argvlen;
	int argc = 0, i, n = 8 + dl->argc - 3;

	argv = xreallocarray(NULL, (size_t)n, sizeof *argv);
	argvlen = xreallocarray(NULL, (size_t)n, sizeof *argvlen);
	snprintf(scan, sizeof scan, "%d", STREAM_DL_SCAN);
#define STREAM_DL_EVAL_ARG(p, len) do {					\
	argv[argc] = (p);						\
	argvlen[argc++] = (len);					\
} while (0)
	STREAM_DL_EVAL_ARG(eval, sizeof eval - 1);
	STREAM_DL_EVAL_ARG((char *)stream_dl_script,
	    sizeof stream_dl_script - 1);
	STREAM_DL_EVAL_ARG(one, sizeof one - 1);
	STREAM_DL_EVAL_ARG(dl->argv[1], dl->argvlen[1]);	/* the key */
	STREAM_DL_EVAL_ARG(dl->from, strlen(dl->from));
	STREAM_DL_EVAL_ARG(scan, strlen(scan));
	STREAM_DL_EVAL_ARG(dl->argv[2], dl->argvlen[2]);	/* source id */
	if (st->k == 0)
		STREAM_DL_EVAL_ARG(empty, 0);
	else
		STREAM_DL_EVAL_ARG(st->key, strlen(st->key));
	/* The XADD's fields: reason, source_id, ... as first sent. */
	for (i = 3; i < dl->argc; i++)
		STREAM_DL_EVAL_ARG(dl->argv[i], dl->argvlen[i]);
#undef STREAM_DL_EVAL_ARG
	stream_dl_send(dl, stream_deadletter_script_cb, argc, argv, argvlen);
	free(argv);
	free(argvlen);
}

/* Whether a script's error says scripts cannot run here at all. */
static bool
stream_dl_no_scripts(const char *err)
{
	return strncmp(err, "NOPERM", 6) == 0 ||
	    strstr(err, "unknown command") != NULL ||
	    strstr(err, "NOSCRIPT") != NULL;
}

static void
stream_deadletter_script_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct stream_dl *dl = privdata;
	struct stream *st = dl->st;
	redisReply *reply = stream_dl_reply(c, r, dl);

	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
		stream_dl_written(dl);
		return;
	}
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
		stream_dl_settle(dl, true, NULL);	/* written before */
		return;
	}
	/* Looked through a part: on from after its last id. */
	if (reply->type == REDIS_REPLY_STRING &&
	    reply->len + 1 < sizeof dl->from) {
		snprintf(dl->from, sizeof dl->from, "(%.*s", (int)reply->len,
		    reply->str);
		stream_dl_script_send(dl);
		return;
	}
	/*
	 * No scripts here (an ACL, a renamed command): page by page, where
	 * two instances may race and write a dead letter twice, never lose
	 * it. Any other error (the write refused) keeps the entry
	 * unacknowledged, to be tried again.
	 */
	if (reply->type == REDIS_REPLY_ERROR &&
	    stream_dl_no_scripts(reply->str)) {
		if (!st->dl_script_warned) {
			log_warnx("stream: dead-letter script refused (%s); "
			    "looking page by page", reply->str);
			st->dl_script_warned = true;
		}
		stream_dl_look(dl);
		return;
	}
	stream_dl_settle(dl, false, reply->type == REDIS_REPLY_ERROR ?
	    reply->str : "unexpected reply to the dead-letter script");
}

static void
stream_deadletter_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct stream_dl *dl = privdata;
	struct stream *st = dl->st;
	redisReply *reply = stream_dl_reply(c, r, dl);

	if (reply == NULL)
		return;
	if (reply->type != REDIS_REPLY_ERROR) {
		stream_dl_written(dl);
		return;
	}
	if (dl->new_id || strstr(reply->str, "equal or smaller") == NULL) {
		stream_dl_settle(dl, false, reply->str);
		return;
	}
	/*
	 * Read for the first time, it cannot have been written: a new id
	 * at once. Read again (after a crash or a lost link), look for it
	 * from its source id on. With HA on, another instance writes the
	 * same dead letters: always look.
	 */
	if (!dl->redelivered && st->gate == NULL) {
		stream_dl_new_id(dl);
		return;
	}
	snprintf(dl->from, sizeof dl->from, "%.*s", (int)dl->argvlen[2],
	    dl->argv[2]);
	stream_dl_script_send(dl);
}
/* XADD the entry to the dead-letter stream under its own id. */
static void
stream_deadletter(struct stream *st, const char *idstr, size_t idlen,
    const struct stream_id *id, bool redelivered, const char *reason,
    const struct decision_field *fields, size_t nfields)
{
	struct stream_dl *dl = xcalloc(1, sizeof *dl);
	size_t i;
	int n = 0;

	dl->st = st;
	dl->id = *id;
	dl->redelivered = redelivered;
	dl->argv = xreallocarray(NULL, 9 + 2 * nfields, sizeof *dl->argv);
	dl->argvlen = xreallocarray(NULL, 9 + 2 * nfields,
	    sizeof *dl->argvlen);
#define STREAM_DL_ARG(p, len) do {					\
	dl->argv[n] = xmalloc((len) + 1);				\
	memcpy(dl->argv[n], (p), (len));				\
	dl->argv[n][(len)] = '\0';					\
	dl->argvlen[n++] = (len);					\
} while (0)
	STREAM_DL_ARG("XADD", 4);
	STREAM_DL_ARG(st->conf->deadletter, strlen(st->conf->deadletter));
	STREAM_DL_ARG(idstr, idlen);
	STREAM_DL_ARG("reason", 6);
	STREAM_DL_ARG(reason, strlen(reason));
	STREAM_DL_ARG("source_id", 9);
	STREAM_DL_ARG(idstr, idlen);
	/* Entries of the decision stream say nothing, as before. */
	if (st->k != 0) {
		STREAM_DL_ARG("source_stream", 13);
		STREAM_DL_ARG(st->key, strlen(st->key));
	}
	for (i = 0; i < nfields; i++) {
		STREAM_DL_ARG(fields[i].name, fields[i].namelen);
		STREAM_DL_ARG(fields[i].value, fields[i].valuelen);
	}
#undef STREAM_DL_ARG
	dl->argc = n;
	stream_dl_send(dl, stream_deadletter_cb, dl->argc, dl->argv,
	    dl->argvlen);
}

static void
stream_batch_free(struct stream_batch *b)
{
	reply_arena_free(b->arena);
	free(b);
}

/*
 * Keep entries[from..] for later. Only from the read's callback: the
 * reply is taken out of the arena whole (reply.h).
 */
static void
stream_hold(struct stream *st, const redisReply *entries, size_t from,
    bool redelivered, int64_t now, uint64_t gate_seq)
{
	struct stream_batch *b = xcalloc(1, sizeof *b), **tail;

	b->arena = reply_keep();
	b->entries = entries;
	b->next = from;
	b->redelivered = redelivered;
	b->now = now;
	b->gate_seq = gate_seq;
	for (tail = &st->held; *tail != NULL; tail = &(*tail)->link)
		;
	*tail = b;
}

/*
 * The link is gone or stopped: entries not yet counted stay in our
 * pending list in Redis and are read again from there.
 */
static void
stream_drop_held(struct stream *st)
{
	struct stream_batch *b;

	while ((b = st->held) != NULL) {
		st->held = b->link;
		stream_batch_free(b);
	}
	if (st->feed_ev != NULL)
		event_del(st->feed_ev);
	st->reads_void = st->reads_sent;
	/* HA: answers to this link's log reads are stale now. */
	st->gate_gen++;
	st->gate_sent = st->gate_done = st->gate_wait = st->gate_behind = 0;
	if (st->gate != NULL)
		st->gate->lost(st->gate_arg);
}

static void stream_entry(struct stream *, const redisReply *, bool, int64_t);

/*
 * Hand entries[*next..] to ingest while it takes them: a model fit or an
 * alert's strata make it busy, a write that fails puts it under
 * backpressure, and the rest waits for stream_resume.
 * True when the batch is done (or dropped with the link).
 */
static bool
stream_feed(struct stream *st, const redisReply *entries, size_t *next,
    bool redelivered, int64_t now, uint64_t deadline)
{
	struct stall_mark t0;
	bool all = true, sliced = false;

	stall_start(&t0);
	st->feeding = true;
	while (*next < entries->elements) {
		/*
		 * The link went down under us: the rest is read again from
		 * our pending list; a dead-letter could not be sent now
		 * anyway.
		 */
		if (st->ac == NULL)
			break;
		if (ingest_waits(st->in)) {
			all = false;
			break;
		}
		/* HA: control entries due first, or more of the log. */
		if (st->gate != NULL &&
		    !stream_gate_before(st, entries->element[*next])) {
			all = false;
			break;
		}
		stream_entry(st, entries->element[(*next)++], redelivered,
		    now);
		/*
		 * The turn's slice is used up (page faults after a
		 * checkpoint's fork make some slow): requests waiting are
		 * answered before the rest (stream_later).
		 */
		if (*next < entries->elements && stall_now() >= deadline) {
			all = false;
			sliced = true;
			break;
		}
	}
	st->feeding = false;
	/*
	 * A batch cut for time goes on next turn: the answer cache is
	 * invalidated once the batch is counted (or stops for another
	 * reason), not after each slice, so that an answer is never older
	 * than the batch under way while the cache keeps its hits.
	 */
	if (sliced && !ingest_waits(st->in))
		stall_step_read("counting a stream batch", &t0);
	else
		stall_step("counting a stream batch", &t0);
	return all;
}

/* The time of the first entry, and the detector's busy time then. */
static void
stream_first_entry(void)
{
	if (metrics.first_entry_ns != 0)
		return;
	metrics.first_entry_ns = stall_now();
	metrics.first_entry_cpu_ns = stall_cpu_now();
	metrics.first_entry_proc_ns = stall_proc_now();
	metrics.first_entry_checkpoints = metrics.checkpoints;
	if (metrics.busy_ns != NULL)
		metrics.first_entry_busy_ns = metrics.busy_ns(
		    metrics.busy_arg);
}

static void
stream_batch_done(struct stream *st)
{
	metrics.last_entry_ns = stall_now();
	metrics.last_entry_cpu_ns = stall_cpu_now();
	metrics.last_entry_proc_ns = stall_proc_now();
	metrics.last_entry_checkpoints = metrics.checkpoints;
	if (metrics.busy_ns != NULL)
		metrics.last_entry_busy_ns = metrics.busy_ns(metrics.busy_arg);
	metrics.last_entry_at = stream_now();
	if (st->checkpoint_cb != NULL &&
	    ingest_dirty(st->in) >= (uint64_t)st->conf->checkpoint_events)
		st->checkpoint_cb(st->checkpoint_arg);
}

/*
 * Held entries left for want of time go on in the next turn of the loop,
 * after the events ready now (a timer, not event_active: that would run
 * before the loop polls again). Those left because ingest waits go on
 * when stream_resume is called.
 */
static void
stream_later(struct stream *st)
{
	struct timeval tv = { 0, 0 };

	if (st->held != NULL && st->ac != NULL && !ingest_waits(st->in) &&
	    stream_gate_ready(st))
		evtimer_add(st->feed_ev, &tv);
}

static void stream_resume_one(struct stream *);

static void
stream_feed_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	stream_resume_one(arg);
}

/* Resume a reader in the next turn of the loop. */
static void
stream_kick(struct stream *st)
{
	struct timeval tv = { 0, 0 };

	if (st->ac != NULL && (st->held != NULL || stream_reads_out(st) == 0))
		evtimer_add(st->feed_ev, &tv);
}

/* Whether a reader of the chain is handing entries to ingest now. */
static bool
stream_chain_feeding(const struct stream *st)
{
	const struct stream *s;

	for (s = st->head; s != NULL; s = s->sibling) {
		if (s->feeding)
			return true;
	}
	return false;
}

/*
 * Entries wait, or ingest is busy or blocked: an empty answer is not the
 * stream drained, and a pending page's entries go first.
 */
static bool
stream_holding(const struct stream *st)
{
	return st->held != NULL || ingest_waits(st->in);
}

/* Reads on the wire now (their answers still to come). */
static uint64_t
stream_reads_out(const struct stream *st)
{
	uint64_t done = st->reads_done > st->reads_void ? st->reads_done :
	    st->reads_void;

	return st->reads_sent - done;
}

/*
 * Reads a reader may have on the wire at once. New entries while the last
 * read came back full: two, so that Redis has the next read in hand when
 * it answers one; the answers come in order. Once a read comes back short
 * the stream has run dry, and a second read would only block behind the
 * first, holding up every command sent after it (the acknowledgements at
 * a stop among them) for a second BLOCK. The pending list is paged from
 * the last id read, and HA's log reads go behind one read each: one at a
 * time.
 */
static uint64_t
stream_reads_max(const struct stream *st)
{
	return st->state == STREAM_READING && st->gate == NULL && st->full ?
	    STREAM_READS : 1;
}

/*
 * Ask for more while batches are counted, a slice per turn of the loop,
 * so that Redis prepares the next ones meanwhile; else the two would take
 * turns. Not while ingest is busy or blocked (that is backpressure). At
 * most STREAM_AHEAD batches held or asked for; stream_read keeps to the
 * reads allowed on the wire.
 */
static void
stream_read_ahead(struct stream *st)
{
	const struct stream_batch *b;
	uint64_t n;

	do {
		if (st->ac == NULL || ingest_waits(st->in))
			return;
		n = stream_reads_out(st);
		for (b = st->held; b != NULL; b = b->link)
			n++;
		if (n >= STREAM_AHEAD)
			return;
	} while (stream_read(st) == 0);
}

void
stream_resume(struct stream *st)
{
	struct stream *s;

	ingest_resume(st->in);
	/*
	 * Called from under stream_feed (the detector finished inside an
	 * entry): the feed under way goes on by itself, and the other
	 * readers' next turn of the loop, not inside ingest's.
	 */
	if (stream_chain_feeding(st)) {
		for (s = st->head; s != NULL; s = s->sibling)
			if (!s->feeding)
				stream_kick(s);
		return;
	}
	for (s = st->head; s != NULL; s = s->sibling)
		stream_resume_one(s);
}

static void
stream_resume_one(struct stream *st)
{
	struct stream_batch *b;
	uint64_t deadline;
	bool done;

	if (st->state != STREAM_PENDING && st->state != STREAM_READING)
		return;
	ingest_resume(st->in);
	/*
	 * Called from under stream_feed: a second feed would free the batch
	 * being read, or enter ingest inside ingest.
	 */
	if (stream_chain_feeding(st)) {
		stream_kick(st);
		return;
	}
	deadline = stall_now() + STREAM_SLICE_NS;
	while ((b = st->held) != NULL) {
		/* HA: not before the log read behind its read is in. */
		if (b->gate_seq > st->gate_wait)
			st->gate_wait = b->gate_seq;
		done = stream_feed(st, b->entries, &b->next, b->redelivered,
		    b->now, deadline);
		/* A lost link took the held batches (b too) with it. */
		if (st->ac == NULL)
			return;
		if (!done) {
			stream_batch_done(st);
			stream_later(st);
			return;
		}
		st->held = b->link;
		stream_batch_free(b);
		stream_batch_done(st);
		stream_read_ahead(st);
		if (st->held != NULL && stall_now() >= deadline) {
			stream_later(st);
			return;
		}
	}
	stream_read_ahead(st);
}

/* One entry of a read: [id, [field, value, ...]] (fields nil if deleted). */
static void
stream_entry(struct stream *st, const redisReply *e, bool redelivered,
    int64_t now)
{
	struct decision_field stackf[STREAM_FIELDS_STACK], *f = stackf;
	const redisReply *id_r, *fl;
	struct stream_id id;
	enum ingest_result res;
	char *cause = NULL;
	size_t i, n;
	bool replayed;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return;
	id_r = e->element[0];
	if (stream_id_parse(id_r->str, id_r->len, &id) == -1)
		return;
	/* HA: Redis's time at the XADD, the same on every instance. */
	if (st->gate != NULL) {
		clock_set_stream_ms((int64_t)id.ms);
		now = (int64_t)(id.ms / 1000);
	}
	metrics.entries_read++;
	fl = e->element[1];
	if (fl->type != REDIS_REPLY_ARRAY) {
		/* Deleted from the stream while pending: nothing to count. */
		log_warnx("stream: pending entry %s was deleted before it "
		    "was counted", id_r->str);
		stream_unacked_add(st, &id, 0);
		return;
	}
	n = fl->elements / 2;
	if (n > STREAM_FIELDS_STACK)
		f = xreallocarray(NULL, n, sizeof *f);
	for (i = 0; i < n; i++) {
		f[i].name = fl->element[2 * i]->str;
		f[i].namelen = fl->element[2 * i]->len;
		f[i].value = fl->element[2 * i + 1]->str;
		f[i].valuelen = fl->element[2 * i + 1]->len;
	}
	/*
	 * New to the group yet counted already: a new master lost our
	 * acknowledgements (or the group's position). The checkpoint is
	 * the truth: skipped as a redelivery, once said per link.
	 */
	replayed = !redelivered && stream_follows(st) &&
	    stream_id_cmp(&id, ingest_applied_of(st->in, st->k)) <= 0;
	if (replayed) {
		metrics.stream_replayed++;
		if (!st->replay_told)
			log_warnx("stream: entries of %s new to group %s were "
			    "counted before (from %s on): skipped, as after "
			    "a failover; if the stream was recreated, remove "
			    "the state directory", st->key, st->conf->group,
			    id_r->str);
		st->replay_told = true;
	}
	res = ingest_entry_from(st->in, st->k, &id, f, n,
	    redelivered || replayed, now, &cause);
	if (res == INGEST_INVALID) {
		log_debug("stream: entry %s dead-lettered: %s", id_r->str,
		    cause);
		stream_unacked_add(st, &id, STREAM_ENTRY_DL_SENT);
		stream_deadletter(st, id_r->str, id_r->len, &id,
		    redelivered || replayed, cause, f, n);
		free(cause);
	} else {
		if (res == INGEST_DUPLICATE)
			log_debug("stream: entry %s is a duplicate", id_r->str);
		stream_unacked_add(st, &id, 0);
	}
	if (f != stackf)
		free(f);
}

/* Every reader connected and drained. */
static bool
stream_chain_idle(const struct stream *st)
{
	const struct stream *s;

	for (s = st->head; s != NULL; s = s->sibling) {
		if (!s->idle || s->state != STREAM_READING)
			return false;
	}
	return true;
}

static void
stream_read_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct stream *st = privdata;
	redisReply *reply = r;
	const redisReply *entries;
	struct stall_mark t0;
	bool redelivered;
	int64_t now;
	uint64_t gate_seq;
	char why[256];

	event_del(st->watch_ev);
	if (!stream_live(st, c) || reply == NULL)
		return;
	st->reads_done++;
	if (stream_reads_out(st) > 0)
		stream_watch(st);
	/* Sent before the held entries were dropped: not ours to count. */
	if (st->reads_done <= st->reads_void)
		return;
	gate_seq = st->gate_behind;
	if (reply->type == REDIS_REPLY_ERROR) {
		if (strncmp(reply->str, "NOGROUP", 7) == 0) {
			/* Redis lost the group (restart without data). */
			log_warnx("stream: group %s is gone; creating it "
			    "again", st->conf->group);
			stream_unacked_clear(st);
			stream_drop_held(st);
			stream_prepare(st);
			return;
		}
		snprintf(why, sizeof why, "XREADGROUP: %s", reply->str);
		stream_retry(st, why);
		return;
	}
	redelivered = st->state == STREAM_PENDING;
	now = stream_now();
	entries = NULL;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
	    reply->element[0]->type == REDIS_REPLY_ARRAY &&
	    reply->element[0]->elements == 2)
		entries = reply->element[0]->element[1];
	st->full = entries != NULL && entries->type == REDIS_REPLY_ARRAY &&
	    entries->elements >= (size_t)st->conf->batch;
	if (entries == NULL || entries->type != REDIS_REPLY_ARRAY ||
	    entries->elements == 0) {
		if (st->state == STREAM_PENDING) {
			stream_set_state(st, STREAM_READING);
			if (!stream_holding(st))
				stream_read(st);
			return;
		}
		/* Not idle while entries wait; stream_resume reads on. */
		if (stream_holding(st))
			return;
		if (!st->idle) {
			stream_info_timer_cb(-1, 0, st);	/* fresh lag now */
			st->idle = true;
			/*
			 * Drained, it no longer holds the watermark back
			 * (ingest.h), which may close weeks: a step of ours
			 * (stall.h).
			 */
			stall_start(&t0);
			ingest_stream_idle(st->in, st->k, true);
			stall_step("a drained stream", &t0);
		}
		/*
		 * The clock moves it only when every reader is drained, so
		 * that a quiet stream does not move the watermark past one
		 * still catching up; the first reader's reads pace it, as
		 * with one stream.
		 */
		if (st == st->head && stream_chain_idle(st)) {
			stall_start(&t0);
			/* HA: the clock moves by the log's ticks only. */
			if (st->gate != NULL)
				st->gate->idle(st->gate_arg);
			else
				ingest_tick(st->in, now, true);
			stall_step("an idle tick", &t0);
		}
		stream_read(st);
		return;
	}
	st->idle = false;
	ingest_stream_idle(st->in, st->k, false);
	if (st->state == STREAM_PENDING) {
		const redisReply *last = entries->element[entries->elements - 1];

		/* With an explicit id, Redis returns the entries after it. */
		if (last->type == REDIS_REPLY_ARRAY && last->elements == 2 &&
		    stream_id_parse(last->element[0]->str,
		    last->element[0]->len, &st->pending_from) == -1)
			memset(&st->pending_from, 0, sizeof st->pending_from);
	}
	stream_hold(st, entries, 0, redelivered, now, gate_seq);
	/* Busy or blocked: the batch waits for stream_resume. */
	if (ingest_waits(st->in))
		return;
	/*
	 * Ask for the next batches, and count this one in the next turn of
	 * the loop: hiredis writes the requests only once this callback has
	 * returned (the write event), and the loop polls before it runs the
	 * feed's timer, so Redis prepares the next batch while we count this
	 * one. Counted here, the request would wait for the count, and Redis
	 * and the loop would take turns. Not written from here: a
	 * write that fails inside a reply callback makes hiredis 0.14 tear
	 * the link down under the callback, and the context was then freed
	 * twice. HA: the batch also waits for the log read behind its read
	 * (it comes next on this connection): stream_later leaves it to
	 * stream_gate_cb until then.
	 */
	stream_read_ahead(st);
	stream_first_entry();
	stream_later(st);
}

/* hiredis 0.14 has no command timeout: a half-open socket. */
static void
stream_watch(struct stream *st)
{
	const struct conf *c = st->conf;

	if (stream_follows(st))
		stream_timer(st->watch_ev, c->block_ms + c->connect_timeout_ms +
		    STREAM_WATCH_MS);
}

/*
 * XREADGROUP: pending entries from pending_from, or new ones with BLOCK,
 * up to stream_reads_max on the wire. -1 when none was sent.
 */
static int
stream_read(struct stream *st)
{
	const struct conf *c = st->conf;
	const char *argv[12];
	size_t argvlen[12];
	char count[24], block[24], from[STREAM_ID_MAX];
	int argc = 0, i;

	if (stream_reads_out(st) >= stream_reads_max(st) ||
	    (st->state != STREAM_PENDING && st->state != STREAM_READING))
		return -1;
	stream_watch(st);
	snprintf(count, sizeof count, "%d", c->batch);
	snprintf(block, sizeof block, "%" PRId64, c->block_ms);
	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = c->group;
	argv[argc++] = c->consumer;
	argv[argc++] = "COUNT";
	argv[argc++] = count;
	if (st->state == STREAM_READING) {
		argv[argc++] = "BLOCK";
		argv[argc++] = block;
	}
	argv[argc++] = "STREAMS";
	argv[argc++] = st->key;
	if (st->state == STREAM_READING)
		argv[argc++] = ">";
	else {
		stream_id_format(&st->pending_from, from);
		argv[argc++] = from;
	}
	for (i = 0; i < argc; i++)
		argvlen[i] = strlen(argv[i]);
	/* Not sent: the link is going, and the next one reads again. */
	if (stream_command(st, stream_read_cb, argc, argv, argvlen) == -1)
		return -1;
	st->reads_sent++;
	stream_gate_send(st);
	st->gate_behind = st->gate_sent;
	return 0;
}

/*
 * HA: the gate's log read, pipelined behind a read on this connection,
 * so that Redis runs it after the read (plan 1.2). Answers of a link
 * since dropped are ignored (gate_gen).
 */
struct stream_gate_req {
	struct stream	*st;
	uint64_t	 gen;
};

static void
stream_gate_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct stream_gate_req *q = privdata;
	struct stream *st = q->st;
	redisReply *reply = r;
	uint64_t gen = q->gen;
	char why[256];

	free(q);
	if (!stream_live(st, c) || gen != st->gate_gen)
		return;
	st->gate_done++;
	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof why, "XRANGE of the control log: %s",
		    reply->str);
		stream_retry(st, why);
		return;
	}
	st->gate->reply(st->gate_arg, reply);
	/*
	 * Counted in the next turn of the loop, as in stream_read_cb: the
	 * next read, queued with the batch, goes out first.
	 */
	stream_later(st);
}

static void
stream_gate_send(struct stream *st)
{
	struct stream_gate_req *q;
	const char **argv;
	const size_t *argvlen;
	int argc;

	if (st->gate == NULL || st->k != 0 || st->ac == NULL ||
	    st->gate->request(st->gate_arg, &argc, &argv, &argvlen) == 0)
		return;
	q = xmalloc(sizeof *q);
	q->st = st;
	q->gen = st->gate_gen;
	if (redisAsyncCommandArgv(st->ac, stream_gate_cb, q, argc, argv,
	    argvlen) != REDIS_OK) {
		free(q);
		return;
	}
	st->gate_sent++;
}

/* HA: whether the log reads the first held batch waits for are in. */
static bool
stream_gate_ready(const struct stream *st)
{
	uint64_t need = st->gate_wait;

	if (st->gate == NULL)
		return true;
	if (st->held != NULL && st->held->gate_seq > need)
		need = st->held->gate_seq;
	return st->gate_done >= need;
}

/*
 * Whether entry e may be handed to ingest now: the gate applies the
 * control entries due before it, or wants more of the log first (read
 * now, unless one is on its way) or ingest to be done.
 */
static bool
stream_gate_before(struct stream *st, const redisReply *e)
{
	struct stream_id id;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    stream_id_parse(e->element[0]->str, e->element[0]->len,
	    &id) == -1)
		return true;		/* stream_entry skips it */
	/* The log read behind this batch's read is not in yet. */
	if (st->gate_done < st->gate_wait)
		return false;
	if (st->gate->before(st->gate_arg, st->k, &id))
		return true;
	/*
	 * More of the log: a read already on its way will do (it may sit
	 * behind the next XREADGROUP, which comes back within its block),
	 * or a new one.
	 */
	if (!ingest_waits(st->in)) {
		if (st->gate_sent == st->gate_done)
			stream_gate_send(st);
		st->gate_wait = st->gate_sent;
	}
	return false;
}

static void
stream_ack_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct stream *st = privdata;
	redisReply *reply = r;

	if (st->ac == NULL || c != st->ac || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_INTEGER)
		metrics.acks += (uint64_t)reply->integer;
	else if (reply->type == REDIS_REPLY_ERROR) {
		metrics.redis_errors++;
		log_warnx("stream: XACK: %s", reply->str);
	}
}

/* Whether an unacknowledged entry may be acknowledged now. */
static bool
stream_ackable(const struct stream_entry *e, const struct stream_id *upto)
{
	return e->flags == 0 && stream_id_cmp(&e->id, upto) <= 0;
}

/*
 * Send one XACK for the acknowledgeable entries of unacked[from..to) and
 * mark them to leave the list; when the link refuses it, they stay.
 */
static int
stream_ack_send(struct stream *st, int argc, const char **argv,
    const size_t *argvlen, size_t from, size_t to,
    const struct stream_id *upto)
{
	size_t i;

	if (stream_command(st, stream_ack_cb, argc, argv, argvlen) == -1)
		return -1;
	for (i = from; i < to; i++)
		if (stream_ackable(&st->unacked[i], upto)) {
			st->unacked[i].flags = STREAM_ENTRY_ACKED;
			st->nacked++;
		}
	return 0;
}

/* The link went: every entry is in our pending list again. */
static void
stream_unacked_clear(struct stream *st)
{
	st->nunacked = st->nacked = st->ackpos = 0;
	st->acking = st->ack_again = st->unsorted = false;
	if (st->ack_ev != NULL)
		event_del(st->ack_ev);
}

/*
 * One turn of an XACK sweep: at most STREAM_ACK_TURN commands from
 * unacked[ackpos..] on, so that a checkpoint after a long catch-up (many
 * thousands of entries) does not hold the loop. Acknowledged entries stay
 * in place (marked) until the sweep ends, keeping the list in id order for
 * stream_unacked_find; then they leave it in one pass. True when done.
 */
static bool
stream_ack_turn(struct stream *st)
{
	const struct stream_id *upto = ingest_checkpointed_of(st->in, st->k);
	const char *argv[3 + STREAM_ACK_CHUNK];
	size_t argvlen[3 + STREAM_ACK_CHUNK], i, from, keep = 0;
	char (*ids)[STREAM_ID_MAX];
	int argc, rc = 0, sent = 0;

	if (st->ac == NULL || st->state < STREAM_PENDING) {
		stream_unacked_clear(st);	/* a new link reads them */
		return true;
	}
	ids = xreallocarray(NULL, STREAM_ACK_CHUNK, sizeof *ids);
	argv[0] = "XACK";
	argv[1] = st->key;
	argv[2] = st->conf->group;
	for (i = 0; i < 3; i++)
		argvlen[i] = strlen(argv[i]);
	argc = 3;
	for (i = from = st->ackpos; i < st->nunacked && rc == 0 &&
	    sent < STREAM_ACK_TURN; i++) {
		if (!stream_ackable(&st->unacked[i], upto))
			continue;
		stream_id_format(&st->unacked[i].id, ids[argc - 3]);
		argv[argc] = ids[argc - 3];
		argvlen[argc] = strlen(argv[argc]);
		argc++;
		if (argc == 3 + STREAM_ACK_CHUNK) {
			rc = stream_ack_send(st, argc, argv, argvlen, from,
			    i + 1, upto);
			from = i + 1;
			argc = 3;
			sent++;
		}
	}
	if (rc == 0 && argc > 3)
		rc = stream_ack_send(st, argc, argv, argvlen, from, i, upto);
	free(ids);
	/* Refused (the link is going): what is left stays unacknowledged. */
	st->ackpos = rc == 0 ? i : st->nunacked;
	if (st->ackpos < st->nunacked)
		return false;
	if (st->nacked > 0) {
		for (i = 0; i < st->nunacked; i++)
			if (st->unacked[i].flags != STREAM_ENTRY_ACKED)
				st->unacked[keep++] = st->unacked[i];
		st->nunacked = keep;
		if (keep == 0)
			st->unsorted = false;
	}
	st->nacked = st->ackpos = 0;
	return true;
}

static void
stream_ack_turn_cb(evutil_socket_t fd, short events, void *arg)
{
	struct stream *st = arg;
	struct timeval tv = { 0, 0 };
	struct stall_mark t0;

	(void)fd;
	(void)events;
	stall_start(&t0);
	if (!stream_ack_turn(st))
		evtimer_add(st->ack_ev, &tv);
	else if (st->ack_again) {
		/* Asked again meanwhile: a later checkpoint covers more. */
		st->ack_again = false;
		evtimer_add(st->ack_ev, &tv);
	} else
		st->acking = false;
	stall_step("a checkpoint's acknowledgements", &t0);
}

/*
 * Acknowledge what the last checkpoint covers, a bounded part each turn
 * of the loop (stream_ack_turn). Acknowledging late is safe: an entry
 * read again after a crash is known to the checkpoint and skipped.
 */
static void
stream_ack_one(struct stream *st)
{
	if (st->ac == NULL || st->nunacked == 0 ||
	    st->state < STREAM_PENDING)
		return;
	if (st->acking) {
		st->ack_again = true;
		return;
	}
	st->acking = true;
	stream_ack_turn_cb(-1, 0, st);
}

/* Each reader up to its own stream's checkpointed position. */
void
stream_ack(struct stream *st)
{
	for (; st != NULL; st = st->sibling)
		stream_ack_one(st);
}

/* Stopping: the sweep under way ends now, before the final PING. */
static void
stream_ack_finish(struct stream *st)
{
	if (!st->acking)
		return;
	event_del(st->ack_ev);
	while (!stream_ack_turn(st))
		;
	if (st->ack_again)
		while (!stream_ack_turn(st))
			;
	st->acking = st->ack_again = false;
}

static void
stream_info_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct stream *st = privdata;
	redisReply *reply = r;
	size_t i, j;

	if (!stream_live(st, c) || reply == NULL ||
	    reply->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i < reply->elements; i++) {
		const redisReply *g = reply->element[i];
		bool ours = false;
		int64_t lag = -1, pending = -1;

		if (g->type != REDIS_REPLY_ARRAY)
			continue;
		for (j = 0; j + 1 < g->elements; j += 2) {
			const redisReply *k = g->element[j], *v = g->element[j + 1];

			if (k->type != REDIS_REPLY_STRING)
				continue;
			if (strcmp(k->str, "name") == 0 &&
			    v->type == REDIS_REPLY_STRING)
				ours = strcmp(v->str, st->conf->group) == 0;
			else if (strcmp(k->str, "lag") == 0)
				lag = v->type == REDIS_REPLY_INTEGER ?
				    v->integer : -1;
			else if (strcmp(k->str, "pending") == 0 &&
			    v->type == REDIS_REPLY_INTEGER)
				pending = v->integer;
		}
		if (ours) {
			st->lag = lag;
			st->pending = pending;
		}
	}
}

static void
stream_len_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct stream *st = privdata;
	redisReply *reply = r;

	if (!stream_live(st, c) || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_INTEGER)
		st->length = reply->integer;
}

/* Every few seconds: the group's lag and pending count, the length. */
static void
stream_info_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct stream *st = arg;
	const char *argv[3];
	size_t argvlen[3];

	(void)fd;
	(void)events;
	if (st->ac == NULL || st->state < STREAM_PENDING ||
	    st->state == STREAM_STOPPED)
		return;
	/*
	 * Still the master? On the timer only, not on each return to idle.
	 * (-1: a resolution is under way already.)
	 */
	if (st->sentinel != NULL && (events & EV_TIMEOUT))
		(void)sentinel_resolve(st->sentinel, stream_resolved_cb, st);
	argv[0] = "XINFO";
	argv[1] = "GROUPS";
	argv[2] = st->key;
	argvlen[0] = 5;
	argvlen[1] = 6;
	argvlen[2] = strlen(argv[2]);
	stream_command(st, stream_info_cb, 3, argv, argvlen);
	argv[0] = "XLEN";
	argv[1] = st->key;
	argvlen[0] = 4;
	argvlen[1] = strlen(argv[1]);
	stream_command(st, stream_len_cb, 2, argv, argvlen);
}

static struct stream *
stream_new(struct event_base *base, const struct conf *c, struct ingest *in,
    int k, stream_checkpoint_cb cb, void *arg)
{
	struct stream *st = xcalloc(1, sizeof *st);
	struct timeval tv = { STREAM_INFO_MS / 1000, 0 };

	st->k = k;
	st->key = xstrdup(ingest_stream_key(in, k));
	st->replies = reply_reader_new();
	st->head = st;
	st->base = base;
	st->conf = c;
	st->in = in;
	st->checkpoint_cb = cb;
	st->checkpoint_arg = arg;
	st->state = STREAM_DISCONNECTED;
	st->down_since = stream_now();	/* not connected yet */
	st->lag = st->pending = st->length = -1;
	st->retry_ev = evtimer_new(base, stream_retry_cb, st);
	st->feed_ev = evtimer_new(base, stream_feed_cb, st);
	st->ack_ev = evtimer_new(base, stream_ack_turn_cb, st);
	st->info_ev = event_new(base, -1, EV_PERSIST, stream_info_timer_cb, st);
	event_add(st->info_ev, &tv);
	st->watch_ev = evtimer_new(base, stream_watch_cb, st);
	st->sentinel = sentinel_create(base, c);
	return st;
}

/* One reader per stream ingest counts, redis.stream first. */
struct stream *
stream_create(struct event_base *base, const struct conf *c,
    struct ingest *in, stream_checkpoint_cb cb, void *arg)
{
	struct stream *head, **tail;
	int k;

	head = stream_new(base, c, in, 0, cb, arg);
	tail = &head->sibling;
	for (k = 1; k < ingest_streams(in); k++) {
		*tail = stream_new(base, c, in, k, cb, arg);
		(*tail)->head = head;
		tail = &(*tail)->sibling;
	}
	return head;
}

void
stream_start(struct stream *st)
{
	for (; st != NULL; st = st->sibling)
		stream_connect(st);
}

void
stream_stop(struct stream *st)
{
	for (; st != NULL; st = st->sibling) {
		stream_set_state(st, STREAM_STOPPED);
		stream_drop_held(st);
		event_del(st->retry_ev);
		event_del(st->info_ev);
		event_del(st->watch_ev);
	}
}

static void
stream_free_one(struct stream *st)
{
	redisAsyncContext *ac;

	st->state = STREAM_STOPPED;
	ac = st->ac;
	st->ac = NULL;
	if (ac != NULL)
		redisAsyncFree(ac);
	stream_drop_held(st);
	sentinel_free(st->sentinel);
	event_free(st->watch_ev);
	event_free(st->retry_ev);
	event_free(st->info_ev);
	event_free(st->feed_ev);
	event_free(st->ack_ev);
	xunmap(st->unacked, st->capunacked, sizeof *st->unacked);
	free(st->last_error);
	free(st->key);
	reply_reader_free(st->replies);
	free(st);
}

void
stream_free(struct stream *st)
{
	struct stream *next;

	for (; st != NULL; st = next) {
		next = st->sibling;
		stream_free_one(st);
	}
}

void
stream_set_conf(struct stream *st, const struct conf *c)
{
	for (; st != NULL; st = st->sibling)
		st->conf = c;
}

/*
 * Run cb once the commands sent so far have been answered, on every
 * reader's link.
 */
struct stream_flush {
	void	(*cb)(void *);
	void	*arg;
	int	 left;		/* readers yet to answer */
};

static void
stream_flush_cb(redisAsyncContext *c, void *r, void *privdata)
{
	struct stream_flush *fl = privdata;

	(void)c;
	(void)r;
	if (--fl->left > 0)
		return;
	fl->cb(fl->arg);
	free(fl);
}

int64_t
stream_flush_ms(const struct conf *c)
{
	return STREAM_READS * c->block_ms;
}

int
stream_flush(struct stream *st, void (*cb)(void *), void *arg)
{
	struct stream_flush *fl;
	struct stream *s;

	fl = xcalloc(1, sizeof *fl);
	fl->cb = cb;
	fl->arg = arg;
	/* Counted up front, so that an answer cannot finish it early. */
	for (s = st; s != NULL; s = s->sibling) {
		if (s->ac != NULL)
			fl->left++;
	}
	if (fl->left == 0) {
		free(fl);
		return -1;
	}
	for (s = st; s != NULL; s = s->sibling) {
		if (s->ac == NULL)
			continue;
		stream_ack_finish(s);
		if (redisAsyncCommand(s->ac, stream_flush_cb, fl, "PING") ==
		    REDIS_OK)
			continue;
		/* Not sent: that reader has nothing more to wait for. */
		if (--fl->left == 0) {
			free(fl);
			return -1;
		}
	}
	return 0;
}

/* The least advanced reader's: reading only when all are. */
enum stream_state
stream_state(const struct stream *st)
{
	enum stream_state state = st->state;

	for (st = st->sibling; st != NULL; st = st->sibling) {
		if (st->state < state)
			state = st->state;
	}
	return state;
}

/* Without a link the last figures are not the stream's now: unknown. */
static int64_t
stream_figure(const struct stream *st, int64_t v)
{
	return st->link_up ? v : -1;
}

enum stream_what { STREAM_LAG, STREAM_PENDING_N, STREAM_LENGTH };

/* The sum over the readers; -1 when one of them is unknown. */
static int64_t
stream_sum(const struct stream *st, enum stream_what what)
{
	int64_t sum = 0, v;

	for (; st != NULL; st = st->sibling) {
		v = what == STREAM_LAG ? st->lag : what == STREAM_LENGTH ?
		    st->length : st->pending;
		if ((v = stream_figure(st, v)) == -1)
			return -1;
		sum += v;
	}
	return sum;
}

int64_t
stream_lag(const struct stream *st)
{
	return stream_sum(st, STREAM_LAG);
}

int64_t
stream_pending(const struct stream *st)
{
	return stream_sum(st, STREAM_PENDING_N);
}

int64_t
stream_length(const struct stream *st)
{
	return stream_sum(st, STREAM_LENGTH);
}

/* The first reader whose link is down, or NULL. */
static const struct stream *
stream_down(const struct stream *st)
{
	for (; st != NULL; st = st->sibling) {
		if (!st->link_up)
			return st;
	}
	return NULL;
}

bool
stream_link_up(const struct stream *st)
{
	return stream_down(st) == NULL;
}

int64_t
stream_down_since(const struct stream *st)
{
	const struct stream *d = stream_down(st);

	return d == NULL ? 0 : d->down_since;
}

const char *
stream_last_error(const struct stream *st)
{
	const struct stream *d = stream_down(st);

	return d == NULL ? NULL : d->last_error;
}

int64_t
stream_retry_at_ms(const struct stream *st)
{
	const struct stream *d = stream_down(st);

	return d == NULL || d->state != STREAM_DISCONNECTED ? 0 :
	    d->retry_at_ms;
}

uint64_t
stream_unacked(const struct stream *st)
{
	uint64_t n = 0;

	for (; st != NULL; st = st->sibling)
		n += st->nunacked - st->nacked;
	return n;
}

bool
stream_idle(const struct stream *st)
{
	for (; st != NULL; st = st->sibling) {
		if (!st->idle)
			return false;
	}
	return true;
}

const char *
stream_key(const struct stream *st)
{
	return st->key;
}

const struct stream *
stream_sibling(const struct stream *st)
{
	return st->sibling;
}

void
stream_set_gate(struct stream *st, const struct stream_gate *gate, void *arg)
{
	st->gate = gate;
	st->gate_arg = arg;
}
