/*
 * Alert delivery through the durable outbox. Each alert state change is
 * routed to receivers; a notification per receiver is written to disk
 * before its first attempt and removed only once the receiver accepted it
 * (a 2xx, or SMTP's final 250). Its id (alert id, state sequence,
 * receiver) makes a replay after a crash a no-op instead of a second
 * message. Notifications of one route and receiver that fall within the
 * route's group window are sent as one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "alert.h"
#include "clock.h"
#include "conf.h"
#include "deliver.h"
#include "email.h"
#include "ha.h"
#include "ha_claim.h"
#include "http.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"
#include "rlink.h"
#include "route.h"
#include "silence.h"
#include "sink.h"
#include "spool.h"
#include "stall.h"
#include "utc.h"
#include "webhook.h"
#include "worker.h"
#include "xmalloc.h"

#define DELIVER_FILE_MAX	4096	/* bytes of a secret or auth file */
#define DELIVER_GROUP_MAX	100	/* alerts in one notification */
#define DELIVER_REPEAT_CHECK	1	/* seconds between repeat looks */
#define DELIVER_MAX_RCPT	64
#define DELIVER_MAX_HEADERS	16	/* lines of a headers_file */
/*
 * Work of one turn of the loop; more waits for the next turn, so that a
 * catch-up of thousands never holds the loop (see stall.h).
 */
#define DELIVER_BATCH		16	/* attempts started */
#define DELIVER_SYNC_BATCH	1024	/* outbox files fsynced off the loop */
#define DELIVER_PRUNE_BATCH	64	/* expired notifications dropped */
#define DELIVER_RECENT		200	/* settled notifications listed (HA) */
#define DELIVER_UNMARKED_MAX	1024	/* done markers waiting for Redis */

/* What a receiver needs beyond its configuration; never logged. */
struct deliver_rx {
	char	*name;
	char	*secret;		/* webhook HMAC key */
	size_t	 secretlen;
	char	*headers[DELIVER_MAX_HEADERS + 2];	/* extra, NULL-ended */
	int	 nheaders;
	char	*user;			/* SMTP AUTH */
	char	*password;
	char	*template;		/* email; NULL: the built-in one */
};

/* HA mode: a settled notification, for GET /v1/deliveries's "recent". */
struct deliver_recent {
	char		 id[SPOOL_ID_MAX];
	char		 receiver[SPOOL_RECEIVER_MAX];
	char		 by[72];		/* the instance that sent it */
	int64_t		 at;			/* Unix ms */
	const char	*outcome;
};

/* HA mode: a done marker to write once Redis answers again. */
struct deliver_unmarked {
	char		 id[SPOOL_ID_MAX];
	char		 receiver[SPOOL_RECEIVER_MAX];
	uint64_t	 token;			/* 0: sent unclaimed */
};

struct deliver {
	struct event_base	*base;
	const struct conf	*conf;
	struct spool		*spool;
	struct ledger		*ledger;
	const struct silence_registry *silences;	/* borrowed or NULL */
	struct ha		*ha;		/* HA mode; NULL: off */
	struct ha_claim		*claims;	/* with ha */
	struct deliver_recent	*recent;	/* with ha: a ring */
	int			 nrecent;
	int			 recent_next;
	struct deliver_unmarked	*unmarked;	/* with ha */
	int			 nunmarked;
	struct http_client	*http;
	struct event		*timer;
	struct event		*keep_timer;	/* syncs and prunes the outbox */
	struct worker		*syncer;	/* the outbox's fsyncs */
	bool			 syncing;	/* a batch is on the syncer */
	struct event		*repeat_timer;
	int			 inflight;	/* attempts started, not done */
	struct sink		 sink;
	struct deliver_rx	 rx[CONF_MAX_RECEIVERS];
	int			 nrx;
	char			 hostname[256];
};

struct deliver_try;

/* HA mode: one member's claim in flight. */
struct deliver_claim {
	struct deliver_try	*t;
	struct ha_claim_reply	 reply;
};

/*
 * One attempt in flight: one notification, maybe a group of them. In HA
 * mode each member is claimed first (claims, pending); then tokens hold
 * the members' fencing tokens (0: sent unclaimed) while renew keeps
 * their claims alive.
 */
struct deliver_try {
	struct deliver		*d;
	struct spool_item	*items[DELIVER_GROUP_MAX];
	int			 n;
	struct deliver_claim	*claims;
	int			 pending;
	uint64_t		 tokens[DELIVER_GROUP_MAX];
	struct event		*renew;
};

static int64_t
deliver_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Free a string that may hold a secret. */
static void
deliver_wipe(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

static void
deliver_rx_free(struct deliver_rx *rx, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(rx[i].name);
		deliver_wipe(rx[i].secret);
		while (rx[i].nheaders > 0)
			deliver_wipe(rx[i].headers[--rx[i].nheaders]);
		deliver_wipe(rx[i].user);
		deliver_wipe(rx[i].password);
		free(rx[i].template);
	}
}

/*
 * A secret-holding file of at most DELIVER_FILE_MAX - 1 bytes into buf,
 * NUL-terminated; the caller wipes buf. -1 with *cause.
 */
static int
deliver_slurp(const char *path, char *buf, char **cause)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*cause = xasprintf("deliver: %s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, DELIVER_FILE_MAX - 1);
	close(fd);
	if (n < 0) {
		*cause = xasprintf("deliver: %s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * The first want lines of a small file, each non-empty, into out[]; -1
 * with *cause, which never holds the file's contents.
 */
static int
deliver_read_lines(const char *path, char **out, int want, char **cause)
{
	char buf[DELIVER_FILE_MAX], *p;
	size_t len;
	int i;

	if (deliver_slurp(path, buf, cause) == -1)
		return -1;
	p = buf;
	for (i = 0; i < want; i++) {
		len = strcspn(p, "\r\n");
		if (len == 0) {
			*cause = xasprintf("deliver: %s: line %d is empty or "
			    "missing", path, i + 1);
			while (--i >= 0)
				deliver_wipe(out[i]);
			explicit_bzero(buf, sizeof buf);
			return -1;
		}
		out[i] = xstrndup(p, len);
		p += len;
		if (*p == '\r')
			p++;
		if (*p == '\n')
			p++;
	}
	explicit_bzero(buf, sizeof buf);
	return 0;
}

/*
 * The extra header lines of a headers_file: "Name: value" each, blank
 * lines and lines starting with # skipped. webhook_headers checks them
 * again when it builds a request. -1 with *cause, never a value.
 */
static int
deliver_read_headers(const char *path, struct deliver_rx *rx, char **cause)
{
	char buf[DELIVER_FILE_MAX], *line, *next, *colon, **check = NULL;
	int lineno = 0, rc = 0;

	if (deliver_slurp(path, buf, cause) == -1)
		return -1;
	for (line = buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		colon = strchr(line, ':');
		if (colon == NULL || colon == line || colon[1] != ' ' ||
		    strcspn(line, " \t") < (size_t)(colon - line)) {
			*cause = xasprintf("deliver: %s: line %d is not "
			    "'Name: value'", path, lineno);
			rc = -1;
			break;
		}
		if (rx->nheaders == DELIVER_MAX_HEADERS) {
			*cause = xasprintf("deliver: %s: more than %d headers",
			    path, DELIVER_MAX_HEADERS);
			rc = -1;
			break;
		}
		rx->headers[rx->nheaders++] = xstrdup(line);
	}
	explicit_bzero(buf, sizeof buf);
	/* Refused now rather than at every attempt. */
	if (rc == 0 && webhook_headers(&check, "check", NULL, 0, 0, "", 0,
	    (const char *const *)rx->headers) == -1) {
		*cause = xasprintf("deliver: %s: a line sets a header stabild "
		    "sets itself", path);
		rc = -1;
	}
	webhook_headers_free(check);
	return rc;
}

/* Read one receiver's files into rx. */
static int
deliver_rx_load(const struct conf_receiver *r, struct deliver_rx *rx,
    char **cause)
{
	char *lines[2];

	memset(rx, 0, sizeof *rx);
	rx->name = xstrdup(r->name);
	if (r->secret_file != NULL) {
		if (deliver_read_lines(r->secret_file, lines, 1, cause) == -1)
			return -1;
		rx->secret = lines[0];
		rx->secretlen = strlen(lines[0]);
	}
	if (r->bearer_token_file != NULL) {
		if (deliver_read_lines(r->bearer_token_file, lines, 1, cause) ==
		    -1)
			return -1;
		rx->headers[rx->nheaders++] = xasprintf("Authorization: "
		    "Bearer %s", lines[0]);
		deliver_wipe(lines[0]);
	}
	if (r->headers_file != NULL &&
	    deliver_read_headers(r->headers_file, rx, cause) == -1)
		return -1;
	if (r->auth_file != NULL) {
		if (deliver_read_lines(r->auth_file, lines, 2, cause) == -1)
			return -1;
		rx->user = lines[0];
		rx->password = lines[1];
	}
	if (r->template_file != NULL &&
	    (rx->template = email_load_template(r->template_file, cause)) ==
	    NULL)
		return -1;
	return 0;
}

/* Every receiver's files; all or nothing. */
static int
deliver_rx_load_all(const struct conf *c, struct deliver_rx *rx, int *n,
    char **cause)
{
	int i;

	*n = 0;
	for (i = 0; i < c->nreceivers; i++) {
		if (deliver_rx_load(&c->receivers[i], &rx[i], cause) == -1) {
			deliver_rx_free(rx, i + 1);
			return -1;
		}
	}
	*n = c->nreceivers;
	return 0;
}

static const struct deliver_rx *
deliver_rx_find(const struct deliver *d, const char *name)
{
	int i;

	for (i = 0; i < d->nrx; i++) {
		if (strcmp(d->rx[i].name, name) == 0)
			return &d->rx[i];
	}
	return NULL;
}

/* The outbox gauges and counters for /metrics. */
static void
deliver_metrics(const struct deliver *d)
{
	struct spool_stats st;

	spool_get_stats(d->spool, &st);
	metrics.notifications_queued = st.queued;
	metrics.notifications_delivered = st.delivered;
	metrics.notification_retries = st.retried;
	metrics.notifications_expired = st.expired;
	metrics.notifications_dropped = st.dropped;
	metrics.outbox_pending = (uint64_t)spool_pending(d->spool);
	metrics.outbox_expired = (uint64_t)spool_expired(d->spool);
	metrics.deliveries_inflight = (uint64_t)d->inflight;
}

/* Arm ev for Unix ms at (-1: leave it); 0 ms is the next turn. */
static void
deliver_arm(struct event *ev, int64_t at, int64_t now)
{
	int64_t wait = at - now;
	struct timeval tv;

	if (at < 0)
		return;
	if (wait < 0)
		wait = 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/*
 * Arm the timer for the earliest waiting notification, unless the
 * transfers in flight are at their limit (an ending one calls again),
 * and the outbox's housekeeping for its next work.
 */
static void
deliver_schedule(struct deliver *d)
{
	int64_t now = deliver_now_ms(), next = spool_next_time(d->spool);

	deliver_metrics(d);
	/* Done markers waiting for Redis are tried each second. */
	if (d->nunmarked > 0 && (next == -1 || next > now + 1000))
		next = now + 1000;
	if (d->inflight < d->conf->max_inflight)
		deliver_arm(d->timer, next, now);
	deliver_arm(d->keep_timer, !d->syncing && spool_unsynced(d->spool) ?
	    now : spool_prune_time(d->spool), now);
}

static void deliver_save_ledger(struct deliver *d);

static void
deliver_try_free(struct deliver_try *t)
{
	if (t->renew != NULL)
		event_free(t->renew);
	free(t->claims);
	free(t);
}

/* HA mode: remember a settled notification for GET /v1/deliveries. */
static void
deliver_recent_add(struct deliver *d, const struct spool_item *it,
    const char *by, int64_t at, const char *outcome)
{
	struct deliver_recent *r;

	if (d->recent == NULL)
		return;
	r = &d->recent[d->recent_next];
	d->recent_next = (d->recent_next + 1) % DELIVER_RECENT;
	if (d->nrecent < DELIVER_RECENT)
		d->nrecent++;
	snprintf(r->id, sizeof r->id, "%s", it->id);
	snprintf(r->receiver, sizeof r->receiver, "%s", it->receiver);
	snprintf(r->by, sizeof r->by, "%s", by);
	r->at = at;
	r->outcome = outcome;
}

/*
 * Fail every item of an attempt with why and free it; in HA mode release
 * the claims first, so that the next attempt (ours or a peer's, each on
 * its own backoff) need not wait for them to expire.
 */
static void
deliver_fail_try(struct deliver *d, struct deliver_try *t, const char *why,
    int64_t now)
{
	int i;

	for (i = 0; i < t->n; i++) {
		if (d->claims != NULL && t->tokens[i] != 0)
			(void)ha_claim_release(d->claims, t->items[i]->id,
			    t->tokens[i], NULL, NULL);
		spool_failed(d->spool, t->items[i], why, now);
	}
	deliver_try_free(t);
}

/* One done marker in flight. */
struct deliver_mark {
	struct deliver	*d;
	char		 id[SPOOL_ID_MAX];
	char		 receiver[SPOOL_RECEIVER_MAX];
	uint64_t	 token;
};

static void deliver_marked_cb(void *arg, int result);

/* Send the done marker of id; kept for later when Redis is away. */
static void
deliver_mark(struct deliver *d, const char *id, const char *receiver,
    uint64_t token)
{
	struct deliver_mark *m = xcalloc(1, sizeof *m);
	struct deliver_unmarked *u;

	m->d = d;
	snprintf(m->id, sizeof m->id, "%s", id);
	snprintf(m->receiver, sizeof m->receiver, "%s", receiver);
	m->token = token;
	if (ha_claim_done(d->claims, id, token, token == 0,
	    deliver_marked_cb, m) == 0)
		return;
	free(m);
	if (d->nunmarked == DELIVER_UNMARKED_MAX) {
		log_warnx("deliver: %s: too many done markers waiting for "
		    "redis; this one is not written", id);
		return;
	}
	u = &d->unmarked[d->nunmarked++];
	snprintf(u->id, sizeof u->id, "%s", id);
	snprintf(u->receiver, sizeof u->receiver, "%s", receiver);
	u->token = token;
}

static void
deliver_marked_cb(void *arg, int result)
{
	struct deliver_mark *m = arg;
	struct deliver *d = m->d;
	struct deliver_unmarked *u;
	struct spool_item like;

	if (result == 0) {
		/*
		 * Another instance sent it too, under the same key: it took
		 * over a claim we held too long, or we sent it unclaimed
		 * while Redis was away.
		 */
		log_notice("deliver: %s was delivered by another instance "
		    "as well: repeated with the same key", m->id);
		metrics.ha_repeats++;
		memset(&like, 0, sizeof like);
		snprintf(like.id, sizeof like.id, "%s", m->id);
		snprintf(like.receiver, sizeof like.receiver, "%s",
		    m->receiver);
		deliver_recent_add(d, &like, ha_instance(d->ha),
		    deliver_now_ms(), "repeat");
	} else if (result == -1 && d->claims != NULL &&
	    d->nunmarked < DELIVER_UNMARKED_MAX) {
		u = &d->unmarked[d->nunmarked++];
		snprintf(u->id, sizeof u->id, "%s", m->id);
		snprintf(u->receiver, sizeof u->receiver, "%s", m->receiver);
		u->token = m->token;
	}
	free(m);
}

/* The done markers that waited for Redis (best effort). */
static void
deliver_mark_waiting(struct deliver *d)
{
	struct deliver_unmarked u;
	struct rlink *rl;

	int n = d->nunmarked;

	/* A failure puts it back: one pass over those waiting. */
	while (n-- > 0 && d->nunmarked > 0 && (rl = ha_link(d->ha)) != NULL &&
	    rlink_up(rl)) {
		u = d->unmarked[--d->nunmarked];
		deliver_mark(d, u.id, u.receiver, u.token);
	}
}

static void
deliver_done_cb(void *arg, long status, const char *error)
{
	struct deliver_try *t = arg;
	struct deliver *d = t->d;
	struct spool_item *lead = t->items[0];
	struct stall_mark t0;
	int64_t now = deliver_now_ms();
	int i;

	stall_start(&t0);
	if (error == NULL) {
		log_info("deliver: %s%s delivered to %s (%ld)", lead->id,
		    t->n > 1 ? " and its group" : "", lead->receiver, status);
		for (i = 0; i < t->n; i++) {
			if (d->claims != NULL) {
				deliver_recent_add(d, t->items[i],
				    ha_instance(d->ha), now, t->tokens[i] != 0 ?
				    "delivered" : "unclaimed");
				deliver_mark(d, t->items[i]->id,
				    t->items[i]->receiver, t->tokens[i]);
			}
			spool_delivered(d->spool, t->items[i]);
		}
		deliver_try_free(t);
	} else {
		log_warnx("deliver: %s%s to %s failed (attempt %u): %s",
		    lead->id, t->n > 1 ? " and its group" : "", lead->receiver,
		    lead->attempts + 1, error);
		deliver_fail_try(d, t, error, now);
	}
	d->inflight--;
	deliver_schedule(d);
	stall_step("a delivery's end", &t0);
}

/* "g-" and 32 hex digits of SHA-256 over the member ids. */
static void
deliver_group_key(struct spool_item **items, int n, char *out, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int j;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		fatalx("deliver: SHA-256 is not available");
	for (j = 0; j < n; j++)
		EVP_DigestUpdate(ctx, items[j]->id, strlen(items[j]->id) + 1);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	snprintf(out, size, "g-");
	for (i = 0; i < 16 && 2 + 2 * i + 2 < size; i++)
		snprintf(out + 2 + 2 * i, size - 2 - 2 * i, "%02x", md[i]);
}

/*
 * The body of a grouped webhook notification: the alerts as stored,
 * unchanged, in an array (see the README, "Grouping").
 */
static char *
deliver_group_body(struct spool_item **items, int n, size_t *len)
{
	char *head, *body;
	size_t hlen, total, off;
	int i;

	head = xasprintf("{\"version\":1,\"group\":{\"route\":\"%s\","
	    "\"receiver\":\"%s\",\"count\":%d},\"alerts\":[", items[0]->group,
	    items[0]->receiver, n);
	hlen = strlen(head);
	total = hlen + 3;
	for (i = 0; i < n; i++)
		total += items[i]->len + 1;
	body = xmalloc(total);
	memcpy(body, head, hlen);
	off = hlen;
	for (i = 0; i < n; i++) {
		if (i > 0)
			body[off++] = ',';
		memcpy(body + off, items[i]->payload, items[i]->len);
		off += items[i]->len;
	}
	memcpy(body + off, "]}", 3);
	*len = off + 2;
	free(head);
	return body;
}

static void
deliver_webhook(struct deliver *d, const struct conf_receiver *r,
    struct deliver_try *t, int64_t now)
{
	const struct deliver_rx *rx = deliver_rx_find(d, r->name);
	char **headers = NULL, key[40], *body = NULL, fence[64], inst[96];
	const char *send, *extra[DELIVER_MAX_HEADERS + 5];
	const char *const *ex;
	uint64_t token = 0;
	size_t len;
	int i, nex = 0;

	if (t->items[0]->group[0] == '\0') {
		send = t->items[0]->payload;
		len = t->items[0]->len;
		snprintf(key, sizeof key, "%.39s", t->items[0]->id);
	} else {
		send = body = deliver_group_body(t->items, t->n, &len);
		deliver_group_key(t->items, t->n, key, sizeof key);
	}
	ex = rx != NULL ? (const char *const *)rx->headers : NULL;
	if (d->claims != NULL) {
		/*
		 * Who sends, and its fencing token (a group's highest): a
		 * strict receiver may refuse a lower token for a key it has
		 * seen. None for a notification sent unclaimed.
		 */
		for (i = 0; ex != NULL && ex[i] != NULL; i++)
			extra[nex++] = ex[i];
		for (i = 0; i < t->n; i++) {
			if (t->tokens[i] > token)
				token = t->tokens[i];
		}
		snprintf(fence, sizeof fence, "X-Stabild-Fence: %" PRIu64,
		    token);
		if (token != 0)
			extra[nex++] = fence;
		snprintf(inst, sizeof inst, "X-Stabild-Instance: %s",
		    ha_instance(d->ha));
		extra[nex++] = inst;
		extra[nex] = NULL;
		ex = extra;
	}
	if (webhook_headers(&headers, t->items[0]->group[0] == '\0' ?
	    t->items[0]->id : key, rx != NULL ? rx->secret : NULL,
	    rx != NULL ? rx->secretlen : 0, now / 1000, send, len, ex) == -1)
		deliver_fail_try(d, t, "cannot build the request", now);
	else {
		d->inflight++;
		if (http_post_ca(d->http, r->url, r->ca_file,
		    (const char *const *)headers, send, len,
		    (long)r->connect_timeout_ms, (long)r->timeout_ms,
		    deliver_done_cb, t) == -1) {
			d->inflight--;
			deliver_fail_try(d, t, "cannot start the request",
			    now);
		}
	}
	webhook_headers_free(headers);
	free(body);
}

/* A comma-separated address list into bare envelope addresses. */
static int
deliver_rcpt(const char *list, char **rcpt, int *n)
{
	char one[320], spec[320];
	const char *s;
	size_t len;

	while (list != NULL && conf_list_next(&list, &s, &len)) {
		if (len >= sizeof one || *n >= DELIVER_MAX_RCPT)
			return -1;
		memcpy(one, s, len);
		one[len] = '\0';
		if (email_addr_spec(one, spec, sizeof spec) == -1)
			return -1;
		rcpt[(*n)++] = xasprintf("<%s>", spec);
	}
	return 0;
}

/* A comma-separated address list as strings for the headers. */
static int
deliver_addresses(const char *list, char **out, int max)
{
	const char *s;
	size_t len;
	int n = 0;

	while (list != NULL && conf_list_next(&list, &s, &len) && n < max)
		out[n++] = xstrndup(s, len);
	return n;
}

static void
deliver_strings_free(char **v, int n)
{
	while (n-- > 0)
		free(v[n]);
}

static void
deliver_email(struct deliver *d, const struct conf_receiver *r,
    struct deliver_try *t, int64_t now)
{
	const struct deliver_rx *rx = deliver_rx_find(d, r->name);
	struct alert *alerts = xcalloc((size_t)t->n, sizeof *alerts);
	const struct alert *ptrs[DELIVER_GROUP_MAX];
	char *to[DELIVER_MAX_RCPT], *cc[DELIVER_MAX_RCPT];
	char *rcpt[DELIVER_MAX_RCPT + 1], from[320], envelope[330];
	char nid[SPOOL_ID_MAX];
	char *msg = NULL, *cause = NULL;
	struct http_mail m;
	json_error_t err;
	json_t *o;
	int i, nto, ncc, nrcpt = 0, bad = 0;

	for (i = 0; i < t->n; i++) {
		o = json_loadb(t->items[i]->payload, t->items[i]->len, 0, &err);
		if (o == NULL || alert_from_json(o, &alerts[i]) == -1)
			bad = 1;
		json_decref(o);
		ptrs[i] = &alerts[i];
	}
	nto = deliver_addresses(r->to, to, DELIVER_MAX_RCPT);
	ncc = deliver_addresses(r->cc, cc, DELIVER_MAX_RCPT);
	if (bad)
		cause = xstrdup("a stored alert cannot be read");
	else if (email_addr_spec(r->from, from, sizeof from) == -1 ||
	    deliver_rcpt(r->to, rcpt, &nrcpt) == -1 ||
	    deliver_rcpt(r->cc, rcpt, &nrcpt) == -1)
		cause = xstrdup("an address cannot be used in the envelope");
	else {
		/* HA: the Message-ID from the notification alone. */
		if (d->claims != NULL && t->n > 1)
			deliver_group_key(t->items, t->n, nid, sizeof nid);
		else
			snprintf(nid, sizeof nid, "%s", t->items[0]->id);
		msg = email_render_nid(ptrs, t->n, rx != NULL &&
		    rx->template != NULL ? rx->template :
		    email_default_template, r->from, (const char *const *)to,
		    nto, (const char *const *)cc, ncc,
		    d->conf->http_url != NULL ? d->conf->http_url : "",
		    now / 1000,
		    d->hostname, d->claims != NULL ? nid : NULL, &cause);
	}
	if (msg == NULL && cause == NULL)
		cause = xstrdup("the message cannot be rendered");
	if (msg != NULL) {
		rcpt[nrcpt] = NULL;
		snprintf(envelope, sizeof envelope, "<%s>", from);
		memset(&m, 0, sizeof m);
		m.url = r->url;
		m.starttls = strncasecmp(r->url, "smtps://", 8) == 0 ||
		    strcmp(r->starttls, "off") == 0 ? HTTP_STARTTLS_OFF :
		    strcmp(r->starttls, "optional") == 0 ?
		    HTTP_STARTTLS_OPTIONAL : HTTP_STARTTLS_REQUIRED;
		m.ca_file = r->ca_file;
		m.user = rx != NULL ? rx->user : NULL;
		m.password = rx != NULL ? rx->password : NULL;
		m.from = envelope;
		m.rcpt = (const char *const *)rcpt;
		m.message = msg;
		m.len = strlen(msg);
		m.connect_timeout_ms = (long)r->connect_timeout_ms;
		m.total_timeout_ms = (long)r->timeout_ms;
		d->inflight++;
		if (http_mail_send(d->http, &m, deliver_done_cb, t) == -1) {
			d->inflight--;
			cause = xstrdup("cannot start the SMTP transfer");
		} else
			t = NULL;	/* deliver_done_cb has it now */
	}
	if (t != NULL) {
		log_warnx("deliver: %s to %s: %s", t->items[0]->id, r->name,
		    cause);
		deliver_fail_try(d, t, cause, now);
	}
	free(cause);
	free(msg);
	free(alerts);
	deliver_strings_free(to, nto);
	deliver_strings_free(cc, ncc);
	deliver_strings_free(rcpt, nrcpt);
}

/* Send the members of t, claimed or without HA. */
static void
deliver_send(struct deliver *d, struct deliver_try *t, int64_t now)
{
	const struct conf_receiver *r = route_receiver(d->conf,
	    t->items[0]->receiver);

	if (r == NULL)
		deliver_fail_try(d, t, "receiver no longer configured", now);
	else if (strcmp(r->type, "webhook") == 0)
		deliver_webhook(d, r, t, now);
	else
		deliver_email(d, r, t, now);
}

/* lead and the rest of its group. */
static struct deliver_try *
deliver_try_new(struct deliver *d, struct spool_item *lead)
{
	struct deliver_try *t = xcalloc(1, sizeof *t);

	t->d = d;
	t->items[0] = lead;
	t->n = 1 + spool_take_group(d->spool, lead, t->items + 1,
	    DELIVER_GROUP_MAX - 1);
	return t;
}

/* Start one attempt for lead and the rest of its group. */
static void
deliver_attempt(struct deliver *d, struct spool_item *lead, int64_t now)
{
	deliver_send(d, deliver_try_new(d, lead), now);
}

/*
 * The repeat number N of a repeat's id ALERT.SEQ.RECEIVER.rN and its
 * alert id, into alert_id; false for any other id.
 */
static bool
deliver_repeat_of(const char *id, const char *receiver, char *alert_id,
    size_t size, uint32_t *n)
{
	const char *p = strrchr(id, '.'), *q;
	size_t rlen = strlen(receiver), plen;
	unsigned long v;
	char *end;

	if (p == NULL || p[1] != 'r' || p[2] < '0' || p[2] > '9')
		return false;
	v = strtoul(p + 2, &end, 10);
	plen = (size_t)(p - id);
	if (*end != '\0' || v > UINT32_MAX || plen < rlen + 2 ||
	    id[plen - rlen - 1] != '.' ||
	    memcmp(id + plen - rlen, receiver, rlen) != 0)
		return false;
	plen -= rlen + 1;			/* ALERT.SEQ */
	for (q = id + plen; q > id && *q != '.'; q--)
		;
	if (q == id || (size_t)(q - id) >= size)
		return false;
	memcpy(alert_id, id, (size_t)(q - id));
	alert_id[q - id] = '\0';
	*n = (uint32_t)v;
	return true;
}

/*
 * HA mode: the claim found it done. Recorded as delivered, and a repeat
 * brings the ledger forward, so that ours follow the one sent.
 */
static void
deliver_by_peer(struct deliver *d, struct spool_item *it, const char *marker,
    int64_t now)
{
	char by[72], alert_id[128];
	int64_t at = ha_claim_done_at(marker);
	uint32_t n;

	ha_claim_holder(marker, by, sizeof by);
	log_info("deliver: %s delivered by %s", it->id, by);
	if (strcmp(by, ha_instance(d->ha)) != 0)
		metrics.ha_delivered_by_peer++;
	if (deliver_repeat_of(it->id, it->receiver, alert_id, sizeof alert_id,
	    &n) && ledger_sync(d->ledger, alert_id, it->receiver, n,
	    at > 0 ? at : now))
		deliver_save_ledger(d);
	deliver_recent_add(d, it, by, at > 0 ? at : now, "by_peer");
	spool_delivered(d->spool, it);
}

/* Keep the claims of a transfer in flight alive. */
static void
deliver_renewed_cb(void *arg, int result)
{
	if (result == 0)
		log_warnx("deliver: %s: the claim was lost during the "
		    "transfer; it goes on (the key stays the same)",
		    (const char *)arg);
	free(arg);
}

static void
deliver_renew_cb(evutil_socket_t fd, short events, void *arg)
{
	struct deliver_try *t = arg;
	char *id;
	int i;

	(void)fd;
	(void)events;
	for (i = 0; i < t->n; i++) {
		if (t->tokens[i] == 0)
			continue;
		id = xstrdup(t->items[i]->id);
		if (ha_claim_renew(t->d->claims, id, t->tokens[i],
		    deliver_renewed_cb, id) == -1)
			free(id);
	}
}

/*
 * Every member's claim is answered: send those won (and those Redis
 * kept silent on for ha.unclaimed_after), record those done, and let
 * the rest wait.
 */
static void
deliver_claimed(struct deliver_try *t)
{
	struct deliver *d = t->d;
	struct spool_item *it;
	struct timeval tv;
	int64_t now = deliver_now_ms(), at, every;
	enum ha_claim_action act;
	bool closing = ha_link(d->ha) == NULL, claimed = false;
	int i, kept = 0;

	for (i = 0; i < t->n; i++) {
		it = t->items[i];
		act = ha_claim_action(&t->claims[i].reply, now,
		    &it->claim_error_at, d->conf->ha_unclaimed_after_ms,
		    d->conf->ha_claim_ttl_ms, random() % 500, &at);
		if (closing && act == HA_CLAIM_SEND_UNCLAIMED)
			act = HA_CLAIM_WAIT;
		switch (act) {
		case HA_CLAIM_SEND:
			t->tokens[kept] = t->claims[i].reply.token;
			t->items[kept++] = it;
			claimed = true;
			break;
		case HA_CLAIM_SEND_UNCLAIMED:
			log_warnx("deliver: %s: redis has not answered for "
			    "%" PRId64 " s: sent without a claim", it->id,
			    (now - it->claim_error_at) / 1000);
			metrics.ha_unclaimed++;
			t->tokens[kept] = 0;
			t->items[kept++] = it;
			break;
		case HA_CLAIM_BY_PEER:
			deliver_by_peer(d, it, t->claims[i].reply.value, now);
			break;
		case HA_CLAIM_WAIT:
			spool_defer(d->spool, it, at);
			break;
		}
	}
	t->n = kept;
	free(t->claims);
	t->claims = NULL;
	d->inflight--;
	if (kept == 0)
		deliver_try_free(t);
	else {
		if (claimed) {
			every = d->conf->ha_claim_ttl_ms / 3;
			tv.tv_sec = (time_t)(every / 1000);
			tv.tv_usec = (suseconds_t)(every % 1000) * 1000;
			t->renew = event_new(d->base, -1, EV_PERSIST,
			    deliver_renew_cb, t);
			if (t->renew == NULL)
				fatalx("deliver: cannot make a timer");
			evtimer_add(t->renew, &tv);
		}
		deliver_send(d, t, now);
	}
}

static void
deliver_claim_cb(void *arg, const struct ha_claim_reply *r)
{
	struct deliver_claim *c = arg;
	struct deliver *d = c->t->d;
	struct stall_mark t0;

	stall_start(&t0);
	c->reply = *r;
	if (--c->t->pending == 0) {
		deliver_claimed(c->t);		/* frees c */
		deliver_schedule(d);
	}
	stall_step("a delivery claim", &t0);
}

/*
 * HA mode: claim lead and the rest of its group before any attempt.
 * The claims in flight count toward alerts.max_inflight.
 */
static void
deliver_claim(struct deliver *d, struct spool_item *lead)
{
	struct deliver_try *t = deliver_try_new(d, lead);
	int i;

	t->claims = xcalloc((size_t)t->n, sizeof *t->claims);
	d->inflight++;
	t->pending = t->n + 1;		/* none ends it before the last */
	for (i = 0; i < t->n; i++) {
		t->claims[i].t = t;
		t->claims[i].reply.result = HA_CLAIM_ERROR;
		if (ha_claim_take(d->claims, t->items[i]->id,
		    deliver_claim_cb, &t->claims[i]) == -1) {
			metrics.ha_claims[METRICS_CLAIM_ERROR]++;
			t->pending--;
		}
	}
	if (--t->pending == 0)
		deliver_claimed(t);
}

static void
deliver_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct deliver *d = arg;
	struct spool_item *it;
	int64_t now = deliver_now_ms();
	struct stall_mark t0;

	int n = 0;

	stall_start(&t0);
	(void)fd;
	(void)events;
	if (d->claims != NULL)
		deliver_mark_waiting(d);
	/* A batch a turn, within the limit; deliver_schedule goes on. */
	while (n < DELIVER_BATCH && d->inflight < d->conf->max_inflight &&
	    (it = spool_next_due(d->spool, now)) != NULL) {
		if (d->claims != NULL)
			deliver_claim(d, it);
		else
			deliver_attempt(d, it, now);
		n++;
	}
	deliver_schedule(d);
	stall_step("starting deliveries", &t0);
}

/* A batch of the outbox's removals and fsyncs on the syncer. */
struct deliver_sync {
	struct deliver		*d;
	struct spool_sync	*batch;
};

/* On the syncer's thread. */
static void
deliver_sync_run(void *arg)
{
	struct deliver_sync *ds = arg;

	spool_sync_run(ds->batch);
}

/* Back on the loop (or at the stop, not run): the next may go. */
static void
deliver_sync_done(void *arg, bool apply)
{
	struct deliver_sync *ds = arg;

	(void)apply;
	spool_sync_done(ds->d->spool, ds->batch);
	free(ds);
}

static void
deliver_synced_cb(void *arg)
{
	struct deliver *d = arg;

	d->syncing = false;
	deliver_schedule(d);
}

/*
 * Have what failures rewrote and deliveries removed synced, one batch at
 * a time off the loop, and drop what was kept long enough.
 */
static void
deliver_keep_cb(evutil_socket_t fd, short events, void *arg)
{
	struct deliver *d = arg;
	struct deliver_sync *ds;
	struct spool_sync *batch;
	struct stall_mark t0;
	int n;

	stall_start(&t0);
	(void)fd;
	(void)events;
	if (!d->syncing && (batch = spool_sync_take(d->spool,
	    DELIVER_SYNC_BATCH)) != NULL) {
		d->syncing = true;
		ds = xmalloc(sizeof *ds);
		ds->d = d;
		ds->batch = batch;
		worker_submit(d->syncer, deliver_sync_run, deliver_sync_done,
		    ds);
		worker_yield(d->syncer);
	}
	if ((n = spool_prune(d->spool, deliver_now_ms(),
	    DELIVER_PRUNE_BATCH)) > 0)
		log_notice("deliver: dropped %d expired notifications; %d kept "
		    "(alerts.expired_keep %d, alerts.expired_max_age %" PRId64
		    " s)", n, spool_expired(d->spool), d->conf->expired_keep,
		    d->conf->expired_max_age_ms / 1000);
	deliver_schedule(d);
	stall_step("outbox housekeeping", &t0);
}

/*
 * Put one notification of alert_id's state seq for target into the
 * outbox; a route with a group window holds it until the window ends.
 */
static int
deliver_queue(struct deliver *d, const char *id,
    const struct conf_receiver *r, const struct conf_route *rt,
    const char *body, int64_t now)
{
	const char *group = "";
	int64_t due = now;
	char *cause = NULL;

	if (rt != NULL && rt->group_wait_ms > 0) {
		group = rt->name;
		if ((due = spool_group_due(d->spool, r->name, group, now)) ==
		    -1)
			due = now + rt->group_wait_ms;
	}
	if (spool_put_at(d->spool, id, r->name, group, "application/json",
	    body, strlen(body), now, due, &cause) == -1) {
		log_errorx("deliver: %s: %s", id, cause);
		free(cause);
		return -1;
	}
	return 0;
}

static void
deliver_save_ledger(struct deliver *d)
{
	char *cause = NULL;

	if (ledger_save(d->ledger, &cause) == -1) {
		log_warnx("deliver: %s", cause);
		free(cause);
	}
}

/* Whether out[0..n-1] holds receiver r. */
static bool
deliver_has(const struct route_target *out, int n,
    const struct conf_receiver *r)
{
	int i;

	for (i = 0; i < n; i++) {
		if (out[i].receiver == r)
			return true;
	}
	return false;
}

/* The sink: route each alert state change into the outbox. */
static void
deliver_emit(void *arg, const struct alert *a)
{
	struct deliver *d = arg;
	struct route_target targets[CONF_MAX_RECEIVERS];
	const struct conf_receiver *r;
	const struct silence *sl;
	struct ledger_entry *e;
	char id[SPOOL_ID_MAX], *body;
	int64_t now = deliver_now_ms(), at = now;
	bool open = a->status == ALERT_FIRING &&
	    a->classification == ALERT_UNEXPLAINED;
	json_t *aj;
	int i, n = 0;

	if (a->historical) {
		log_info("deliver: %s is historical: recorded, not sent",
		    a->id);
		return;
	}
	/*
	 * HA mode: the state change's time is the stream's, so that every
	 * instance silences the same states; and one older than the done
	 * markers are kept was handled by the peers that were there.
	 */
	if (d->ha != NULL) {
		if (ha_claim_too_old(clock_now_ms(), now,
		    ha_claim_done_ttl(d->conf))) {
			log_info("deliver: %s (state %u) is older than its "
			    "done marker would be: recorded, not sent", a->id,
			    a->seq);
			return;
		}
		at = clock_now_ms();
	}
	if (d->silences != NULL && (sl = silence_match(d->silences, a,
	    at / 1000)) != NULL)
		log_info("deliver: %s (state %u, %s) silenced by %s: recorded, "
		    "not sent", a->id, a->seq, alert_status_name(a->status),
		    sl->id);
	else
		n = route_targets(d->conf, a, targets);
	/* Whoever heard it fire hears that it is over or explained. */
	if (!open && (e = ledger_find(d->ledger, a->id)) != NULL) {
		for (i = 0; i < e->ntold; i++) {
			r = route_receiver(d->conf, e->told[i].receiver);
			if (r != NULL && !deliver_has(targets, n, r) &&
			    n < CONF_MAX_RECEIVERS) {
				targets[n].receiver = r;
				targets[n++].route = NULL;
			}
		}
	}
	if (n == 0 && d->conf->nroutes > 0)
		log_info("deliver: %s (state %u) matches no receiver: "
		    "recorded, not sent", a->id, a->seq);

	aj = alert_json(a, d->conf->http_url);
	body = json_dumps(aj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	for (i = 0; i < n; i++) {
		r = targets[i].receiver;
		snprintf(id, sizeof id, "%s.%u.%s", a->id, a->seq, r->name);
		if (deliver_queue(d, id, r, targets[i].route, body, now) == 0 &&
		    open && ledger_told(d->ledger, a->id, aj, r->name, now,
		    false) == -1)
			log_warnx("deliver: %s: the ledger is full", a->id);
	}
	if (!open)
		ledger_forget(d->ledger, a->id);
	deliver_save_ledger(d);
	json_decref(aj);
	free(body);
	deliver_schedule(d);
}

/* Send again what still fires, unexplained, after its repeat interval. */
static void
deliver_repeat_cb(evutil_socket_t fd, short events, void *arg)
{
	struct deliver *d = arg;
	struct route_target targets[CONF_MAX_RECEIVERS];
	struct ledger_entry *e;
	struct ledger_told *w;
	struct alert a;
	char id[SPOOL_ID_MAX], *body;
	int64_t now = deliver_now_ms(), every;
	int i, j, k, n;

	(void)fd;
	(void)events;
	/* Most configurations repeat nothing: no need to look each second. */
	for (i = 0; i < d->conf->nroutes &&
	    d->conf->routes[i].repeat_interval_ms == 0; i++)
		;
	if (i == d->conf->nroutes)
		return;
	for (i = 0; i < ledger_count(d->ledger); i++) {
		e = ledger_at(d->ledger, i);
		if (alert_from_json(e->alert, &a) == -1 ||
		    (d->silences != NULL &&
		    silence_match(d->silences, &a, now / 1000) != NULL))
			continue;
		n = route_targets(d->conf, &a, targets);
		body = NULL;
		for (j = 0; j < e->ntold; j++) {
			w = &e->told[j];
			for (k = 0; k < n; k++) {
				if (strcmp(targets[k].receiver->name,
				    w->receiver) == 0)
					break;
			}
			if (k == n || targets[k].route == NULL ||
			    (every = targets[k].route->repeat_interval_ms) ==
			    0 || now - w->last_sent < every)
				continue;
			if (body == NULL)
				body = json_dumps(e->alert, JSON_COMPACT |
				    JSON_PRESERVE_ORDER);
			snprintf(id, sizeof id, "%s.%u.%s.r%u", a.id, a.seq,
			    w->receiver, w->repeats + 1);
			log_info("deliver: %s still fires: sending it to %s "
			    "again", a.id, w->receiver);
			if (deliver_queue(d, id, targets[k].receiver,
			    targets[k].route, body, now) == 0)
				(void)ledger_told(d->ledger, a.id, e->alert,
				    w->receiver, now, true);
		}
		free(body);
	}
	deliver_save_ledger(d);
	deliver_schedule(d);
}

static void
deliver_set_limits(struct deliver *d, const struct conf *c)
{
	if (spool_set_limits(d->spool, SPOOL_BASE_MS, c->retry_max_ms,
	    c->delivery_expiry_ms) == -1)
		log_warnx("deliver: retry_max or delivery_expiry out of order; "
		    "kept the old limits");
	if (spool_set_keep(d->spool, c->expired_keep,
	    c->expired_max_age_ms) == -1)
		log_warnx("deliver: expired_keep or expired_max_age out of "
		    "range; kept the old bounds");
}

struct deliver *
deliver_create(struct event_base *base, const struct conf *c,
    const char *state_dir, char **cause)
{
	struct deliver *d = xcalloc(1, sizeof *d);
	struct timeval every = { DELIVER_REPEAT_CHECK, 0 };
	char *path;

	d->base = base;
	d->conf = c;
	if (deliver_rx_load_all(c, d->rx, &d->nrx, cause) == -1) {
		free(d);
		return NULL;
	}
	path = xasprintf("%s/notified.json", state_dir);
	d->ledger = ledger_open(path, cause);
	free(path);
	if (d->ledger == NULL ||
	    (d->spool = spool_open(state_dir, cause)) == NULL) {
		ledger_free(d->ledger);
		deliver_rx_free(d->rx, d->nrx);
		free(d);
		return NULL;
	}
	if (gethostname(d->hostname, sizeof d->hostname) == -1 ||
	    d->hostname[0] == '\0')
		snprintf(d->hostname, sizeof d->hostname, "localhost");
	d->hostname[sizeof d->hostname - 1] = '\0';
	spool_set_seed(d->spool, (uint64_t)deliver_now_ms() ^
	    ((uint64_t)getpid() << 32));
	deliver_set_limits(d, c);
	d->http = http_client_create(base);
	if ((d->syncer = worker_create(base, deliver_synced_cb, d, cause)) ==
	    NULL) {
		http_client_free(d->http);
		spool_close(d->spool);
		ledger_free(d->ledger);
		deliver_rx_free(d->rx, d->nrx);
		free(d);
		return NULL;
	}
	d->timer = evtimer_new(base, deliver_timer_cb, d);
	d->keep_timer = evtimer_new(base, deliver_keep_cb, d);
	d->repeat_timer = event_new(base, -1, EV_PERSIST, deliver_repeat_cb,
	    d);
	if (d->timer == NULL || d->keep_timer == NULL ||
	    d->repeat_timer == NULL)
		fatalx("deliver: cannot make timers");
	evtimer_add(d->repeat_timer, &every);
	d->sink.name = "deliver";
	d->sink.arg = d;
	d->sink.emit = deliver_emit;
	/* Notifications left by the last run are due now. */
	event_active(d->timer, EV_TIMEOUT, 0);
	event_active(d->keep_timer, EV_TIMEOUT, 0);
	if (spool_count(d->spool) > 0)
		log_notice("deliver: %d notifications waiting in the outbox",
		    spool_pending(d->spool));
	return d;
}

void
deliver_free(struct deliver *d)
{
	if (d == NULL)
		return;
	http_client_free(d->http);
	worker_free(d->syncer);
	/* What the syncer did not get to: at the stop, in the caller. */
	while (spool_sync(d->spool, DELIVER_SYNC_BATCH) != 0)
		;
	event_free(d->timer);
	event_free(d->keep_timer);
	event_free(d->repeat_timer);
	spool_close(d->spool);
	ledger_free(d->ledger);
	deliver_rx_free(d->rx, d->nrx);
	ha_claim_free(d->claims);
	free(d->recent);
	free(d->unmarked);
	free(d);
}

const struct sink *
deliver_sink(struct deliver *d)
{
	return &d->sink;
}

int
deliver_set_conf(struct deliver *d, const struct conf *c, char **cause)
{
	struct deliver_rx fresh[CONF_MAX_RECEIVERS];
	int n;

	if (deliver_rx_load_all(c, fresh, &n, cause) == -1)
		return -1;
	deliver_rx_free(d->rx, d->nrx);
	memcpy(d->rx, fresh, sizeof fresh);
	d->nrx = n;
	d->conf = c;
	deliver_set_limits(d, c);
	deliver_schedule(d);	/* a new limit or bound applies now */
	return 0;
}

void
deliver_set_silences(struct deliver *d, const struct silence_registry *reg)
{
	d->silences = reg;
}

/* HA mode: the last settled notifications, newest first. */
static json_t *
deliver_recent_json(const struct deliver *d)
{
	const struct deliver_recent *r;
	json_t *list = json_array();
	char at[UTC_TIME_SIZE];
	int i;

	for (i = 1; i <= d->nrecent; i++) {
		r = &d->recent[(d->recent_next - i + DELIVER_RECENT) %
		    DELIVER_RECENT];
		(void)utc_format(r->at / 1000, at);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:s}", "id", r->id, "receiver", r->receiver, "by", r->by,
		    "at", at, "outcome", r->outcome));
	}
	return list;
}

json_t *
deliver_json(const struct deliver *d)
{
	json_t *list = json_array(), *o;
	struct spool_stats st;
	int i;

	for (i = 0; i < spool_count(d->spool); i++)
		json_array_append_new(list, spool_item_json(spool_at(d->spool,
		    i)));
	spool_get_stats(d->spool, &st);
	o = json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I}}", "deliveries",
	    list, "since_start", "queued", (json_int_t)st.queued, "delivered",
	    (json_int_t)st.delivered, "retried", (json_int_t)st.retried,
	    "expired", (json_int_t)st.expired, "dropped",
	    (json_int_t)st.dropped);
	if (d->recent != NULL)
		json_object_set_new(o, "recent", deliver_recent_json(d));
	return o;
}

void
deliver_set_ha(struct deliver *d, struct ha *ha)
{
	d->ha = ha;
	if (ha == NULL || d->claims != NULL)
		return;
	d->claims = ha_claim_create(ha);
	d->recent = xcalloc(DELIVER_RECENT, sizeof *d->recent);
	d->unmarked = xcalloc(DELIVER_UNMARKED_MAX, sizeof *d->unmarked);
}
