/*
 * bench-bare-consumer: the ingest benchmark's baseline. Reads a stream
 * through a consumer group with the hiredis async API on libevent and
 * acknowledges every entry, doing no other work, then prints its rate.
 */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

struct bare {
	const char		*host;
	int			 port;
	const char		*socket;
	const char		*stream;
	const char		*group;
	const char		*consumer;
	long long		 count;
	long long		 block_ms;
	long long		 expect;	/* 0: until a read comes back empty */

	struct event_base	*base;
	redisAsyncContext	*ac;
	char			 count_arg[24];
	char			 block_arg[24];
	const char		**ackv;		/* XACK key group id ... */
	size_t			*acklen;

	long long		 consumed;
	long long		 acked;
	int			 done;		/* no more reads are sent */
	int			 failed;
	double			 t0;
	double			 t1;		/* last batch acknowledged */
};

static const struct option bare_longopts[] = {
	{ "host",	required_argument,	NULL, 'h' },
	{ "port",	required_argument,	NULL, 'p' },
	{ "socket",	required_argument,	NULL, 'S' },
	{ "stream",	required_argument,	NULL, 'k' },
	{ "group",	required_argument,	NULL, 'g' },
	{ "consumer",	required_argument,	NULL, 'c' },
	{ "count",	required_argument,	NULL, 'n' },
	{ "block-ms",	required_argument,	NULL, 'b' },
	{ "expect",	required_argument,	NULL, 'e' },
	{ "help",	no_argument,		NULL, 'H' },
	{ NULL,		0,			NULL, 0 },
};

static void usage(FILE *) __attribute__((noreturn));
static void bare_die(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static void bare_read(struct bare *);

static void
usage(FILE *f)
{
	fprintf(f,
"usage: bench-bare-consumer [options]\n"
"Consume a stream through a consumer group, acknowledging every entry.\n"
"\n"
"  --host HOST        Redis host (127.0.0.1)\n"
"  --port PORT        Redis port (6379)\n"
"  --socket PATH      Redis Unix socket instead of host and port\n"
"  --stream KEY       stream key (stabild:decisions)\n"
"  --group NAME       consumer group, created from 0 if missing (bare)\n"
"  --consumer NAME    consumer name (bare-1)\n"
"  --count N          entries per XREADGROUP (500)\n"
"  --block-ms MS      XREADGROUP BLOCK (2000)\n"
"  --expect N         stop after N entries (0: when a read is empty)\n"
"  --help             show this help\n");
	exit(f == stdout ? 0 : 1);
}

static void
bare_die(const char *fmt, ...)
{
	va_list	ap;

	fputs("bench-bare-consumer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double
bare_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static long long
bare_arg_int(const char *opt, const char *s, long long min, long long max)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		bare_die("--%s: %s: want an integer in %lld..%lld", opt, s, min,
		    max);
	return (v);
}

/* Stop: let hiredis finish what is in flight, then close. */
static void
bare_finish(struct bare *b, int failed)
{
	if (failed)
		b->failed = 1;
	b->done = 1;
	if (b->ac != NULL)
		redisAsyncDisconnect(b->ac);
}

static void
bare_connect_cb(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK)
		bare_die("redis: %s", ac->errstr);
}

static void
bare_disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct bare	*b = ac->data;

	b->ac = NULL;
	if (status != REDIS_OK && !b->done) {
		fprintf(stderr, "bench-bare-consumer: redis: %s\n", ac->errstr);
		b->failed = 1;
	}
}

/* Answer to XACK: count, and end after the last expected batch. */
static void
bare_ack_cb(redisAsyncContext *ac, void *r, void *arg)
{
	struct bare	*b = arg;
	redisReply	*reply = r;

	(void)ac;
	if (reply == NULL)
		return;		/* disconnecting */
	if (reply->type != REDIS_REPLY_INTEGER) {
		fprintf(stderr, "bench-bare-consumer: XACK: %s\n",
		    reply->type == REDIS_REPLY_ERROR ? reply->str :
		    "unexpected reply");
		bare_finish(b, 1);
		return;
	}
	b->acked += reply->integer;
	b->t1 = bare_now();
	if (b->expect > 0 && b->consumed >= b->expect && !b->done)
		bare_finish(b, 0);
}

/*
 * Answer to XREADGROUP: acknowledge all entries in one XACK and ask for
 * the next batch right behind it, without waiting for the XACK answer.
 */
static void
bare_read_cb(redisAsyncContext *ac, void *r, void *arg)
{
	struct bare	*b = arg;
	redisReply	*reply = r, *entries, *entry;
	size_t		 i, n;

	if (reply == NULL || b->done)
		return;
	if (reply->type == REDIS_REPLY_NIL) {
		if (b->expect == 0)
			bare_finish(b, 0);
		else
			bare_read(b);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 ||
	    reply->element[0]->type != REDIS_REPLY_ARRAY ||
	    reply->element[0]->elements != 2 ||
	    reply->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
		fprintf(stderr, "bench-bare-consumer: XREADGROUP: %s\n",
		    reply->type == REDIS_REPLY_ERROR ? reply->str :
		    "unexpected reply");
		bare_finish(b, 1);
		return;
	}
	entries = reply->element[0]->element[1];
	n = 0;
	for (i = 0; i < entries->elements && i < (size_t)b->count; i++) {
		entry = entries->element[i];
		if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 1 ||
		    entry->element[0]->type != REDIS_REPLY_STRING)
			continue;
		b->ackv[3 + n] = entry->element[0]->str;
		b->acklen[3 + n] = entry->element[0]->len;
		n++;
	}
	if (n == 0) {
		if (b->expect == 0)
			bare_finish(b, 0);
		else
			bare_read(b);
		return;
	}
	b->consumed += (long long)n;
	redisAsyncCommandArgv(ac, bare_ack_cb, b, (int)(3 + n), b->ackv,
	    b->acklen);
	if (b->expect == 0 || b->consumed < b->expect)
		bare_read(b);
}

/* Send XREADGROUP GROUP g c COUNT n BLOCK ms STREAMS key >. */
static void
bare_read(struct bare *b)
{
	const char	*argv[11];

	argv[0] = "XREADGROUP";
	argv[1] = "GROUP";
	argv[2] = b->group;
	argv[3] = b->consumer;
	argv[4] = "COUNT";
	argv[5] = b->count_arg;
	argv[6] = "BLOCK";
	argv[7] = b->block_arg;
	argv[8] = "STREAMS";
	argv[9] = b->stream;
	argv[10] = ">";
	if (redisAsyncCommandArgv(b->ac, bare_read_cb, b, 11, argv, NULL) !=
	    REDIS_OK)
		bare_die("redis: cannot send XREADGROUP");
}

/* Answer to XGROUP CREATE: an existing group is fine. */
static void
bare_group_cb(redisAsyncContext *ac, void *r, void *arg)
{
	struct bare	*b = arg;
	redisReply	*reply = r;

	(void)ac;
	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "BUSYGROUP", 9) != 0) {
		fprintf(stderr, "bench-bare-consumer: XGROUP CREATE: %s\n",
		    reply->str);
		bare_finish(b, 1);
		return;
	}
	b->t0 = bare_now();
	b->t1 = b->t0;
	bare_read(b);
}

int
main(int argc, char **argv)
{
	struct bare	 b;
	double		 seconds;
	int		 ch;

	memset(&b, 0, sizeof b);
	b.host = "127.0.0.1";
	b.port = 6379;
	b.stream = "stabild:decisions";
	b.group = "bare";
	b.consumer = "bare-1";
	b.count = 500;
	b.block_ms = 2000;

	while ((ch = getopt_long(argc, argv, "", bare_longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			b.host = optarg;
			break;
		case 'p':
			b.port = (int)bare_arg_int("port", optarg, 1, 65535);
			break;
		case 'S':
			b.socket = optarg;
			break;
		case 'k':
			b.stream = optarg;
			break;
		case 'g':
			b.group = optarg;
			break;
		case 'c':
			b.consumer = optarg;
			break;
		case 'n':
			b.count = bare_arg_int("count", optarg, 1, 1000000);
			break;
		case 'b':
			b.block_ms = bare_arg_int("block-ms", optarg, 0,
			    86400000);
			break;
		case 'e':
			b.expect = bare_arg_int("expect", optarg, 0,
			    1000000000000LL);
			break;
		case 'H':
			usage(stdout);
		default:
			usage(stderr);
		}
	}
	if (optind != argc)
		usage(stderr);
	snprintf(b.count_arg, sizeof b.count_arg, "%lld", b.count);
	snprintf(b.block_arg, sizeof b.block_arg, "%lld", b.block_ms);

	b.ackv = calloc((size_t)b.count + 3, sizeof *b.ackv);
	b.acklen = calloc((size_t)b.count + 3, sizeof *b.acklen);
	if (b.ackv == NULL || b.acklen == NULL)
		bare_die("out of memory");
	b.ackv[0] = "XACK";
	b.acklen[0] = 4;
	b.ackv[1] = b.stream;
	b.acklen[1] = strlen(b.stream);
	b.ackv[2] = b.group;
	b.acklen[2] = strlen(b.group);

	if ((b.base = event_base_new()) == NULL)
		bare_die("event_base_new failed");
	if (b.socket != NULL)
		b.ac = redisAsyncConnectUnix(b.socket);
	else
		b.ac = redisAsyncConnect(b.host, b.port);
	if (b.ac == NULL)
		bare_die("redis: cannot allocate a context");
	if (b.ac->err)
		bare_die("redis: %s", b.ac->errstr);
	b.ac->data = &b;
	redisLibeventAttach(b.ac, b.base);
	redisAsyncSetConnectCallback(b.ac, bare_connect_cb);
	redisAsyncSetDisconnectCallback(b.ac, bare_disconnect_cb);
	if (redisAsyncCommand(b.ac, bare_group_cb, &b,
	    "XGROUP CREATE %s %s 0 MKSTREAM", b.stream, b.group) != REDIS_OK)
		bare_die("redis: cannot send XGROUP");

	event_base_dispatch(b.base);

	if (b.ac != NULL) {
		/* The loop ran dry without a disconnect. */
		redisAsyncFree(b.ac);
		b.failed = 1;
	}
	event_base_free(b.base);
	free(b.ackv);
	free(b.acklen);
	if (b.failed)
		return (1);
	if (b.acked != b.consumed)
		fprintf(stderr, "bench-bare-consumer: acknowledged %lld of "
		    "%lld\n", b.acked, b.consumed);
	seconds = b.t1 - b.t0;
	printf("consumed=%lld seconds=%.3f rate=%.0f\n", b.consumed, seconds,
	    seconds > 0.0 ? (double)b.consumed / seconds : 0.0);
	return (0);
}
