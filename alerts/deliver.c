/*
 * Alert delivery to webhook receivers through the durable outbox. A
 * notification is written to disk before its first attempt and removed
 * only after a 2xx; its id (alert id, state sequence, receiver) makes a
 * replay after a crash a no-op instead of a second message.
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

#include "alert.h"
#include "conf.h"
#include "deliver.h"
#include "http.h"
#include "log.h"
#include "silence.h"
#include "sink.h"
#include "spool.h"
#include "webhook.h"
#include "xmalloc.h"

#define DELIVER_CONNECT_MS	5000
#define DELIVER_TOTAL_MS	15000
#define DELIVER_SECRET_MAX	4096

struct deliver_secret {
	char	*name;			/* receiver */
	char	*value;			/* never logged */
	size_t	 len;
};

struct deliver {
	struct event_base	*base;
	const struct conf	*conf;
	struct spool		*spool;
	const struct silence_registry *silences;	/* borrowed or NULL */
	struct http_client	*http;
	struct event		*timer;
	struct sink		 sink;
	struct deliver_secret	 secrets[CONF_MAX_RECEIVERS];
	int			 nsecrets;
};

/* One attempt in flight. */
struct deliver_try {
	struct deliver		*d;
	struct spool_item	*item;
};

static int64_t
deliver_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
deliver_secrets_free(struct deliver_secret *s, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (s[i].value != NULL)
			explicit_bzero(s[i].value, s[i].len);
		free(s[i].value);
		free(s[i].name);
	}
}

/* The first line of a secret file; -1 with *cause (never the secret). */
static int
deliver_read_secret(const char *path, char **out, size_t *len, char **cause)
{
	char buf[DELIVER_SECRET_MAX];
	ssize_t n;
	size_t end;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*cause = xasprintf("deliver: %s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0) {
		*cause = xasprintf("deliver: %s: %s", path,
		    n == 0 ? "empty" : strerror(errno));
		return -1;
	}
	end = strcspn(buf, "\r\n");
	if ((size_t)n < end)
		end = (size_t)n;
	if (end == 0) {
		*cause = xasprintf("deliver: %s: the first line is empty",
		    path);
		explicit_bzero(buf, sizeof buf);
		return -1;
	}
	*out = xstrndup(buf, end);
	*len = end;
	explicit_bzero(buf, sizeof buf);
	return 0;
}

/* Read every webhook receiver's secret into s; all or nothing. */
static int
deliver_load_secrets(const struct conf *c, struct deliver_secret *s, int *n,
    char **cause)
{
	int i;

	*n = 0;
	for (i = 0; i < c->nreceivers; i++) {
		const struct conf_receiver *r = &c->receivers[i];

		if (strcmp(r->type, "webhook") != 0 || r->secret_file == NULL)
			continue;
		s[*n].name = xstrdup(r->name);
		if (deliver_read_secret(r->secret_file, &s[*n].value,
		    &s[*n].len, cause) == -1) {
			free(s[*n].name);
			deliver_secrets_free(s, *n);
			*n = 0;
			return -1;
		}
		(*n)++;
	}
	return 0;
}

static const struct conf_receiver *
deliver_receiver(const struct deliver *d, const char *name)
{
	int i;

	for (i = 0; i < d->conf->nreceivers; i++) {
		if (strcmp(d->conf->receivers[i].name, name) == 0)
			return &d->conf->receivers[i];
	}
	return NULL;
}

static const struct deliver_secret *
deliver_secret(const struct deliver *d, const char *name)
{
	int i;

	for (i = 0; i < d->nsecrets; i++) {
		if (strcmp(d->secrets[i].name, name) == 0)
			return &d->secrets[i];
	}
	return NULL;
}

/* Arm the one timer for the earliest waiting notification. */
static void
deliver_schedule(struct deliver *d)
{
	int64_t next = spool_next_time(d->spool), wait;
	struct timeval tv;

	if (next < 0)
		return;
	wait = next - deliver_now_ms();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(d->timer, &tv);
}

static void
deliver_done_cb(void *arg, long status, const char *error)
{
	struct deliver_try *t = arg;
	struct deliver *d = t->d;
	struct spool_item *it = t->item;
	char why[256];

	free(t);
	if (error == NULL) {
		log_info("deliver: %s delivered to %s (HTTP %ld)", it->id,
		    it->receiver, status);
		spool_delivered(d->spool, it);
	} else {
		snprintf(why, sizeof why, "%s", error);
		log_warnx("deliver: %s to %s failed (attempt %u): %s", it->id,
		    it->receiver, it->attempts + 1, why);
		spool_failed(d->spool, it, why, deliver_now_ms());
	}
	deliver_schedule(d);
}

/* Start one attempt; false when it could not start (and was failed). */
static void
deliver_attempt(struct deliver *d, struct spool_item *it, int64_t now)
{
	const struct conf_receiver *r = deliver_receiver(d, it->receiver);
	const struct deliver_secret *sec;
	struct deliver_try *t;
	char **headers = NULL;

	if (r == NULL || strcmp(r->type, "webhook") != 0) {
		spool_failed(d->spool, it, "receiver no longer configured",
		    now);
		return;
	}
	sec = deliver_secret(d, r->name);
	if (webhook_headers(&headers, it->id, sec != NULL ? sec->value : NULL,
	    sec != NULL ? sec->len : 0, now / 1000, it->payload, it->len,
	    NULL) == -1) {
		spool_failed(d->spool, it, "cannot build the request", now);
		return;
	}
	t = xmalloc(sizeof *t);
	t->d = d;
	t->item = it;
	if (http_post(d->http, r->url, (const char *const *)headers,
	    it->payload, it->len, DELIVER_CONNECT_MS, DELIVER_TOTAL_MS,
	    deliver_done_cb, t) == -1) {
		free(t);
		spool_failed(d->spool, it, "cannot start the request", now);
	}
	webhook_headers_free(headers);
}

static void
deliver_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct deliver *d = arg;
	struct spool_item *it;
	int64_t now = deliver_now_ms();

	(void)fd;
	(void)events;
	while ((it = spool_next_due(d->spool, now)) != NULL)
		deliver_attempt(d, it, now);
	deliver_schedule(d);
}

/* The sink: one notification per webhook receiver and alert change. */
static void
deliver_emit(void *arg, const struct alert *a)
{
	struct deliver *d = arg;
	const struct silence *sl;
	char id[SPOOL_ID_MAX], *body, *base, *cause = NULL;
	int i, queued = 0;

	if (a->historical) {
		log_info("deliver: %s is historical: recorded, not sent",
		    a->id);
		return;
	}
	if (d->silences != NULL && (sl = silence_match(d->silences, a,
	    (int64_t)time(NULL))) != NULL) {
		log_info("deliver: %s (state %u, %s) silenced by %s: recorded, "
		    "not sent", a->id, a->seq, alert_status_name(a->status),
		    sl->id);
		return;
	}
	base = xasprintf("http://%s:%d", d->conf->http_bind,
	    d->conf->http_port);
	body = alert_to_json(a, base);
	free(base);
	for (i = 0; i < d->conf->nreceivers; i++) {
		const struct conf_receiver *r = &d->conf->receivers[i];

		if (strcmp(r->type, "webhook") != 0)
			continue;
		snprintf(id, sizeof id, "%.70s.%u.%.16s", a->id, a->seq,
		    r->name);
		if (spool_put(d->spool, id, r->name, "application/json", body,
		    strlen(body), deliver_now_ms(), &cause) == -1) {
			log_errorx("deliver: %s: %s", id, cause);
			free(cause);
			cause = NULL;
			continue;
		}
		queued++;
	}
	free(body);
	if (queued > 0)
		event_active(d->timer, EV_TIMEOUT, 0);
}

struct deliver *
deliver_create(struct event_base *base, const struct conf *c,
    const char *state_dir, char **cause)
{
	struct deliver *d = xcalloc(1, sizeof *d);

	d->base = base;
	d->conf = c;
	if (deliver_load_secrets(c, d->secrets, &d->nsecrets, cause) == -1) {
		free(d);
		return NULL;
	}
	if ((d->spool = spool_open(state_dir, cause)) == NULL) {
		deliver_secrets_free(d->secrets, d->nsecrets);
		free(d);
		return NULL;
	}
	spool_set_seed(d->spool, (uint64_t)deliver_now_ms() ^
	    ((uint64_t)getpid() << 32));
	spool_set_limits(d->spool, SPOOL_BASE_MS, SPOOL_CAP_MS,
	    SPOOL_EXPIRY_MS);
	d->http = http_client_create(base);
	d->timer = evtimer_new(base, deliver_timer_cb, d);
	d->sink.name = "deliver";
	d->sink.arg = d;
	d->sink.emit = deliver_emit;
	/* Notifications left by the last run are due now. */
	event_active(d->timer, EV_TIMEOUT, 0);
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
	event_free(d->timer);
	spool_close(d->spool);
	deliver_secrets_free(d->secrets, d->nsecrets);
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
	struct deliver_secret fresh[CONF_MAX_RECEIVERS];
	int n;

	if (deliver_load_secrets(c, fresh, &n, cause) == -1)
		return -1;
	deliver_secrets_free(d->secrets, d->nsecrets);
	memcpy(d->secrets, fresh, sizeof fresh);
	d->nsecrets = n;
	d->conf = c;
	return 0;
}

void
deliver_set_silences(struct deliver *d, const struct silence_registry *reg)
{
	d->silences = reg;
}

json_t *
deliver_json(const struct deliver *d)
{
	json_t *list = json_array();
	struct spool_stats st;
	int i;

	for (i = 0; i < spool_count(d->spool); i++)
		json_array_append_new(list, spool_item_json(spool_at(d->spool,
		    i)));
	spool_get_stats(d->spool, &st);
	return json_pack("{s:o, s:{s:I, s:I, s:I, s:I}}", "deliveries", list,
	    "since_start", "queued", (json_int_t)st.queued, "delivered",
	    (json_int_t)st.delivered, "retried", (json_int_t)st.retried,
	    "expired", (json_int_t)st.expired);
}
