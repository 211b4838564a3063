/*
 * webhook and http: the signature against a fixed vector, the header list,
 * and real POSTs to an evhttp server on loopback inside one event loop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "http.h"
#include "webhook.h"

#define SECRET		"s3cret-key"
#define BODY		"{\"alert_id\":\"a-1\",\"status\":\"firing\"}"
#define MAXDONE		4

/*
 * Both computed once with OpenSSL's command line, an independent
 * implementation:
 *   printf '%s' '1683021600.{"alert_id":"a-1","status":"firing"}' |
 *       openssl dgst -sha256 -hmac 's3cret-key'
 *   printf '%s' '0.' | openssl dgst -sha256 -hmac 'k'
 */
#define VECTOR_SIG \
	"sha256=87b25aab0e95384e0050d75bd9deb648440220e2fa549a1f0ea78f199aa85570"
#define EMPTY_SIG \
	"sha256=6b4a4b8b3c40f1e8f53a3d36682e5f99f7ad2ac1df1c93dfe336f329167641e7"

struct fix {
	struct event_base	*base;
	struct evhttp		*http;
	struct event		*safety;
	struct http_client	*client;
	int			 port;
	int			 timed_out;

	/* Client side: done callbacks so far. */
	int			 want;
	int			 ndone;
	long			 status[MAXDONE];
	char			*error[MAXDONE];
	int			 free_in_cb;	/* free the client in the cb */

	/* Server side: what the last request carried. */
	int			 nreq;
	int			 exit_on_request;
	struct evhttp_request	*kept;		/* never answered */
	int			 post;
	char			*path;
	char			*body;
	size_t			 bodylen;
	char			*ctype;
	char			*key;
	char			*agent;
	char			*auth;
	int			 sig_ok;
};

static char *
dup_or_null(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

/* The receiver: records the request; the path picks the answer. */
static void
server_cb(struct evhttp_request *req, void *arg)
{
	struct fix *f = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evbuffer *buf = evhttp_request_get_input_buffer(req), *out;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *ts, *sig;
	char *want;

	if (uri == NULL) {
		/* libevent reports a broken connection this way. */
		if (req == f->kept)
			f->kept = NULL;
		evhttp_send_reply(req, 400, "Bad Request", NULL);
		return;
	}
	f->nreq++;
	f->post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
	free(f->path);
	f->path = dup_or_null(evhttp_uri_get_path(uri));
	free(f->body);
	f->bodylen = evbuffer_get_length(buf);
	f->body = malloc(f->bodylen + 1);
	evbuffer_copyout(buf, f->body, f->bodylen);
	f->body[f->bodylen] = '\0';
	free(f->ctype);
	f->ctype = dup_or_null(evhttp_find_header(in, "Content-Type"));
	free(f->key);
	f->key = dup_or_null(evhttp_find_header(in, "Idempotency-Key"));
	free(f->agent);
	f->agent = dup_or_null(evhttp_find_header(in, "User-Agent"));
	free(f->auth);
	f->auth = dup_or_null(evhttp_find_header(in, "Authorization"));

	/* Verify as a receiver would: recompute over "<t>.<body>". */
	ts = evhttp_find_header(in, "X-Stabild-Timestamp");
	sig = evhttp_find_header(in, "X-Stabild-Signature");
	f->sig_ok = 0;
	if (ts != NULL && sig != NULL) {
		want = webhook_signature(SECRET, strlen(SECRET),
		    strtoll(ts, NULL, 10), f->body, f->bodylen);
		f->sig_ok = want != NULL && strcmp(want, sig) == 0;
		free(want);
	}

	if (f->exit_on_request)
		event_base_loopexit(f->base, NULL);
	if (strcmp(f->path, "/hang") == 0) {
		f->kept = req;
		return;
	}
	if (strcmp(f->path, "/fail") == 0) {
		out = evbuffer_new();
		evbuffer_add_printf(out, "boom\n");
		evhttp_send_reply(req, 500, "Internal Server Error", out);
		evbuffer_free(out);
		return;
	}
	if (strcmp(f->path, "/gone") == 0) {
		evhttp_send_reply(req, 404, "Not Found", NULL);
		return;
	}
	evhttp_send_reply(req, 200, "OK", NULL);
}

static void
done_cb(void *arg, long status, const char *error)
{
	struct fix *f = arg;

	if (f->ndone < MAXDONE) {
		f->status[f->ndone] = status;
		f->error[f->ndone] = dup_or_null(error);
	}
	f->ndone++;
	if (f->free_in_cb) {
		http_client_free(f->client);
		f->client = NULL;
	}
	if (f->ndone >= f->want)
		event_base_loopexit(f->base, NULL);
}

static void
safety_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fix *f = arg;

	(void)fd;
	(void)what;
	f->timed_out = 1;
	event_base_loopexit(f->base, NULL);
}

static int
setup(void **state)
{
	struct fix *f;
	struct evhttp_bound_socket *bound;
	struct sockaddr_in sin;
	socklen_t slen = sizeof sin;

	f = calloc(1, sizeof *f);
	f->base = event_base_new();
	f->http = evhttp_new(f->base);
	evhttp_set_gencb(f->http, server_cb, f);
	bound = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", 0);
	if (bound == NULL || getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&sin, &slen) != 0)
		return -1;
	f->port = ntohs(sin.sin_port);
	f->safety = evtimer_new(f->base, safety_cb, f);
	f->client = http_client_create(f->base);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	int i;

	http_client_free(f->client);
	if (f->kept != NULL)
		evhttp_send_reply(f->kept, 503, "Gone", NULL);
	evhttp_free(f->http);
	event_free(f->safety);
	event_base_free(f->base);
	for (i = 0; i < MAXDONE; i++)
		free(f->error[i]);
	free(f->path);
	free(f->body);
	free(f->ctype);
	free(f->key);
	free(f->agent);
	free(f->auth);
	free(f);
	return 0;
}

/* Run the loop until want callbacks arrived, or 5 s at most. */
static void
run(struct fix *f, int want)
{
	struct timeval tv = { 5, 0 };

	f->want = want;
	evtimer_add(f->safety, &tv);
	event_base_dispatch(f->base);
	evtimer_del(f->safety);
	assert_false(f->timed_out);
}

static char *
url(struct fix *f, const char *path)
{
	static char buf[64];

	snprintf(buf, sizeof buf, "http://127.0.0.1:%d%s", f->port, path);
	return buf;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_signature_vector(void **state)
{
	char *s;

	(void)state;
	s = webhook_signature(SECRET, strlen(SECRET), 1683021600, BODY,
	    strlen(BODY));
	assert_non_null(s);
	assert_string_equal(s, VECTOR_SIG);
	free(s);

	s = webhook_signature("k", 1, 0, NULL, 0);
	assert_non_null(s);
	assert_string_equal(s, EMPTY_SIG);
	free(s);

	/* Another timestamp signs different material. */
	s = webhook_signature(SECRET, strlen(SECRET), 1683021601, BODY,
	    strlen(BODY));
	assert_string_not_equal(s, VECTOR_SIG);
	free(s);
}

static void
test_headers(void **state)
{
	const char *extra[] = { "Authorization: Bearer t0ken", NULL };
	char **h;

	(void)state;
	assert_int_equal(webhook_headers(&h, "a-1:3", SECRET, strlen(SECRET),
	    1683021600, BODY, strlen(BODY), extra), 0);
	assert_string_equal(h[0], "Content-Type: application/json");
	assert_string_equal(h[1], "Idempotency-Key: a-1:3");
	assert_string_equal(h[2], "X-Stabild-Timestamp: 1683021600");
	assert_string_equal(h[3], "X-Stabild-Signature: " VECTOR_SIG);
	assert_string_equal(h[4], "Authorization: Bearer t0ken");
	assert_null(h[5]);
	webhook_headers_free(h);

	/* No secret: no signature line. */
	assert_int_equal(webhook_headers(&h, "a-1:3", NULL, 0, 1683021600,
	    BODY, strlen(BODY), NULL), 0);
	assert_string_equal(h[1], "Idempotency-Key: a-1:3");
	assert_string_equal(h[2], "X-Stabild-Timestamp: 1683021600");
	assert_null(h[3]);
	webhook_headers_free(h);
	webhook_headers_free(NULL);
}

static void
test_headers_reject(void **state)
{
	static const struct {
		const char	*key;
		const char	*extra;
	} bad[] = {
		{ "", NULL },
		{ "a-1\r\nX-Injected: 1", NULL },
		{ "a-1", "No colon here" },
		{ "a-1", ": no name" },
		{ "a-1", "X-Split: a\r\nX-Injected: 1" },
		{ "a-1", "content-type: text/plain" },
		{ "a-1", "X-Stabild-Signature: sha256=00" },
		{ "a-1", "Bad Name: x" },
	};
	const char *extra[2];
	char **h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		extra[0] = bad[i].extra;
		extra[1] = NULL;
		h = (char **)1;
		assert_int_equal(webhook_headers(&h, bad[i].key, SECRET,
		    strlen(SECRET), 1, BODY, strlen(BODY), extra), -1);
		assert_null(h);
	}
}

static void
test_post_ok(void **state)
{
	struct fix *f = *state;
	const char *extra[] = { "Authorization: Bearer t0ken", NULL };
	const char *split[] = { "X-A: 1\r\nX-B: 2", NULL };
	char **h;
	int64_t t = (int64_t)time(NULL);

	assert_int_equal(http_post(f->client, url(f, "/hook"), split, BODY,
	    strlen(BODY), 1000, 2000, done_cb, f), -1);

	assert_int_equal(webhook_headers(&h, "a-1:1", SECRET, strlen(SECRET),
	    t, BODY, strlen(BODY), extra), 0);
	assert_int_equal(http_post(f->client, url(f, "/hook"),
	    (const char *const *)h, BODY, strlen(BODY), 1000, 2000, done_cb,
	    f), 0);
	/* Everything was copied. */
	webhook_headers_free(h);
	assert_int_equal(http_client_pending(f->client), 1);
	assert_int_equal(f->ndone, 0);	/* never from inside http_post */

	run(f, 1);
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->status[0], 200);
	assert_null(f->error[0]);
	assert_int_equal(http_client_pending(f->client), 0);

	assert_int_equal(f->nreq, 1);
	assert_true(f->post);
	assert_string_equal(f->path, "/hook");
	assert_int_equal(f->bodylen, strlen(BODY));
	assert_memory_equal(f->body, BODY, strlen(BODY));
	assert_string_equal(f->ctype, "application/json");
	assert_string_equal(f->key, "a-1:1");
	assert_string_equal(f->agent, "stabild/" STABILD_VERSION);
	assert_string_equal(f->auth, "Bearer t0ken");
	assert_true(f->sig_ok);
}

static void
test_post_500(void **state)
{
	struct fix *f = *state;

	assert_int_equal(http_post(f->client, url(f, "/fail"), NULL, BODY,
	    strlen(BODY), 1000, 2000, done_cb, f), 0);
	run(f, 1);
	assert_int_equal(f->status[0], 500);
	assert_non_null(f->error[0]);
	assert_string_equal(f->error[0], "HTTP 500: boom");

	/* The client goes on: a second request on the same client. */
	assert_int_equal(http_post(f->client, url(f, "/ok"), NULL, "", 0,
	    1000, 2000, done_cb, f), 0);
	run(f, 2);
	assert_int_equal(f->status[1], 200);
	assert_null(f->error[1]);
	assert_int_equal(f->bodylen, 0);

	/* Not 2xx, no body. */
	assert_int_equal(http_post(f->client, url(f, "/gone"), NULL, BODY,
	    strlen(BODY), 1000, 2000, done_cb, f), 0);
	run(f, 3);
	assert_int_equal(f->status[2], 404);
	assert_string_equal(f->error[2], "HTTP 404");
}

static void
test_post_refused(void **state)
{
	struct fix *f = *state;
	struct sockaddr_in sin;
	socklen_t slen = sizeof sin;
	char u[64];
	int s;

	/* A port that was just free: bind, read it back, close. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &slen), 0);
	close(s);
	snprintf(u, sizeof u, "http://127.0.0.1:%d/hook", ntohs(sin.sin_port));

	assert_int_equal(http_post(f->client, u, NULL, BODY, strlen(BODY),
	    1000, 2000, done_cb, f), 0);
	run(f, 1);
	assert_int_equal(f->status[0], 0);
	assert_non_null(f->error[0]);
	assert_true(strlen(f->error[0]) > 0);
	assert_int_equal(f->nreq, 0);

	/* Only http and https. */
	assert_int_equal(http_post(f->client, "file:///etc/passwd", NULL,
	    BODY, strlen(BODY), 1000, 2000, done_cb, f), 0);
	run(f, 2);
	assert_int_equal(f->status[1], 0);
	assert_non_null(f->error[1]);
}

static void
test_post_timeout(void **state)
{
	struct fix *f = *state;
	double t0, elapsed;

	t0 = now();
	assert_int_equal(http_post(f->client, url(f, "/hang"), NULL, BODY,
	    strlen(BODY), 1000, 300, done_cb, f), 0);
	run(f, 1);
	elapsed = now() - t0;
	assert_int_equal(f->nreq, 1);
	assert_int_equal(f->status[0], 0);
	assert_non_null(f->error[0]);
	assert_true(strstr(f->error[0], "timed out") != NULL ||
	    strstr(f->error[0], "Timeout") != NULL);
	assert_true(elapsed >= 0.25);
	assert_true(elapsed < 1.0);
}

static void
test_free_in_flight(void **state)
{
	struct fix *f = *state;
	int i;

	f->exit_on_request = 1;
	assert_int_equal(http_post(f->client, url(f, "/hang"), NULL, BODY,
	    strlen(BODY), 1000, 10000, done_cb, f), 0);
	run(f, 1);
	assert_int_equal(f->nreq, 1);
	assert_int_equal(http_client_pending(f->client), 1);

	/* Cancelled without a callback. */
	http_client_free(f->client);
	f->client = NULL;
	for (i = 0; i < 5; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(f->ndone, 0);
}

static void
test_free_from_callback(void **state)
{
	struct fix *f = *state;

	f->free_in_cb = 1;
	assert_int_equal(http_post(f->client, url(f, "/hang"), NULL, BODY,
	    strlen(BODY), 1000, 10000, done_cb, f), 0);
	assert_int_equal(http_post(f->client, url(f, "/ok"), NULL, BODY,
	    strlen(BODY), 1000, 10000, done_cb, f), 0);
	run(f, 1);
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->status[0], 200);
	assert_null(f->client);

	/* The hanging transfer went with the client: no late callback. */
	f->want = 2;
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(f->ndone, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_vector),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_headers_reject),
		cmocka_unit_test_setup_teardown(test_post_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_500, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_post_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_post_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_in_flight, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_from_callback,
		    setup, teardown),
	};

	/* Loopback must not go through a proxy from the environment. */
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	unsetenv("HTTPS_PROXY");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
