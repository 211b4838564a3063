/*
 * Tests for rlink.c against a real redis-server on a unix socket in a
 * temporary directory: connecting (before the server is up), AUTH,
 * commands, scripts sent whole once and by SHA after, a lost link that
 * comes back, a wrong password, and pending callbacks on free.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "conf.h"
#include "rlink.h"
#include "xmalloc.h"

struct fixture {
	char			 dir[64];
	char			*sock;
	pid_t			 redis;
	struct event_base	*base;
	struct conf		 conf;
	struct rlink		*rl;
	int			 ups;
	int			 downs;
};

/* A reply kept as text: "s:OK", "i:3", "e:ERR ...", "a:2", "nil", "lost". */
struct answer {
	bool	 done;
	char	 text[8192];
};

static void
start_redis(struct fixture *f, const char *password)
{
	pid_t pid;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		if (password != NULL)
			execlp("redis-server", "redis-server", "--port", "0",
			    "--unixsocket", f->sock, "--dir", f->dir, "--save",
			    "", "--appendonly", "no", "--requirepass", password,
			    (char *)NULL);
		else
			execlp("redis-server", "redis-server", "--port", "0",
			    "--unixsocket", f->sock, "--dir", f->dir, "--save",
			    "", "--appendonly", "no", (char *)NULL);
		_exit(127);
	}
	f->redis = pid;
}

static void
stop_redis(struct fixture *f)
{
	int status;

	if (f->redis == 0)
		return;
	kill(f->redis, SIGTERM);
	waitpid(f->redis, &status, 0);
	f->redis = 0;
	unlink(f->sock);
}

static void
state_cb(void *arg, bool up)
{
	struct fixture *f = arg;

	if (up)
		f->ups++;
	else
		f->downs++;
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");

	snprintf(f->dir, sizeof f->dir, "%s/test_rlink.XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	f->sock = xasprintf("%s/redis.sock", f->dir);
	f->base = event_base_new();
	conf_default(&f->conf);
	f->conf.redis_socket = xstrdup(f->sock);
	f->conf.connect_timeout_ms = 1000;
	f->conf.reconnect_max_ms = 200;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	rlink_free(f->rl);
	stop_redis(f);
	conf_free(&f->conf);
	event_base_free(f->base);
	rmdir(f->dir);
	free(f->sock);
	free(f);
	return 0;
}

/* Run the loop until *flag is true or ten seconds have passed. */
static void
run_until(struct fixture *f, const bool *flag)
{
	time_t end = time(NULL) + 10;
	struct timeval tv = { 0, 20000 };

	while (!*flag && time(NULL) < end) {
		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
	assert_true(*flag);
}

static void
answer_cb(void *arg, const struct redisReply *r)
{
	struct answer *a = arg;
	const redisReply *r2 = r;

	assert_false(a->done);
	a->done = true;
	if (r2 == NULL)
		snprintf(a->text, sizeof a->text, "lost");
	else if (r2->type == REDIS_REPLY_STATUS)
		snprintf(a->text, sizeof a->text, "s:%s", r2->str);
	else if (r2->type == REDIS_REPLY_STRING)
		snprintf(a->text, sizeof a->text, "b:%s", r2->str);
	else if (r2->type == REDIS_REPLY_ERROR)
		snprintf(a->text, sizeof a->text, "e:%s", r2->str);
	else if (r2->type == REDIS_REPLY_INTEGER)
		snprintf(a->text, sizeof a->text, "i:%lld", r2->integer);
	else if (r2->type == REDIS_REPLY_ARRAY && r2->elements == 2 &&
	    r2->element[0]->type == REDIS_REPLY_STRING &&
	    r2->element[1]->type == REDIS_REPLY_STRING)
		snprintf(a->text, sizeof a->text, "a:%s,%s",
		    r2->element[0]->str, r2->element[1]->str);
	else if (r2->type == REDIS_REPLY_NIL)
		snprintf(a->text, sizeof a->text, "nil");
	else
		snprintf(a->text, sizeof a->text, "type %d", r2->type);
}

/* Send argv and wait for its answer. */
static void
command_argv(struct fixture *f, struct answer *a, const char **argv,
    size_t argc)
{
	memset(a, 0, sizeof *a);
	assert_int_equal(rlink_command(f->rl, answer_cb, a, (int)argc, argv,
	    NULL), 0);
	run_until(f, &a->done);
}
#define command(f, a, ...) command_argv((f), (a), \
	(const char *[]){ __VA_ARGS__ }, \
	sizeof ((const char *[]){ __VA_ARGS__ }) / sizeof (const char *))

static bool
link_up_flag(struct fixture *f, bool *flag)
{
	*flag = rlink_up(f->rl);
	return *flag;
}

static void
wait_up(struct fixture *f)
{
	time_t end = time(NULL) + 10;
	struct timeval tv = { 0, 20000 };
	bool up = false;

	while (!link_up_flag(f, &up) && time(NULL) < end) {
		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
	assert_true(up);
}

/* The per-command count of INFO commandstats for name, 0 when absent. */
static long
calls(struct fixture *f, const char *name)
{
	struct answer a;
	const char *argv[] = { "INFO", "commandstats" };
	char *key, *p;
	long n = 0;

	memset(&a, 0, sizeof a);
	assert_int_equal(rlink_command(f->rl, answer_cb, &a, 2, argv, NULL), 0);
	run_until(f, &a.done);
	key = xasprintf("cmdstat_%s:calls=", name);
	p = strstr(a.text, key);
	if (p != NULL)
		n = strtol(p + strlen(key), NULL, 10);
	free(key);
	return n;
}

/* Connects once the server is there, with AUTH; commands answer. */
static void
test_connect_command(void **state)
{
	struct fixture *f = *state;
	struct answer a;
	const char *argv[] = { "PING" };

	f->conf.redis_password = xstrdup("s3cret-password");
	f->rl = rlink_create(f->base, &f->conf, "test", state_cb, f);
	assert_false(rlink_up(f->rl));
	assert_int_equal(rlink_command(f->rl, answer_cb, &a, 1, argv, NULL),
	    -1);
	rlink_start(f->rl);
	/* Not there yet: the link retries with backoff. */
	{
		struct timeval tv = { 0, 300000 };

		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
	assert_false(rlink_up(f->rl));
	assert_non_null(rlink_last_error(f->rl));
	start_redis(f, "s3cret-password");
	wait_up(f);
	assert_int_equal(f->ups, 1);
	assert_null(rlink_last_error(f->rl));
	command(f, &a, "SET", "k", "v");
	assert_string_equal(a.text, "s:OK");
	command(f, &a, "GET", "k");
	assert_string_equal(a.text, "b:v");
	command(f, &a, "INCRBY", "n", "5");
	assert_string_equal(a.text, "i:5");
	command(f, &a, "GET", "none");
	assert_string_equal(a.text, "nil");
	command(f, &a, "HSET", "k", "f", "v");
	assert_true(strncmp(a.text, "e:WRONGTYPE", 11) == 0);
}

/* A wrong password keeps the link down, with Redis's reason. */
static void
test_wrong_password(void **state)
{
	struct fixture *f = *state;
	struct timeval tv = { 0, 500000 };

	start_redis(f, "right-password");
	f->conf.redis_password = xstrdup("wrong-password");
	f->rl = rlink_create(f->base, &f->conf, "test", state_cb, f);
	rlink_start(f->rl);
	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
	assert_false(rlink_up(f->rl));
	assert_int_equal(f->ups, 0);
	assert_non_null(rlink_last_error(f->rl));
	assert_non_null(strstr(rlink_last_error(f->rl), "WRONGPASS"));
	assert_null(strstr(rlink_last_error(f->rl), "wrong-password"));
}

/* EVALSHA, EVAL once on NOSCRIPT, then EVALSHA again; after a flush too. */
static void
test_eval(void **state)
{
	struct fixture *f = *state;
	static struct rlink_script script = { .name = "echo",
	    .text = "return {KEYS[1], ARGV[1]}" };
	static struct rlink_script bad = { .name = "bad",
	    .text = "return redis.call('NOSUCHCOMMAND')" };
	const char *argv[] = { "key:1", "arg one" };
	struct answer a;
	int i;

	start_redis(f, NULL);
	f->rl = rlink_create(f->base, &f->conf, "test", state_cb, f);
	rlink_start(f->rl);
	wait_up(f);
	for (i = 0; i < 3; i++) {
		memset(&a, 0, sizeof a);
		assert_int_equal(rlink_eval(f->rl, &script, answer_cb, &a, 1, 2,
		    argv, NULL), 0);
		run_until(f, &a.done);
		assert_string_equal(a.text, "a:key:1,arg one");
	}
	assert_int_equal(strlen(script.sha), 40);
	assert_int_equal(calls(f, "eval"), 1);
	assert_int_equal(calls(f, "evalsha"), 3);
	command(f, &a, "SCRIPT", "FLUSH");
	memset(&a, 0, sizeof a);
	assert_int_equal(rlink_eval(f->rl, &script, answer_cb, &a, 1, 2,
	    argv, NULL), 0);
	run_until(f, &a.done);
	assert_string_equal(a.text, "a:key:1,arg one");
	assert_int_equal(calls(f, "eval"), 2);
	/* A script's own error reaches the caller. */
	memset(&a, 0, sizeof a);
	assert_int_equal(rlink_eval(f->rl, &bad, answer_cb, &a, 0, 0, NULL,
	    NULL), 0);
	run_until(f, &a.done);
	assert_true(strncmp(a.text, "e:", 2) == 0);
	assert_null(strstr(a.text, "NOSCRIPT"));
}

/* A killed connection: the pending command is lost, the link comes back. */
static void
test_link_loss(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "BLPOP", "nothing", "10" };
	struct answer a, b;
	redisContext *killer;
	redisReply *r;

	start_redis(f, NULL);
	f->rl = rlink_create(f->base, &f->conf, "test", state_cb, f);
	rlink_start(f->rl);
	wait_up(f);
	memset(&a, 0, sizeof a);
	assert_int_equal(rlink_command(f->rl, answer_cb, &a, 3, argv, NULL),
	    0);
	/* Another client kills ours while its BLPOP waits. */
	killer = redisConnectUnix(f->sock);
	assert_non_null(killer);
	assert_int_equal(killer->err, 0);
	r = redisCommand(killer, "CLIENT KILL TYPE normal");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	assert_int_equal(r->integer, 1);
	freeReplyObject(r);
	redisFree(killer);
	run_until(f, &a.done);
	assert_string_equal(a.text, "lost");
	assert_int_equal(f->downs, 1);
	wait_up(f);
	assert_int_equal(f->ups, 2);
	command(f, &b, "PING");
	assert_string_equal(b.text, "s:PONG");
	/* The server goes away for good: down, and commands are refused. */
	stop_redis(f);
	{
		time_t end = time(NULL) + 10;
		struct timeval tv = { 0, 20000 };

		while (rlink_up(f->rl) && time(NULL) < end) {
			event_base_loopexit(f->base, &tv);
			event_base_dispatch(f->base);
		}
	}
	assert_false(rlink_up(f->rl));
	assert_int_equal(f->downs, 2);
	assert_int_equal(rlink_command(f->rl, answer_cb, &b, 1,
	    (const char *[]){ "PING" }, NULL), -1);
}

/* rlink_free answers what is pending with NULL. */
static void
test_free_pending(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "BLPOP", "nothing", "10" };
	struct answer a;

	start_redis(f, NULL);
	f->rl = rlink_create(f->base, &f->conf, "test", state_cb, f);
	rlink_start(f->rl);
	wait_up(f);
	memset(&a, 0, sizeof a);
	assert_int_equal(rlink_command(f->rl, answer_cb, &a, 3, argv, NULL),
	    0);
	rlink_free(f->rl);
	f->rl = NULL;
	assert_true(a.done);
	assert_string_equal(a.text, "lost");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_command, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_password, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_eval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_loss, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_pending, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
