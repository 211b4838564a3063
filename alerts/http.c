/*
 * HTTP POST and SMTP on the libcurl multi interface driven by libevent: one
 * event per socket curl asks us to watch and one timer for curl's
 * timeouts. Finished transfers are collected with curl_multi_info_read and
 * called back once.
 */
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "http.h"
#include "log.h"
#include "xmalloc.h"

#define HTTP_BODY_KEEP	512	/* response bytes kept for the error text */

struct http_transfer {
	struct http_client	*client;
	CURL			*easy;
	struct curl_slist	*headers;	/* or SMTP recipients */
	char			*body;
	size_t			 len;
	size_t			 sent;		/* SMTP: read so far */
	int			 smtp;
	http_done_cb		 cb;
	void			*arg;
	char			 errbuf[CURL_ERROR_SIZE];
	char			 resp[HTTP_BODY_KEEP];
	size_t			 resplen;
	TAILQ_ENTRY(http_transfer) entry;
};
TAILQ_HEAD(http_transfers, http_transfer);

/* One socket curl wants watched. */
struct http_sock {
	struct http_client	*client;
	struct event		*ev;
	int			 dead;	/* curl is done with it: free in reap */
	TAILQ_ENTRY(http_sock)	 entry;
};
TAILQ_HEAD(http_socks, http_sock);

struct http_client {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;	/* curl's one timeout */
	struct http_transfers	 transfers;
	struct http_socks	 socks;
	int			 ntransfers;
	int			 busy;	/* our frames on the stack */
	int			 dying;	/* free asked for while busy */
};

static int http_initialised;

static void http_event_cb(evutil_socket_t, short, void *);

/* Free a transfer that is no longer in the multi handle. */
static void
http_transfer_free(struct http_transfer *t)
{
	curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	free(t->body);
	free(t);
}

/* Free the socket records curl released; never from inside curl. */
static void
http_reap(struct http_client *c)
{
	struct http_sock *s, *next;

	for (s = TAILQ_FIRST(&c->socks); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (!s->dead)
			continue;
		TAILQ_REMOVE(&c->socks, s, entry);
		event_free(s->ev);
		free(s);
	}
}

/* Cancel everything without callbacks and free the client. */
static void
http_destroy(struct http_client *c)
{
	struct http_transfer *t;
	struct http_sock *s;

	while ((t = TAILQ_FIRST(&c->transfers)) != NULL) {
		TAILQ_REMOVE(&c->transfers, t, entry);
		curl_multi_remove_handle(c->multi, t->easy);
		http_transfer_free(t);
	}
	/* May still call the socket and timer callbacks: c stays valid. */
	curl_multi_cleanup(c->multi);
	while ((s = TAILQ_FIRST(&c->socks)) != NULL) {
		TAILQ_REMOVE(&c->socks, s, entry);
		event_free(s->ev);
		free(s);
	}
	event_free(c->timer);
	free(c);
}

static void
http_enter(struct http_client *c)
{
	c->busy++;
}

/* Leave our own frame: do the deferred free or reap released sockets. */
static void
http_leave(struct http_client *c)
{
	if (--c->busy > 0)
		return;
	if (c->dying)
		http_destroy(c);
	else
		http_reap(c);
}

/* Make the text passed as error for a non-2xx response. */
static char *
http_status_error(struct http_transfer *t, long status)
{
	char body[HTTP_BODY_KEEP + 1];
	size_t i, n;
	unsigned char ch;

	n = t->resplen;
	for (i = 0; i < n; i++) {
		ch = (unsigned char)t->resp[i];
		if (ch == '\n' || ch == '\r' || ch == '\t')
			body[i] = ' ';
		else if (ch < 0x20 || ch >= 0x7f)
			body[i] = '?';
		else
			body[i] = (char)ch;
	}
	while (n > 0 && body[n - 1] == ' ')
		n--;
	body[n] = '\0';
	if (n == 0)
		return xasprintf("HTTP %ld", status);
	return xasprintf("HTTP %ld: %s", status, body);
}

/* A transfer ended: take it out, call back once, free it. */
static void
http_finish(struct http_transfer *t, CURLcode result)
{
	struct http_client *c = t->client;
	long status = 0;
	char *error = NULL;

	curl_multi_remove_handle(c->multi, t->easy);
	TAILQ_REMOVE(&c->transfers, t, entry);
	c->ntransfers--;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	if (result != CURLE_OK) {
		/* SMTP keeps the refusing reply's code; HTTP has none. */
		if (!t->smtp)
			status = 0;
		if (t->errbuf[0] != '\0')
			error = xstrdup(t->errbuf);
		else
			error = xstrdup(curl_easy_strerror(result));
	} else if (!t->smtp) {
		if (status == 0)
			error = xstrdup("no HTTP response");
		else if (status < 200 || status > 299)
			error = http_status_error(t, status);
	}
	/* SMTP and CURLE_OK: accepted, curl checked every reply. */

	/* t is unlinked: a free of the client from cb does not touch it. */
	t->cb(t->arg, status, error);
	free(error);
	http_transfer_free(t);
}

/* Call back every finished transfer, stopping if the client is freed. */
static void
http_check(struct http_client *c)
{
	CURLMsg *msg;
	CURL *easy;
	CURLcode result;
	struct http_transfer *t;
	char *p;
	int left;

	while (!c->dying &&
	    (msg = curl_multi_info_read(c->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg dies with the handle's removal: copy first. */
		easy = msg->easy_handle;
		result = msg->data.result;
		p = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
		t = (struct http_transfer *)(void *)p;
		if (t == NULL)
			fatalx("http: finished transfer without owner");
		http_finish(t, result);
	}
}

/* CURLMOPT_SOCKETFUNCTION: watch fd as curl asks. */
static int
http_sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp)
{
	struct http_client *c = userp;
	struct http_sock *s = socketp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			/* Our event cb may be on the stack: free later. */
			event_del(s->ev);
			s->dead = 1;
			curl_multi_assign(c->multi, fd, NULL);
		}
		return 0;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		s->client = c;
		s->ev = event_new(c->base, fd, EV_READ, http_event_cb, s);
		if (s->ev == NULL)
			fatalx("http: event_new failed");
		TAILQ_INSERT_TAIL(&c->socks, s, entry);
		curl_multi_assign(c->multi, fd, s);
	}
	event_del(s->ev);
	kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if ((kind & (EV_READ|EV_WRITE)) == 0)
		return 0;
	event_assign(s->ev, c->base, fd, kind, http_event_cb, s);
	if (event_add(s->ev, NULL) != 0)
		fatalx("http: event_add failed");
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: (re)arm or stop the one timer. */
static int
http_timer_set_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *c = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(c->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (evtimer_add(c->timer, &tv) != 0)
		return -1;
	return 0;
}

/* A watched socket is ready: let curl work on it. */
static void
http_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_sock *s = arg;
	struct http_client *c = s->client;
	int action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	http_enter(c);
	curl_multi_socket_action(c->multi, fd, action, &running);
	http_check(c);
	http_leave(c);
}

/* curl's timeout expired. */
static void
http_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_client *c = arg;
	int running;

	(void)fd;
	(void)what;
	http_enter(c);
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check(c);
	http_leave(c);
}

/* CURLOPT_WRITEFUNCTION: keep the start of the body, drop the rest. */
static size_t
http_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_transfer *t = arg;
	size_t n = size * nmemb, room;

	room = sizeof t->resp - t->resplen;
	if (room > n)
		room = n;
	memcpy(t->resp + t->resplen, ptr, room);
	t->resplen += room;
	return n;
}

struct http_client *
http_client_create(struct event_base *base)
{
	struct http_client *c;

	if (!http_initialised) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			fatalx("http: curl_global_init failed");
		http_initialised = 1;
	}
	c = xcalloc(1, sizeof *c);
	c->base = base;
	TAILQ_INIT(&c->transfers);
	TAILQ_INIT(&c->socks);
	if ((c->timer = evtimer_new(base, http_timeout_cb, c)) == NULL)
		fatalx("http: evtimer_new failed");
	if ((c->multi = curl_multi_init()) == NULL)
		fatalx("http: curl_multi_init failed");
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, http_sock_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, http_timer_set_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return c;
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	if (c->busy > 0) {
		c->dying = 1;	/* http_leave frees it */
		return;
	}
	http_destroy(c);
}

int
http_client_pending(struct http_client *c)
{
	return c->ntransfers;
}

/* Append one header line to a curl list; allocation failure is fatal. */
static struct curl_slist *
http_slist_add(struct curl_slist *list, const char *line)
{
	struct curl_slist *n;

	if ((n = curl_slist_append(list, line)) == NULL)
		fatalx("http: out of memory");
	return n;
}

/* A transfer of c on a new easy handle, with the options all share. */
static struct http_transfer *
http_transfer_new(struct http_client *c, const char *url, const char *ca_file,
    long connect_timeout_ms, long total_timeout_ms, http_done_cb cb,
    void *arg)
{
	struct http_transfer *t;
	CURL *easy;
	int bad = 0;

	if (c->dying || url == NULL || cb == NULL || connect_timeout_ms < 0 ||
	    total_timeout_ms < 0)
		return NULL;
	if ((easy = curl_easy_init()) == NULL)
		return NULL;
	t = xcalloc(1, sizeof *t);
	t->client = c;
	t->easy = easy;
	t->cb = cb;
	t->arg = arg;
	bad |= curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
	    connect_timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, total_timeout_ms) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_PRIVATE, t) != CURLE_OK;
	if (ca_file != NULL)
		bad |= curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file) !=
		    CURLE_OK;
	if (bad) {
		http_transfer_free(t);
		return NULL;
	}
	return t;
}

/* Hand t to the multi handle; cb runs later, from the loop. */
static int
http_transfer_start(struct http_client *c, struct http_transfer *t)
{
	if (curl_multi_add_handle(c->multi, t->easy) != CURLM_OK) {
		http_transfer_free(t);
		return -1;
	}
	TAILQ_INSERT_TAIL(&c->transfers, t, entry);
	c->ntransfers++;
	return 0;
}

int
http_post(struct http_client *c, const char *url,
    const char *const *headers, const void *body, size_t len,
    long connect_timeout_ms, long total_timeout_ms, http_done_cb cb,
    void *arg)
{
	return http_post_ca(c, url, NULL, headers, body, len,
	    connect_timeout_ms, total_timeout_ms, cb, arg);
}

int
http_post_ca(struct http_client *c, const char *url, const char *ca_file,
    const char *const *headers, const void *body, size_t len,
    long connect_timeout_ms, long total_timeout_ms, http_done_cb cb,
    void *arg)
{
	struct http_transfer *t;
	const char *const *h;
	CURL *easy;
	int bad = 0;

	if (body == NULL && len != 0)
		return -1;
	for (h = headers; h != NULL && *h != NULL; h++) {
		if (strpbrk(*h, "\r\n") != NULL)
			return -1;
	}
	if ((t = http_transfer_new(c, url, ca_file, connect_timeout_ms,
	    total_timeout_ms, cb, arg)) == NULL)
		return -1;
	easy = t->easy;
	t->body = xmalloc(len == 0 ? 1 : len);
	if (len != 0)
		memcpy(t->body, body, len);
	t->len = len;
	for (h = headers; h != NULL && *h != NULL; h++)
		t->headers = http_slist_add(t->headers, *h);
	/* No "Expect: 100-continue" round trip for larger bodies. */
	t->headers = http_slist_add(t->headers, "Expect:");

	bad |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR,
	    "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_USERAGENT,
	    "stabild/" STABILD_VERSION) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_POST, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t->body) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, http_write_cb) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_WRITEDATA, t) != CURLE_OK;
	if (bad) {
		http_transfer_free(t);
		return -1;
	}
	return http_transfer_start(c, t);
}

/* CURLOPT_READFUNCTION for SMTP: the next part of the message. */
static size_t
http_read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct http_transfer *t = arg;
	size_t n = size * nitems;

	if (n > t->len - t->sent)
		n = t->len - t->sent;
	memcpy(buf, t->body + t->sent, n);
	t->sent += n;
	return n;
}

int
http_mail_send(struct http_client *c, const struct http_mail *m,
    http_done_cb cb, void *arg)
{
	static const curl_usessl ssl[] = {
		[HTTP_STARTTLS_OFF] = CURLUSESSL_NONE,
		[HTTP_STARTTLS_OPTIONAL] = CURLUSESSL_TRY,
		[HTTP_STARTTLS_REQUIRED] = CURLUSESSL_ALL,
	};
	struct http_transfer *t;
	const char *const *r;
	CURL *easy;
	int bad = 0;

	if (m->from == NULL || m->rcpt == NULL || m->rcpt[0] == NULL ||
	    m->message == NULL || (unsigned int)m->starttls > 2)
		return -1;
	if ((t = http_transfer_new(c, m->url, m->ca_file,
	    m->connect_timeout_ms, m->total_timeout_ms, cb, arg)) == NULL)
		return -1;
	easy = t->easy;
	t->smtp = 1;
	t->body = xmalloc(m->len == 0 ? 1 : m->len);
	memcpy(t->body, m->message, m->len);
	t->len = m->len;
	for (r = m->rcpt; *r != NULL; r++)
		t->headers = http_slist_add(t->headers, *r);

	bad |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps") !=
	    CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_USE_SSL,
	    (long)ssl[m->starttls]) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_MAIL_FROM, m->from) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, t->headers) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)m->len) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_READFUNCTION, http_read_cb) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_READDATA, t) != CURLE_OK;
	/*
	 * A connection of its own: curl would otherwise reuse another
	 * receiver's plain connection to the same server even when this
	 * one requires STARTTLS. Mail is rare; the handshake is cheap.
	 */
	bad |= curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK;
	if (m->user != NULL) {
		/* curl copies both; the caller wipes its own copies. */
		bad |= curl_easy_setopt(easy, CURLOPT_USERNAME, m->user) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(easy, CURLOPT_PASSWORD,
		    m->password != NULL ? m->password : "") != CURLE_OK;
	}
	if (bad) {
		http_transfer_free(t);
		return -1;
	}
	return http_transfer_start(c, t);
}
