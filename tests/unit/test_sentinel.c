/*
 * Tests for sentinel.c: the reply helpers (address, nil, error, ROLE),
 * and resolution against fake sentinels on loopback, served from the
 * same event loop: a dead one is skipped, one that does not know the
 * master is skipped, the one that answers is asked first next time, and
 * a failover is counted once whoever confirms it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "conf.h"
#include "sentinel.h"
#include "xmalloc.h"

static void
test_parse_addr(void **state)
{
	char hs[] = "10.0.0.2", ps[8] = "6380", es[] = "ERR no";
	redisReply h = { .type = REDIS_REPLY_STRING, .str = hs, .len = 8 };
	redisReply p = { .type = REDIS_REPLY_STRING, .str = ps, .len = 4 };
	redisReply *el[2] = { &h, &p };
	redisReply arr = { .type = REDIS_REPLY_ARRAY, .elements = 2,
	    .element = el };
	redisReply nil = { .type = REDIS_REPLY_NIL };
	redisReply err = { .type = REDIS_REPLY_ERROR, .str = es, .len = 6 };
	char host[256], *cause = NULL;
	int port = 0;

	(void)state;
	assert_int_equal(sentinel_parse_addr(&arr, host, sizeof host, &port,
	    &cause), 0);
	assert_string_equal(host, "10.0.0.2");
	assert_int_equal(port, 6380);
	assert_int_equal(sentinel_parse_addr(&nil, host, sizeof host, &port,
	    &cause), -1);
	assert_string_equal(cause, "does not know the master");
	free(cause);
	assert_int_equal(sentinel_parse_addr(&err, host, sizeof host, &port,
	    &cause), -1);
	assert_string_equal(cause, "ERR no");
	free(cause);
	strcpy(ps, "0");
	p.len = 1;
	assert_int_equal(sentinel_parse_addr(&arr, host, sizeof host, &port,
	    &cause), -1);
	assert_string_equal(cause, "not a port");
	free(cause);
	strcpy(ps, "70000");
	p.len = 5;
	assert_int_equal(sentinel_parse_addr(&arr, host, sizeof host, &port,
	    &cause), -1);
	free(cause);
	strcpy(ps, "6380");
	p.len = 4;
	assert_int_equal(sentinel_parse_addr(&arr, host, 4, &port, &cause), -1);
	assert_string_equal(cause, "not a host name");
	free(cause);
	arr.elements = 1;
	assert_int_equal(sentinel_parse_addr(&arr, host, sizeof host, &port,
	    &cause), -1);
	assert_string_equal(cause, "not an address");
	free(cause);
}

static void
test_parse_role(void **state)
{
	char ms[] = "master", es[] = "NOAUTH x";
	redisReply m = { .type = REDIS_REPLY_STRING, .str = ms, .len = 6 };
	redisReply *el[1] = { &m };
	redisReply arr = { .type = REDIS_REPLY_ARRAY, .elements = 1,
	    .element = el };
	redisReply err = { .type = REDIS_REPLY_ERROR, .str = es, .len = 8 };
	char *cause = NULL;

	(void)state;
	assert_int_equal(sentinel_parse_role(&arr, &cause), 0);
	strcpy(ms, "slave");
	m.len = 5;
	assert_int_equal(sentinel_parse_role(&arr, &cause), -1);
	assert_string_equal(cause, "not the master (ROLE slave)");
	free(cause);
	assert_int_equal(sentinel_parse_role(&err, &cause), -1);
	assert_string_equal(cause, "ROLE: NOAUTH x");
	free(cause);
	arr.elements = 0;
	assert_int_equal(sentinel_parse_role(&arr, &cause), -1);
	free(cause);
}

/* A fake sentinel: answers every request with one canned reply. */
struct fake {
	int			 fd;
	int			 port;
	const char		*reply;
	struct event_base	*base;
	int			 asked;
	struct event		*ev;
};

struct result {
	bool	 done;
	char	 host[64];
	int	 port;
	char	 err[512];
};

/* The request has arrived: the canned reply, and close. */
static void
fake_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct fake *f = arg;
	char buf[512];

	(void)events;
	if (read(fd, buf, sizeof buf) > 0)
		assert_true(write(fd, f->reply, strlen(f->reply)) > 0);
	close(fd);
}

static void
fake_accept_cb(evutil_socket_t fd, short events, void *arg)
{
	struct fake *f = arg;
	int c;

	(void)events;
	if ((c = accept(fd, NULL, NULL)) == -1)
		return;
	f->asked++;
	/* Read in the loop: the client writes once its connect is seen. */
	event_base_once(f->base, c, EV_READ, fake_read_cb, f, NULL);
}

static void
fake_start(struct fake *f, struct event_base *base, const char *reply)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;

	memset(f, 0, sizeof *f);
	f->reply = reply;
	f->base = base;
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->fd != -1);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(f->fd, 8), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sa, &len), 0);
	f->port = ntohs(sa.sin_port);
	f->ev = event_new(base, f->fd, EV_READ | EV_PERSIST, fake_accept_cb,
	    f);
	event_add(f->ev, NULL);
}

static void
fake_stop(struct fake *f)
{
	event_free(f->ev);
	close(f->fd);
}

/* A port nobody listens on: bound, never listened, then closed. */
static int
dead_port(void)
{
	struct fake f;
	struct event_base *base = event_base_new();
	int port;

	fake_start(&f, base, "");
	port = f.port;
	fake_stop(&f);
	event_base_free(base);
	return port;
}

static void
resolved_cb(void *arg, const char *host, int port, const char *err)
{
	struct result *r = arg;

	r->done = true;
	snprintf(r->host, sizeof r->host, "%s", host != NULL ? host : "");
	r->port = port;
	snprintf(r->err, sizeof r->err, "%s", err != NULL ? err : "");
}

static void
run_until(struct event_base *base, struct result *r)
{
	int i;

	for (i = 0; i < 500 && !r->done; i++)
		event_base_loop(base, EVLOOP_ONCE);
	assert_true(r->done);
}

static void
test_resolve(void **state)
{
	struct event_base *base = event_base_new();
	struct fake nil, good;
	struct conf c;
	struct sentinel *s;
	struct result r;
	char list[128], name[] = "m";

	(void)state;
	fake_start(&nil, base, "*-1\r\n");
	fake_start(&good, base, "*2\r\n$9\r\n127.0.0.9\r\n$4\r\n6390\r\n");
	snprintf(list, sizeof list, "127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d",
	    dead_port(), nil.port, good.port);
	memset(&c, 0, sizeof c);
	c.redis_sentinels = list;
	c.redis_master_name = name;
	c.connect_timeout_ms = 2000;
	s = sentinel_create(base, &c);
	assert_non_null(s);

	/* The dead one and the one without the master are skipped. */
	memset(&r, 0, sizeof r);
	assert_int_equal(sentinel_resolve(s, resolved_cb, &r), 0);
	assert_false(r.done);		/* never from inside resolve */
	assert_int_equal(sentinel_resolve(s, resolved_cb, &r), -1);
	run_until(base, &r);
	assert_string_equal(r.err, "");
	assert_string_equal(r.host, "127.0.0.9");
	assert_int_equal(r.port, 6390);
	assert_int_equal(nil.asked, 1);
	assert_int_equal(good.asked, 1);

	/* The one that answered is asked first. */
	memset(&r, 0, sizeof r);
	assert_int_equal(sentinel_resolve(s, resolved_cb, &r), 0);
	run_until(base, &r);
	assert_int_equal(r.port, 6390);
	assert_int_equal(nil.asked, 1);
	assert_int_equal(good.asked, 2);

	/* Distrusted (ROLE said replica): the next one first, then round. */
	sentinel_distrust(s);
	memset(&r, 0, sizeof r);
	assert_int_equal(sentinel_resolve(s, resolved_cb, &r), 0);
	run_until(base, &r);
	assert_int_equal(r.port, 6390);
	assert_int_equal(good.asked, 3);

	/* Nobody knows: one error naming the master and the last cause. */
	good.reply = "-ERR No such master with that name\r\n";
	memset(&r, 0, sizeof r);
	assert_int_equal(sentinel_resolve(s, resolved_cb, &r), 0);
	run_until(base, &r);
	assert_null(strstr(r.host, "127"));
	assert_non_null(strstr(r.err, "no sentinel gave the address of "
	    "master m"));
	assert_int_equal(good.asked, 4);
	assert_int_equal(nil.asked, 3);

	/* Freed with a resolution under way: no callback. */
	memset(&r, 0, sizeof r);
	assert_int_equal(sentinel_resolve(s, resolved_cb, &r), 0);
	sentinel_free(s);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_false(r.done);
	fake_stop(&nil);
	fake_stop(&good);
	event_base_free(base);
}

static void
test_confirm(void **state)
{
	(void)state;
	assert_false(sentinel_confirm("127.0.0.1", 7001));	/* the first */
	assert_false(sentinel_confirm("127.0.0.1", 7001));	/* another link */
	assert_int_equal(sentinel_failovers(), 0);
	assert_true(sentinel_confirm("127.0.0.1", 7002));
	assert_false(sentinel_confirm("127.0.0.1", 7002));
	assert_int_equal(sentinel_failovers(), 1);
	assert_true(sentinel_confirm("::1", 7002));
	assert_int_equal(sentinel_failovers(), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_parse_role),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_confirm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
