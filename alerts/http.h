/*
 * Asynchronous transfers on the event loop, HTTP POST and SMTP mail: the
 * libcurl multi interface driven by libevent, so a slow or dead receiver
 * never stalls ingest.
 */
#ifndef STABILD_HTTP_H
#define STABILD_HTTP_H

#include <stddef.h>

struct event_base;
struct http_client;

/*
 * Called exactly once per transfer started by http_post, always from the
 * event loop and never from inside http_post itself.
 *
 * status is the HTTP status of the response, or 0 when the transfer failed
 * before a complete response arrived (refused, timed out, TLS error, ...).
 * error is NULL exactly when status is 2xx. For any other status it reads
 * "HTTP <status>: <start of the response body>" (at most 512 bytes of body,
 * control characters replaced), or "HTTP <status>" when the body is empty;
 * with status 0 it is curl's message. error
 * is borrowed for the call only.
 *
 * The callback may call http_post again, and it may call http_client_free
 * on its own client: then no other callback of that client runs.
 */
typedef void (*http_done_cb)(void *arg, long status, const char *error);

/*
 * A client on base; base must outlive it. Initialises libcurl on the first
 * call. Never NULL.
 */
struct http_client *http_client_create(struct event_base *base);

/*
 * Cancel every transfer in flight and free the client; cancelled transfers
 * get NO callback. NULL does nothing. Safe from inside a done callback.
 */
void http_client_free(struct http_client *c);

/* Transfers started and not yet called back. */
int http_client_pending(struct http_client *c);

/*
 * Start a POST of body (len bytes) to url, an http:// or https:// URL.
 * headers is a NULL-terminated list of "Name: value" lines, or NULL. url,
 * headers and body are copied: they are borrowed for the call only.
 * Redirects are not followed; the response body is discarded.
 * connect_timeout_ms and total_timeout_ms bound the connection set-up and
 * the whole transfer; 0 leaves curl's default (300 s to connect, no limit
 * on the whole).
 *
 * Returns 0 when the transfer started (cb will be called once), -1 when it
 * could not start, for example a header holding CR or LF (cb will not be
 * called).
 */
int http_post(struct http_client *c, const char *url,
    const char *const *headers, const void *body, size_t len,
    long connect_timeout_ms, long total_timeout_ms, http_done_cb cb,
    void *arg) __attribute__((warn_unused_result));
/* http_post trusting the PEM certificates in ca_file (NULL: the system's). */
int http_post_ca(struct http_client *c, const char *url, const char *ca_file,
    const char *const *headers, const void *body, size_t len,
    long connect_timeout_ms, long total_timeout_ms, http_done_cb cb,
    void *arg) __attribute__((warn_unused_result));

enum http_starttls {
	HTTP_STARTTLS_OFF,
	HTTP_STARTTLS_OPTIONAL,	/* use it when the server offers it */
	HTTP_STARTTLS_REQUIRED,	/* fail when the server does not */
};

/* One message for SMTP; everything is borrowed for the call only. */
struct http_mail {
	const char		*url;		/* smtp://host:port, smtps://... */
	enum http_starttls	 starttls;	/* smtp:// only */
	const char		*ca_file;	/* NULL: the system's */
	const char		*user;		/* NULL: no AUTH */
	const char		*password;
	const char		*from;		/* envelope: "a@b" */
	const char *const	*rcpt;		/* "a@b", NULL-terminated */
	const char		*message;	/* RFC 5322, CRLF lines */
	size_t			 len;
	long			 connect_timeout_ms;
	long			 total_timeout_ms;
};

/*
 * Start sending one message over SMTP. cb is called as for http_post,
 * with status the server's last reply code (250 when accepted) and error
 * NULL exactly when the message was accepted for every recipient; a
 * refused recipient fails the whole transfer ("RCPT failed: 550").
 * Returns 0 when started, -1 when it could not start (no callback).
 */
int http_mail_send(struct http_client *c, const struct http_mail *m,
    http_done_cb cb, void *arg) __attribute__((warn_unused_result));

#endif
