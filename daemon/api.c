/*
 * The supervision HTTP API (contract §4) on evhttp. One dispatcher matches
 * each request against a route table, checks the token's role and the query
 * parameters, and calls a small handler that only reads ingest and stream.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "alert.h"
#include "answer.h"
#include "api.h"
#include "auth.h"
#include "conf.h"
#include "decision.h"
#include "detector.h"
#include "explain.h"
#include "ha_registry.h"
#include "indicator.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "period.h"
#include "series.h"
#include "silence.h"
#include "stall.h"
#include "stream.h"
#include "ui.h"
#include "utc.h"
#include "utf8.h"
#include "xmalloc.h"

#define API_MAX_HEADERS		8192	/* bytes of request headers */
#define API_MAX_SEGMENTS	8	/* path segments of the longest route */
#define API_MAX_PARAMS		10	/* query parameters one route accepts */
#define API_LIMIT_DEFAULT	1000	/* GET /v1/series page size */
#define API_LIMIT_MAX		10000
#define API_OFFSET_MAX		INT32_MAX
/* The answer cache: a few hundred of the largest answers (about 24 KB). */
#define API_ANSWERS_MAX		(8 * 1024 * 1024)

#define API_JSON_TYPE		"application/json; charset=utf-8"
#define API_METRICS_TYPE	"text/plain; version=0.0.4"
#define API_TEXT_TYPE		"text/plain; charset=utf-8"
/* The dashboard's pages load nothing from elsewhere and run no inline code. */
#define API_UI_CSP	"default-src 'none'; script-src 'self'; " \
	"style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
/* Compact, keys in insertion order, rates without float noise. */
#define API_JSON_FLAGS	\
	(JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

/*
 * Methods that reach the dispatcher, which answers 405 with Allow for those
 * a route does not take. Unknown ones and CONNECT (a proxy's method) get
 * evhttp's own 501.
 */
#define API_METHODS	\
	(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | \
	EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | \
	EVHTTP_REQ_PATCH)
/*
 * evhttp reads a body up to http.max_body plus this, so that the dispatcher
 * can refuse it with a JSON 413; beyond, evhttp drains the rest (lingering
 * close) and answers 413 itself. It is also the memory a request may hold.
 */
#define API_BODY_SLACK		(1024 * 1024)

struct api {
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	const struct conf		*conf;	/* borrowed, api_set_conf */
	const struct auth		*auth;	/* borrowed, may be NULL */
	const struct ingest		*in;	/* borrowed */
	const struct stream		*st;	/* borrowed, may be NULL */
	api_checkpoint_cb		 checkpoint_cb;
	void				*checkpoint_arg;
	struct api_waiting		*waiting;	/* POST /v1/checkpoint */
	size_t				 nwaiting;
	size_t				 waitingsize;
	struct api_write		*writes;	/* HA: to the registry */
	uint64_t			 ticket;	/* the last one given */
	struct explain_registry		*explain;	/* borrowed or NULL */
	const char *const		*benefits;	/* borrowed */
	int				 nbenefits;
	char				*explain_path;	/* NULL: not saved */
	api_explain_changed_cb		 explain_changed_cb;
	void				*explain_arg;
	struct monitor			*mon;	/* borrowed or NULL */
	void				(*mon_changed_cb)(void *);
	void				*mon_arg;
	json_t				*(*deliveries_fn)(void *);
	void				*deliveries_arg;
	json_t				*(*ha_fn)(void *);	/* NULL: HA off */
	void				*ha_arg;
	struct ha_registry		*ha_registry;	/* NULL: HA off */
	struct silence_registry		*silences;	/* borrowed or NULL */
	char				*silences_path;	/* NULL: not saved */
	struct ui			*ui;	/* the dashboard's files */
	struct answer_cache		*answers;
};

/* A POST /v1/checkpoint waiting for the checkpoint that covers it. */
struct api_waiting {
	struct evhttp_request	*req;
	uint64_t		 ticket;
};

/*
 * HA: a write sent to the shared registry, answered once this instance
 * has applied it (api_write_done_cb).
 */
struct api_write {
	struct api		*api;		/* NULL: the API is freed */
	struct evhttp_request	*req;		/* NULL: the client left */
	const char		*what;		/* "explanations", ... */
	struct api_write	*next;
};

/* One request on its way through the dispatcher and its handler. */
struct api_call {
	struct api		*api;
	struct evhttp_request	*req;
	char			*seg[API_MAX_SEGMENTS];	/* decoded path */
	int			 nseg;
	const char		*arg[API_MAX_SEGMENTS];	/* the {} segments */
	int			 narg;
	struct evkeyvalq	 query;
};

/* A route's handler: it must answer call->req exactly once. */
typedef void (*api_handler_cb)(struct api_call *call);

struct api_route {
	int		 methods;	/* EVHTTP_REQ_*; GET implies HEAD */
	const char	*pattern;	/* "/v1/series/{}/{}/{}" */
	enum auth_role	 role;		/* AUTH_READ is waived by auth = off */
	const char	*params[API_MAX_PARAMS]; /* query names, NULL ends */
	api_handler_cb	 handler;
};

/*
 * The request whose answer is being built to be kept (a cache miss), the
 * key, and the generation and second it is built at. One at a time: a
 * handler runs to its end on the loop.
 */
static struct {
	struct evhttp_request	*req;
	struct answer_cache	*cache;
	struct buf		 key;
	uint64_t		 gen;
	int64_t			 now;
} api_keeping;

/* The rolling windows shown beside each series. */
static const struct {
	const char	*name;
	int		 weeks;
} api_windows[] = {
	{ "4w", 4 },
	{ "13w", 13 },
	{ "52w", 52 },
};

static const char *
api_reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

/* The short machine-readable code of an error body. */
static const char *
api_error_code(int code)
{
	switch (code) {
	case 400:
		return "bad_request";
	case 401:
		return "unauthorized";
	case 403:
		return "forbidden";
	case 404:
		return "not_found";
	case 405:
		return "method_not_allowed";
	case 409:
		return "conflict";
	case 413:
		return "too_large";
	case 415:
		return "unsupported_media_type";
	case 503:
		return "unavailable";
	default:
		return "internal";
	}
}

static const char *
api_method_name(enum evhttp_cmd_type method)
{
	switch (method) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	default:
		return "?";
	}
}

/* The client's address for log lines. */
static const char *
api_peer(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *peer = NULL;
	ev_uint16_t port = 0;

	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &peer, &port);
	return peer != NULL ? peer : "-";
}

/*
 * Send one response with our common headers, and count it. A NULL type
 * sends no Content-Type (204).
 */
static void
api_send(struct evhttp_request *req, int code, const char *type,
    const void *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	char clen[32];
	int class = code / 100;

	if (type != NULL)
		evhttp_add_header(h, "Content-Type", type);
	/* API answers are live state; the dashboard's files say otherwise. */
	if (evhttp_find_header(h, "Cache-Control") == NULL)
		evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (len > 0)
		evbuffer_add(out, body, len);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/*
		 * evhttp 2.1 leaves out Content-Length for HEAD but still
		 * writes the body, which the client would read as the start
		 * of the next response: give the length, drop the body.
		 */
		snprintf(clen, sizeof clen, "%zu", evbuffer_get_length(out));
		evhttp_add_header(h, "Content-Length", clen);
		evbuffer_drain(out, evbuffer_get_length(out));
	}

	metrics.http_requests[class >= 1 && class <= 5 ? class : 0]++;
	if (log_get_level() >= LOG_DEBUG) {
		log_debug("http: %s %s %.200s %d", api_peer(req),
		    api_method_name(evhttp_request_get_command(req)),
		    evhttp_request_get_uri(req), code);
	}
	evhttp_send_reply(req, code, api_reason(code), NULL);
}

/*
 * jansson's dump callback: append to a plain buffer. jansson calls it for
 * every token, and an evbuffer_add for each cost more than the rest of
 * building a 20 KB answer; the buffer goes to the evbuffer in one piece.
 */
static int
api_json_write_cb(const char *buffer, size_t size, void *data)
{
	buf_put(data, buffer, size);
	return 0;
}

/*
 * Send body (a reference this takes) as JSON. A NULL body means building
 * it failed somewhere, which is answered with 500.
 */
static void
api_reply(struct evhttp_request *req, int code, json_t *body)
{
	static const char internal[] = "{\"error\":\"internal\","
	    "\"message\":\"cannot build the response\"}\n";
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	struct buf b;

	buf_init(&b);
	if (body == NULL ||
	    json_dump_callback(body, api_json_write_cb, &b,
	    API_JSON_FLAGS) == -1) {
		log_warnx("http: cannot build the response to %.200s",
		    evhttp_request_get_uri(req));
		api_send(req, 500, API_JSON_TYPE, internal,
		    sizeof internal - 1);
	} else {
		buf_put(&b, "\n", 1);
		/* Kept only if every "now" it read was the same second. */
		if (req == api_keeping.req && code == 200 &&
		    (int64_t)time(NULL) == api_keeping.now)
			answer_put(api_keeping.cache, api_keeping.key.data,
			    api_keeping.key.len, api_keeping.gen,
			    api_keeping.now, code, API_JSON_TYPE, b.data,
			    b.len);
		if (evbuffer_add(out, b.data, b.len) == -1)
			api_send(req, 500, API_JSON_TYPE, internal,
			    sizeof internal - 1);
		else
			api_send(req, code, API_JSON_TYPE, NULL, 0);
	}
	buf_free(&b);
	json_decref(body);
}

/*
 * Replace each byte that is not part of valid UTF-8 with '?', so that a
 * message quoting a client's text (or cut inside a character by %.64s)
 * can always go into JSON.
 */
static void
api_utf8_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t len = strlen(s), i, n;

	for (i = 0; i < len; i += n) {
		if ((n = utf8_len(p + i, len - i)) == 0) {
			p[i] = '?';
			n = 1;
		}
	}
}

/* Answer with {"error": code, "message": text}. */
static void __attribute__((format(printf, 3, 4)))
api_error(struct evhttp_request *req, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	api_utf8_clean(msg);
	api_reply(req, code, json_pack("{s:s, s:s}", "error",
	    api_error_code(code), "message", msg));
	free(msg);
}

/* JSON helpers: null stands for "unknown" or "none". */
static json_t *
api_json_count(int64_t v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *
api_json_real(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
api_json_ratio(double num, uint32_t n)
{
	return n == 0 ? json_null() : api_json_real(num / n);
}

/* Unix time as RFC 3339 in UTC, null for INT64_MIN. */
static json_t *
api_json_time(int64_t t)
{
	char s[UTC_TIME_SIZE];

	if (t == INT64_MIN || utc_format(t, s) == -1)
		return json_null();
	return json_string(s);
}

static json_t *
api_json_week(int32_t week)
{
	char s[PERIOD_LABEL_MAX];

	if (week == INT32_MIN)
		return json_null();
	period_week_label(week, s);
	return json_string(s);
}

/* A stream position, null when nothing has been read ("0-0"). */
static json_t *
api_json_stream_id(const struct stream_id *id)
{
	char s[STREAM_ID_MAX];

	if (id->ms == 0 && id->seq == 0)
		return json_null();
	stream_id_format(id, s);
	return json_string(s);
}

/*
 * The counts of one bucket (a period or a sum of them). Without a
 * prediction expected and variance stay 0 (a real p in (0,1) always adds
 * variance), so expected_rate is null then rather than a false 0.
 */
static json_t *
api_json_bucket(const struct bucket *b, bool variance)
{
	bool predicted = b->expected != 0 || b->variance != 0;
	uint32_t granted = 0;
	json_t *o;

	if (b->rejected + b->partial <= b->n)
		granted = b->n - b->rejected - b->partial;
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
	    "decisions", (json_int_t)b->n,
	    "rejected", (json_int_t)b->rejected,
	    "partial", (json_int_t)b->partial,
	    "dismissed", (json_int_t)b->dismissed,
	    "granted", (json_int_t)granted,
	    "rejection_rate", api_json_ratio(b->rejected, b->n),
	    "expected", api_json_real(b->expected));
	if (o == NULL)
		return NULL;
	if ((variance && json_object_set_new(o, "variance",
	    api_json_real(b->variance)) == -1) ||
	    json_object_set_new(o, "expected_rate", predicted ?
	    api_json_ratio(b->expected, b->n) : json_null()) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Configured name of a benefit index; NULL if a reload dropped it. */
static const char *
api_benefit_name(const struct api *api, int benefit)
{
	if (benefit < 0 || benefit >= api->conf->nbenefits)
		return NULL;
	return api->conf->benefits[benefit];
}

/* Office index by name without creating it; false when unknown. */
static bool
api_office_find(const struct series_set *set, const char *name, int *office)
{
	*office = series_office_lookup(set, name);
	return *office != SERIES_UNKNOWN;
}

/* The value of query parameter name, NULL when absent. */
static const char *
api_query(struct api_call *call, const char *name)
{
	return evhttp_find_header(&call->query, name);
}

/* The configured indicators, rejection first. */
static const struct indicators *
api_indicators(const struct api *api)
{
	return ingest_indicators(api->in);
}

static const char *
api_indicator_name(const struct api *api, int ind)
{
	const struct indicators *t = api_indicators(api);

	if (ind < 0 || ind >= t->n)
		return NULL;
	return t->ind[ind].name;
}

/*
 * An indicator's name v: *ind its index, or -1 for "all" where all is
 * allowed. 0, or -1 after answering 400 with the names that are valid.
 */
static int
api_indicator_check(struct api_call *call, const char *v, bool all, int *ind)
{
	const struct indicators *t = api_indicators(call->api);
	char names[INDICATOR_MAX * (INDICATOR_NAME_MAX + 2) + 8];
	size_t len = 0;
	int i;

	if (all && strcmp(v, "all") == 0) {
		*ind = -1;
		return 0;
	}
	if ((*ind = indicators_find(t, v)) != -1)
		return 0;
	names[0] = '\0';
	for (i = 0; i < t->n; i++)
		len += (size_t)snprintf(names + len, sizeof names - len,
		    "%s%s", i > 0 ? ", " : "", t->ind[i].name);
	if (all)
		snprintf(names + len, sizeof names - len, ", all");
	api_error(call->req, 400, "unknown indicator '%.64s' (%s)", v, names);
	return -1;
}

/* The indicator parameter, dflt when absent (-1: all); as above. */
static int
api_parse_indicator(struct api_call *call, int dflt, bool all, int *ind)
{
	const char *v = api_query(call, "indicator");

	*ind = dflt;
	if (v == NULL)
		return 0;
	return api_indicator_check(call, v, all, ind);
}

/*
 * Mark what belongs to another indicator than rejection; rejection's
 * answers stay as they were before indicators.
 */
static void
api_json_mark_indicator(const struct api *api, json_t *o, int ind)
{
	const char *name = api_indicator_name(api, ind);

	if (o != NULL && ind != INDICATOR_REJECTION && name != NULL)
		json_object_set_new(o, "indicator", json_string(name));
}

/* The indicator an alert or model (as JSON) is of: absent is rejection. */
static const char *
api_json_indicator_of(const json_t *o)
{
	const char *v = json_string_value(json_object_get(o, "indicator"));

	return v != NULL ? v : INDICATOR_REJECTION_NAME;
}

/*
 * Rolling sums over the last 4, 13 and 52 weeks. They end at the last
 * closed week, so that they hold complete weeks only and every series is
 * compared over the same weeks; before any week has closed, they end at
 * the series' own last week.
 */
static json_t *
api_json_rolling(const struct api *api, const struct series *s)
{
	struct bucket b;
	json_t *o = json_object();
	int32_t end = ingest_closed_week(api->in);
	size_t i;

	if (end == INT32_MIN)
		end = series_last_week(s);
	for (i = 0; i < sizeof api_windows / sizeof api_windows[0]; i++) {
		if (end == INT32_MIN)
			memset(&b, 0, sizeof b);
		else
			series_sum_weeks(s, end, api_windows[i].weeks, &b);
		if (json_object_set_new(o, api_windows[i].name,
		    api_json_bucket(&b, false)) == -1) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Everything the series still holds, summed. */
static json_t *
api_json_total(const struct series *s)
{
	struct bucket b;

	series_total(s, &b);
	return api_json_bucket(&b, false);
}

/* One item of GET /v1/series. */
static json_t *
api_json_series_item(const struct api *api, const struct series *s)
{
	const struct series_set *set = ingest_series(api->in);

	json_t *o;

	o = json_pack("{s:s?, s:s?, s:s?, s:s?, s:o, s:o, s:o}",
	    "office", series_office_name(set, series_office(s)),
	    "benefit", api_benefit_name(api, series_benefit(s)),
	    "kind", decision_kind_name(series_kind(s)),
	    "state", detector_state_of(ingest_detector(api->in), s),
	    "last_week", api_json_week(series_last_week(s)),
	    "total", api_json_total(s),
	    "rolling", api_json_rolling(api, s));
	api_json_mark_indicator(api, o, series_indicator(s));
	if (o != NULL && api->mon != NULL)
		json_object_set_new(o, "detector",
		    monitor_series_json(api->mon, s));
	return o;
}

/* A non-negative decimal integer up to max; 0 or -1. */
static int
api_parse_uint(const char *s, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

/* Benefit and kind by name; 0, or -1 after answering 400. */
static int
api_parse_benefit_kind(struct api_call *call, const char *benefit,
    const char *kind, int *bi, int *ki)
{
	*bi = *ki = -1;
	if (benefit != NULL) {
		*bi = conf_benefit_index(call->api->conf, benefit,
		    strlen(benefit));
		if (*bi == -1) {
			api_error(call->req, 400, "unknown benefit '%.64s'",
			    benefit);
			return -1;
		}
	}
	if (kind != NULL) {
		*ki = decision_kind_parse(kind);
		if (*ki == -1) {
			api_error(call->req, 400, "unknown kind '%.64s' "
			    "(first or ongoing)", kind);
			return -1;
		}
	}
	return 0;
}

/* GET /healthz: the loop answers, nothing more. */
static void
api_healthz(struct api_call *call)
{
	api_reply(call->req, 200, json_pack("{s:s}", "status", "ok"));
}

/*
 * GET /v1/whoami: the role the request's token carries, so that the
 * dashboard shows write forms only to a write token and asks for a token
 * before it shows a refusal. Never the token itself.
 */
static void
api_whoami(struct api_call *call)
{
	const struct api *api = call->api;
	const char *header;
	enum auth_role known, have;

	header = evhttp_find_header(evhttp_request_get_input_headers(
	    call->req), "Authorization");
	known = api->auth != NULL ? auth_role_of(api->auth, header) :
	    AUTH_NONE;
	/* auth = off waives the read role, never the write role. */
	have = known == AUTH_NONE && !api->conf->auth ? AUTH_READ : known;
	api_reply(call->req, 200, json_pack("{s:s, s:b, s:b, s:b}",
	    "role", auth_role_name(have),
	    "token_given", header != NULL,
	    "token_known", known != AUTH_NONE,
	    "read_needs_token", api->conf->auth));
}

/*
 * The client went away while its checkpoint was written: evhttp frees the
 * request with the connection, so forget it.
 */
static void
api_checkpoint_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct api *api = arg;
	size_t i = 0;

	struct api_write *w;

	while (i < api->nwaiting) {
		if (evhttp_request_get_connection(api->waiting[i].req) ==
		    evcon) {
			api->waiting[i] = api->waiting[--api->nwaiting];
			continue;
		}
		i++;
	}
	for (w = api->writes; w != NULL; w = w->next) {
		if (w->req != NULL && evhttp_request_get_connection(w->req) ==
		    evcon)
			w->req = NULL;
	}
}

/* The shared registry answered a write (ha_registry.h). */
static void
api_write_done_cb(void *arg, int status, json_t *body, const char *err,
    bool applied)
{
	struct api_write *w = arg, **p;
	struct evhttp_connection *conn;
	struct evkeyvalq *hdr;
	const char *id;
	char *location;

	if (w->api != NULL) {
		for (p = &w->api->writes; *p != NULL; p = &(*p)->next) {
			if (*p == w) {
				*p = w->next;
				break;
			}
		}
	}
	if (w->api == NULL || w->req == NULL) {
		json_decref(body);
		free(w);
		return;
	}
	if ((conn = evhttp_request_get_connection(w->req)) != NULL)
		evhttp_connection_set_closecb(conn, NULL, NULL);
	hdr = evhttp_request_get_output_headers(w->req);
	evhttp_add_header(hdr, "X-Stabild-Applied", applied ? "yes" : "no");
	if (status >= 400)
		api_error(w->req, status, "%s", err != NULL ? err : "failed");
	else if (status == 204) {
		json_decref(body);
		api_send(w->req, 204, NULL, NULL, 0);
	} else {
		if (status == 201 && (id = json_string_value(json_object_get(
		    body, "id"))) != NULL) {
			location = xasprintf("/v1/%s/%s", w->what, id);
			evhttp_add_header(hdr, "Location", location);
			free(location);
		}
		api_reply(w->req, status, body);
	}
	free(w);
}

/* HA: a write to the shared registry for call; what names the URL. */
static struct api_write *
api_write_new(struct api_call *call, const char *what)
{
	struct api *api = call->api;
	struct api_write *w = xcalloc(1, sizeof *w);

	w->api = api;
	w->req = call->req;
	w->what = what;
	return w;
}

/* rc of an ha_registry_* call made with w: keep w, or answer 503. */
static void
api_write_sent(struct api_call *call, struct api_write *w, int rc)
{
	struct evhttp_connection *conn;

	if (rc == -1) {
		free(w);
		api_error(call->req, 503, "the shared registry is "
		    "unreachable");
		return;
	}
	w->next = call->api->writes;
	call->api->writes = w;
	if ((conn = evhttp_request_get_connection(call->req)) != NULL)
		evhttp_connection_set_closecb(conn, api_checkpoint_closed_cb,
		    call->api);
}

/*
 * POST /v1/checkpoint: save now, e.g. before maintenance. The answer
 * comes when a checkpoint that covers everything counted before the
 * request has been written (api_checkpoint_done); meanwhile the loop, and
 * so the API, goes on.
 */
static void
api_checkpoint(struct api_call *call)
{
	struct api *api = call->api;
	struct evhttp_connection *conn;
	struct api_waiting *w;

	if (api->checkpoint_cb == NULL) {
		api_error(call->req, 500, "checkpoints are not available");
		return;
	}
	if (api->nwaiting == api->waitingsize) {
		api->waitingsize = api->waitingsize == 0 ? 8 :
		    api->waitingsize * 2;
		api->waiting = xreallocarray(api->waiting, api->waitingsize,
		    sizeof *api->waiting);
	}
	w = &api->waiting[api->nwaiting++];
	w->req = call->req;
	w->ticket = ++api->ticket;
	/* A request made in process (no socket) has no connection to watch. */
	if ((conn = evhttp_request_get_connection(call->req)) != NULL)
		evhttp_connection_set_closecb(conn, api_checkpoint_closed_cb,
		    api);
	api->checkpoint_cb(api->checkpoint_arg, w->ticket);
}

void
api_checkpoint_done(struct api *api, uint64_t upto, const char *cause)
{
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	char id[STREAM_ID_MAX];
	size_t i = 0;

	stream_id_format(ingest_checkpointed(api->in), id);
	while (i < api->nwaiting) {
		if (api->waiting[i].ticket > upto) {
			i++;
			continue;
		}
		req = api->waiting[i].req;
		api->waiting[i] = api->waiting[--api->nwaiting];
		if ((conn = evhttp_request_get_connection(req)) != NULL)
			evhttp_connection_set_closecb(conn, NULL, NULL);
		if (cause != NULL)
			api_error(req, 500, "checkpoint failed: %s", cause);
		else
			api_reply(req, 200, json_pack("{s:s, s:I}",
			    "checkpointed", id, "counted",
			    (json_int_t)ingest_counters(api->in)->counted));
	}
}

/* GET /metrics */
static void
api_metrics(struct api_call *call)
{
	struct buf b;

	buf_init(&b);
	metrics_render(&b, call->api->in, call->api->st, call->api->mon);
	api_send(call->req, 200, API_METRICS_TYPE, b.data, b.len);
	buf_free(&b);
}

/* The "stream" object of /v1/status: consumer state and positions. */
static json_t *
api_json_stream(const struct api *api)
{
	const struct conf *c = api->conf;
	const struct stream *st = api->st;
	int64_t down = st != NULL ? stream_down_since(st) : 0;
	int64_t retry = st != NULL ? stream_retry_at_ms(st) : 0;
	json_t *o;

	o = json_pack("{s:s?, s:s?, s:s?, s:s?, s:o, s:o, s:o, s:o, s:o, "
	    "s:o}",
	    "state", st != NULL ? stream_state_name(stream_state(st)) : NULL,
	    "key", c->stream,
	    "group", c->group,
	    "consumer", c->consumer,
	    "lag", api_json_count(st != NULL ? stream_lag(st) : -1),
	    "pending", api_json_count(st != NULL ? stream_pending(st) : -1),
	    "length", api_json_count(st != NULL ? stream_length(st) : -1),
	    "unacked", st != NULL ?
	    json_integer((json_int_t)stream_unacked(st)) : json_null(),
	    "last_applied", api_json_stream_id(ingest_applied(api->in)),
	    "checkpointed", api_json_stream_id(ingest_checkpointed(api->in)));
	/* Staleness: since when the data stopped, and what is being done. */
	json_object_set_new(o, "connected",
	    json_boolean(st != NULL && stream_link_up(st)));
	json_object_set_new(o, "down_since",
	    down != 0 ? api_json_time(down) : json_null());
	json_object_set_new(o, "down_s", down != 0 ?
	    json_integer((json_int_t)((int64_t)time(NULL) - down)) :
	    json_null());
	json_object_set_new(o, "last_error", st != NULL &&
	    stream_last_error(st) != NULL ?
	    json_string(stream_last_error(st)) : json_null());
	json_object_set_new(o, "retry_at",
	    retry != 0 ? api_json_time(retry / 1000) : json_null());
	json_object_set_new(o, "last_entry_at", metrics.last_entry_at != 0 ?
	    api_json_time(metrics.last_entry_at) : json_null());
	return o;
}

/*
 * The reader of stream key among st and its siblings, or NULL. Its
 * own figure of a summing function (stream_lag...): the readers sum from
 * the one asked on, so the next one's sum is taken off.
 */
static const struct stream *
api_stream_reader(const struct stream *st, const char *key)
{
	for (; st != NULL; st = stream_sibling(st)) {
		if (strcmp(stream_key(st), key) == 0)
			return st;
	}
	return NULL;
}

static json_t *
api_json_stream_own(const struct stream *r,
    int64_t (*fn)(const struct stream *))
{
	const struct stream *next = r != NULL ? stream_sibling(r) : NULL;
	int64_t v, rest = 0;

	if (r == NULL || (v = fn(r)) < 0)
		return json_null();
	if (next != NULL && (rest = fn(next)) < 0)
		return json_null();
	return json_integer((json_int_t)(v - rest));
}

/*
 * The "streams" list of /v1/status: each stream read (redis.stream and
 * the indicators' own), with ingest's positions in it and its lag.
 */
static json_t *
api_json_streams(const struct api *api)
{
	const struct stream *r;
	json_t *a = json_array();
	const char *key;
	int k;

	for (k = 0; k < ingest_streams(api->in); k++) {
		key = ingest_stream_key(api->in, k);
		r = api->st != NULL ? api_stream_reader(api->st, key) : NULL;
		json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:o, s:o}",
		    "key", key,
		    "last_applied", api_json_stream_id(ingest_applied_of(
		    api->in, k)),
		    "checkpointed", api_json_stream_id(ingest_checkpointed_of(
		    api->in, k)),
		    "lag", api_json_stream_own(r, stream_lag),
		    "pending", api_json_stream_own(r, stream_pending)));
	}
	return a;
}

/* The "events" object of /v1/status: checkpointed ingest counters. */
static json_t *
api_json_events(const struct ingest *in)
{
	const struct ingest_counters *ic = ingest_counters(in);
	json_t *o, *by = json_object();
	int e;

	for (e = 0; e < DECISION_NEVENTS; e++)
		json_object_set_new(by, decision_event_name(e),
		    json_integer((json_int_t)ic->by_event[e]));
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "counted", (json_int_t)ic->counted,
	    "deadlettered", (json_int_t)ic->invalid,
	    "duplicates", (json_int_t)ic->duplicates,
	    "late", (json_int_t)ic->late,
	    "granted", (json_int_t)ic->by_outcome[OUTCOME_GRANTED],
	    "rejected", (json_int_t)ic->by_outcome[OUTCOME_REJECTED],
	    "partial", (json_int_t)ic->by_outcome[OUTCOME_PARTIAL],
	    "dismissed", (json_int_t)ic->by_outcome[OUTCOME_DISMISSED]);
	/* Valid events by kind: they split counted above, every kind's. */
	if (o != NULL)
		json_object_set_new(o, "by_event", by);
	else
		json_decref(by);
	return o;
}

/*
 * The "backpressure" object of /v1/status: null while entries are read,
 * else what cannot be written, why, and since when.
 */
static json_t *
api_json_backpressure(const struct ingest *in)
{
	enum ingest_pressure p;
	const char *why;
	int64_t since, now = (int64_t)time(NULL);

	if ((p = ingest_pressure(in, &why, &since)) == INGEST_FLOWING)
		return json_null();
	return json_pack("{s:s, s:s?, s:o, s:I}",
	    "blocked", ingest_pressure_name(p),
	    "reason", why,
	    "since", api_json_time(since),
	    "seconds", (json_int_t)(now > since ? now - since : 0));
}

/* GET /v1/status */
static void
api_status(struct api_call *call)
{
	const struct api *api = call->api;
	const struct ingest *in = api->in;
	const struct series_set *set = ingest_series(in);
	int64_t uptime = (int64_t)time(NULL) - metrics.started_at;
	json_t *o;

	/* Alerts arrive with the alerting work; until then none can fire. */
	o = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, "
	    "s:o, s:o, s:i, s:i, s:i, s:i, s:I, s:f, s:f, s:s, s:b}",
	    "version", STABILD_VERSION,
	    "uptime_s", (json_int_t)(uptime > 0 ? uptime : 0),
	    "stream", api_json_stream(api),
	    "backpressure", api_json_backpressure(in),
	    "events", api_json_events(in),
	    "watermark", api_json_time(ingest_watermark(in)),
	    "latest_decided_at", api_json_time(ingest_max_seen(in)),
	    "closed_through", api_json_week(ingest_closed_week(in)),
	    "series", series_count(set),
	    "offices", series_office_count(set),
	    "firing_alerts", api->mon != NULL ? monitor_firing(api->mon) : 0,
	    "firing_unexplained", api->mon != NULL ?
	    monitor_firing_unexplained(api->mon) : 0,
	    "memory_bytes", (json_int_t)ingest_memory(in),
	    "loop_stall_max_s", (double)stall_max_ns() / 1e9,
	    "loop_step_max_s", (double)stall_step_max_ns() / 1e9,
	    "loop_step_max", stall_step_max_what(),
	    "detector_busy", ingest_busy(in));
	/* Members added with indicators come last. */
	if (o != NULL) {
		json_object_set_new(o, "streams", api_json_streams(api));
		json_object_set_new(o, "detector_memory_bytes", api->mon !=
		    NULL ? json_integer((json_int_t)monitor_memory(api->mon)) :
		    json_null());
		/* Only with HA on: a single instance answers as before. */
		if (api->ha_fn != NULL)
			json_object_set_new(o, "ha", api->ha_fn(api->ha_arg));
	}
	api_reply(call->req, 200, o);
}

/* Whether a write insists on a name not (yet) seen: force=true. */
static bool
api_forced(struct api_call *call)
{
	const char *force = api_query(call, "force");

	return force != NULL && strcmp(force, "true") == 0;
}

/*
 * A filter or a write naming an office that was never seen would answer
 * as if all were well (no series, no alerts, a silence that never
 * matches): say so instead, with the likely name when only the case
 * differs. A write may insist with force=true (an office not yet heard
 * from). 0, or -1 with the answer sent.
 */
static int
api_known_office(struct api_call *call, const char *name, bool write)
{
	const struct series_set *set = ingest_series(call->api->in);
	int i, n = series_office_count(set);

	if (series_office_lookup(set, name) != SERIES_UNKNOWN)
		return 0;
	if (write && api_forced(call))
		return 0;
	for (i = 0; i < n; i++) {
		if (strcasecmp(series_office_name(set, i), name) == 0) {
			api_error(call->req, write ? 409 : 404,
			    "no office \"%s\": office names are "
			    "case-sensitive; did you mean \"%s\"?", name,
			    series_office_name(set, i));
			return -1;
		}
	}
	if (write)
		api_error(call->req, 409, "office \"%s\" has never been seen "
		    "(%d offices are known); give force=true to name it "
		    "anyway", name, n);
	else
		api_error(call->req, 404, "no office \"%s\" has been seen "
		    "(%d offices are known)", name, n);
	return -1;
}

/*
 * GET /v1/series?office=&benefit=&kind=&state=&limit=&offset=&indicator=
 * (rejection's series unless indicator says another, or all)
 */
static void
api_series_list(struct api_call *call)
{
	const struct api *api = call->api;
	const struct series_set *set = ingest_series(api->in);
	const struct detector *det = ingest_detector(api->in);
	const struct series *s;
	const char *office = api_query(call, "office");
	const char *state = api_query(call, "state");
	const char *v, *name;
	int64_t limit = API_LIMIT_DEFAULT, offset = 0, total = 0;
	int benefit, kind, ind;
	json_t *items;

	if (api_parse_benefit_kind(call, api_query(call, "benefit"),
	    api_query(call, "kind"), &benefit, &kind) == -1 ||
	    api_parse_indicator(call, INDICATOR_REJECTION, true, &ind) == -1)
		return;
	if (office != NULL && api_known_office(call, office, false) == -1)
		return;
	if ((v = api_query(call, "limit")) != NULL &&
	    api_parse_uint(v, API_LIMIT_MAX, &limit) == -1) {
		api_error(call->req, 400, "limit: expected 0 to %d",
		    API_LIMIT_MAX);
		return;
	}
	if ((v = api_query(call, "offset")) != NULL &&
	    api_parse_uint(v, API_OFFSET_MAX, &offset) == -1) {
		api_error(call->req, 400, "offset: expected 0 to %d",
		    API_OFFSET_MAX);
		return;
	}

	items = json_array();
	for (s = series_first(set); s != NULL; s = series_next(set, s)) {
		if (ind != -1 && series_indicator(s) != ind)
			continue;
		if (benefit != -1 && series_benefit(s) != benefit)
			continue;
		if (kind != -1 && series_kind(s) != kind)
			continue;
		if (office != NULL) {
			name = series_office_name(set, series_office(s));
			if (name == NULL || strcmp(name, office) != 0)
				continue;
		}
		if (state != NULL &&
		    strcmp(detector_state_of(det, s), state) != 0)
			continue;
		if (total >= offset && total - offset < limit) {
			if (json_array_append_new(items,
			    api_json_series_item(api, s)) == -1) {
				json_decref(items);
				api_reply(call->req, 500, NULL);
				return;
			}
		}
		total++;
	}
	api_reply(call->req, 200, json_pack("{s:o, s:I}", "series", items,
	    "total", (json_int_t)total));
}

/*
 * The history of a series, oldest first, one item per period with data in
 * [from, to]. A period is closed once the watermark has passed its end:
 * for weeks that is ingest's closed week, for months the watermark itself.
 */
static json_t *
api_json_history(const struct api *api, const struct series *s, bool months,
    int32_t from, int32_t to)
{
	const struct bucket *b;
	json_t *a = json_array(), *o;
	int64_t p, watermark = ingest_watermark(api->in);
	int32_t closed_week = ingest_closed_week(api->in);
	char label[PERIOD_LABEL_MAX];
	bool closed;

	for (p = from; a != NULL && p <= to; p++) {
		if (months) {
			if ((b = series_month(s, (int32_t)p)) == NULL)
				continue;
			period_month_label((int32_t)p, label);
			closed = watermark != INT64_MIN &&
			    watermark >= period_month_start((int32_t)p + 1);
		} else {
			if ((b = series_week(s, (int32_t)p)) == NULL)
				continue;
			period_week_label((int32_t)p, label);
			closed = closed_week != INT32_MIN && p <= closed_week;
		}
		o = json_pack("{s:s, s:o, s:b}", "period", label,
		    "start", api_json_time(months ?
		    period_month_start((int32_t)p) :
		    period_week_start((int32_t)p)),
		    "closed", closed);
		/* The _new calls take their argument even when they fail. */
		if (o != NULL && json_object_update_new(o,
		    api_json_bucket(b, true)) == -1) {
			json_decref(o);
			o = NULL;
		}
		if (o == NULL || json_array_append_new(a, o) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* from or to of GET /v1/series/...; 0, or -1 after answering 400. */
static int
api_parse_period(struct api_call *call, const char *name, bool months,
    int32_t *p)
{
	const char *v = api_query(call, name);

	if (v == NULL)
		return 0;
	if (months ? period_parse_month(v, p) : period_parse_week(v, p)) {
		api_error(call->req, 400, "%s: expected a %s like %s", name,
		    months ? "month" : "week", months ? "2023-04" : "2023-W14");
		return -1;
	}
	return 0;
}

/* GET /v1/series/{office}/{benefit}/{kind}?from=&to=&period=week|month */
static void
api_series_one(struct api_call *call)
{
	const struct api *api = call->api;
	const struct series_set *set = ingest_series(api->in);
	const struct series *s = NULL;
	const char *period = api_query(call, "period");
	int32_t first, last, from, to;
	int office, benefit, kind, ind;
	bool months;
	json_t *body;

	if (api_parse_benefit_kind(call, call->arg[1], call->arg[2], &benefit,
	    &kind) == -1 ||
	    api_parse_indicator(call, INDICATOR_REJECTION, false, &ind) == -1)
		return;
	if (period != NULL && strcmp(period, "week") != 0 &&
	    strcmp(period, "month") != 0) {
		api_error(call->req, 400, "period: expected week or month");
		return;
	}
	months = period != NULL && strcmp(period, "month") == 0;

	if (api_office_find(set, call->arg[0], &office))
		s = series_get_in(set, ind, office, benefit, kind);
	if (s == NULL) {
		api_error(call->req, 404, "no series %.64s/%s/%s",
		    call->arg[0], call->arg[1], call->arg[2]);
		return;
	}

	from = INT32_MIN;
	to = INT32_MAX;
	if (api_parse_period(call, "from", months, &from) == -1 ||
	    api_parse_period(call, "to", months, &to) == -1)
		return;
	if (from > to) {
		api_error(call->req, 400, "from is after to");
		return;
	}
	/* Nothing lies outside what the rings hold: clip the walk to it. */
	first = months ? series_first_month(s) : series_first_week(s);
	last = months ? series_last_month(s) : series_last_week(s);
	if (from < first)
		from = first;
	if (to > last)
		to = last;

	body = json_pack("{s:s?, s:s?, s:s?, s:s?, s:o, "
	    "s:s, s:o, s:o, s:o}",
	    "office", series_office_name(set, series_office(s)),
	    "benefit", api_benefit_name(api, series_benefit(s)),
	    "kind", decision_kind_name(series_kind(s)),
	    "state", detector_state_of(ingest_detector(api->in), s),
	    "last_week", api_json_week(series_last_week(s)),
	    "period", months ? "month" : "week",
	    "history", first == INT32_MIN ? json_array() :
	    api_json_history(api, s, months, from, to),
	    "rolling", api_json_rolling(api, s),
	    "total", api_json_total(s));
	api_json_mark_indicator(api, body, ind);
	if (body != NULL && api->mon != NULL)
		json_object_set_new(body, "detector",
		    monitor_series_json(api->mon, s));
	api_reply(call->req, 200, body);
}

/* The weeks parameter, 1 to MONITOR_WEEKS_MAX; 0, or -1 after a 400. */
static int
api_parse_weeks(struct api_call *call, int *weeks)
{
	const char *v = api_query(call, "weeks");
	int64_t n;

	if (v == NULL)
		return 0;
	if (api_parse_uint(v, MONITOR_WEEKS_MAX, &n) == -1 || n < 1) {
		api_error(call->req, 400, "weeks: expected 1 to %d",
		    MONITOR_WEEKS_MAX);
		return -1;
	}
	*weeks = (int)n;
	return 0;
}

/* GET /v1/series/{office}/{benefit}/{kind}/control?weeks= */
static void
api_series_control(struct api_call *call)
{
	const struct api *api = call->api;
	const struct series_set *set = ingest_series(api->in);
	const struct series *s = NULL;
	int office, benefit, kind, ind, weeks = MONITOR_WEEKS_MAX;
	json_t *body;

	if (api_parse_benefit_kind(call, call->arg[1], call->arg[2], &benefit,
	    &kind) == -1 || api_parse_weeks(call, &weeks) == -1 ||
	    api_parse_indicator(call, INDICATOR_REJECTION, false, &ind) == -1)
		return;
	if (api_office_find(set, call->arg[0], &office))
		s = series_get_in(set, ind, office, benefit, kind);
	if (s == NULL) {
		api_error(call->req, 404, "no series %.64s/%s/%s",
		    call->arg[0], call->arg[1], call->arg[2]);
		return;
	}
	if (api->mon == NULL) {
		api_error(call->req, 503, "no detector");
		return;
	}
	body = monitor_control_json(api->mon, s, weeks);
	if (body != NULL && json_object_update_new(body, json_pack("{s:s?, "
	    "s:s?, s:s?}",
	    "office", series_office_name(set, series_office(s)),
	    "benefit", api_benefit_name(api, series_benefit(s)),
	    "kind", decision_kind_name(series_kind(s)))) == -1) {
		json_decref(body);
		body = NULL;
	}
	api_json_mark_indicator(api, body, ind);
	api_reply(call->req, 200, body);
}

/* GET /v1/funnel/{benefit}/{kind}?weeks=: offices against the nation. */
static void
api_funnel(struct api_call *call)
{
	const struct api *api = call->api;
	int benefit, kind, ind, weeks = 13;
	json_t *body;

	if (api_parse_benefit_kind(call, call->arg[0], call->arg[1], &benefit,
	    &kind) == -1 || api_parse_weeks(call, &weeks) == -1 ||
	    api_parse_indicator(call, INDICATOR_REJECTION, false, &ind) == -1)
		return;
	if (api->mon == NULL) {
		api_error(call->req, 503, "no detector");
		return;
	}
	body = monitor_funnel_json_in(api->mon, ingest_series(api->in), ind,
	    benefit, kind, weeks);
	if (body == NULL && ind != INDICATOR_REJECTION) {
		api_error(call->req, 503, "the detector does not watch "
		    "indicator '%s'", api_indicator_name(api, ind));
		return;
	}
	if (body != NULL && json_object_update_new(body, json_pack("{s:s, "
	    "s:s, s:i}", "benefit", call->arg[0], "kind", call->arg[1],
	    "weeks", weeks)) == -1) {
		json_decref(body);
		body = NULL;
	}
	api_json_mark_indicator(api, body, ind);
	api_reply(call->req, 200, body);
}

static bool api_alert_of_group(json_t *, const char *, const char *,
    const char *);

/* The names of the values in mask: outcomes, or the event's detail. */
static json_t *
api_json_values(const struct indicator *ind, unsigned mask, bool detail)
{
	json_t *a = json_array();
	int v;

	for (v = 0; v < 16; v++) {
		if ((mask & (1u << v)) == 0)
			continue;
		json_array_append_new(a, json_string(detail ?
		    decision_detail_name(ind->event, v) :
		    decision_outcome_name_in(ind->event, v)));
	}
	return a;
}

/*
 * One national series of an indicator for GET /v1/indicators: its state,
 * its last 13 closed weeks and its firing alert, if any (from firing, the
 * monitor's firing national alerts).
 */
static json_t *
api_json_national(const struct api *api, int ind, int benefit, int kind,
    json_t *firing)
{
	const struct series *s = series_get_in(ingest_series(api->in), ind,
	    SERIES_NATIONAL, benefit, kind);
	const char *name = api_indicator_name(api, ind);
	const char *bname = api_benefit_name(api, benefit);
	const char *kname = decision_kind_name(kind);
	const char *alert = NULL;
	int32_t end = ingest_closed_week(api->in);
	struct bucket b;
	json_t *a;
	size_t i;

	memset(&b, 0, sizeof b);
	if (s != NULL && end == INT32_MIN)
		end = series_last_week(s);
	if (s != NULL && end != INT32_MIN)
		series_sum_weeks(s, end, 13, &b);
	json_array_foreach(firing, i, a) {
		if (alert == NULL && api_alert_of_group(a, name, bname, kname))
			alert = json_string_value(json_object_get(a,
			    "alert_id"));
	}
	return json_pack("{s:s?, s:s, s:s?, s:o, s:o, s:I, s:s?}",
	    "benefit", bname,
	    "kind", kname,
	    "state", s != NULL ? detector_state_of(ingest_detector(api->in),
	    s) : NULL,
	    "rate_13w", api_json_ratio(b.rejected, b.n),
	    "expected_13w", b.expected != 0 || b.variance != 0 ?
	    api_json_ratio(b.expected, b.n) : json_null(),
	    "n_13w", (json_int_t)b.n,
	    "alert", alert);
}

/* One item of GET /v1/indicators. */
static json_t *
api_json_indicator(const struct api *api, int i, json_t *firing)
{
	const struct indicators *t = api_indicators(api);
	const struct indicator *ind = &t->ind[i];
	bool detail = ind->field == INDICATOR_FIELD_DETAIL;
	const char *key = decision_detail_key(ind->event);
	json_t *o, *filter = json_object(), *national = json_array();
	int benefit, kind;

	if (ind->details != 0 && key != NULL)
		json_object_set_new(filter, key, api_json_values(ind,
		    ind->details, true));
	for (benefit = 0; benefit < api->conf->nbenefits; benefit++)
		for (kind = 0; kind < DECISION_NKINDS; kind++)
			json_array_append_new(national, api_json_national(api,
			    i, benefit, kind, firing));
	o = json_pack("{s:s, s:b, s:s, s:s?, s:o, s:o, s:o, s:s, s:s?, s:b, "
	    "s:f, s:f, s:f, s:s, s:i, s:i, s:i, s:o}",
	    "name", ind->name,
	    "builtin", i == INDICATOR_REJECTION,
	    "event", decision_event_name(ind->event),
	    "field", detail ? key : "outcome",
	    "yes", api_json_values(ind, ind->yes, detail),
	    "no", api_json_values(ind, ind->no, detail),
	    "filter", filter,
	    "label", ind->label,
	    "description", ind->description[0] != '\0' ? ind->description :
	    NULL,
	    "alerts", ind->alerts,
	    "budget_weight", ind->budget_weight,
	    "design_or_office", ind->design_or_office,
	    "design_or_national", ind->design_or_national,
	    "stream", t->streams[ind->stream],
	    "series", series_count_in(ingest_series(api->in), i),
	    "firing", api->mon != NULL ? monitor_firing_in(api->mon, i,
	    false) : 0,
	    "firing_unexplained", api->mon != NULL ?
	    monitor_firing_in(api->mon, i, true) : 0,
	    "national", national);
	return o;
}

/*
 * GET /v1/indicators: what each configured indicator counts, how it is
 * watched, and its national state, for the dashboard's selector and strip.
 */
static void
api_indicators_list(struct api_call *call)
{
	const struct indicators *t = api_indicators(call->api);
	json_t *list = json_array(), *firing;
	int i;

	firing = call->api->mon != NULL ? monitor_alerts_json(call->api->mon,
	    "firing", NULL, "national", NULL, NULL) : json_array();
	for (i = 0; i < t->n; i++)
		json_array_append_new(list, api_json_indicator(call->api, i,
		    firing));
	json_decref(firing);
	api_reply(call->req, 200, json_pack("{s:o}", "indicators", list));
}

/* GET / and /ui: the dashboard is under /ui/. */
static void
api_ui_redirect(struct api_call *call)
{
	static const char text[] = "The dashboard is at /ui/\n";

	evhttp_add_header(evhttp_request_get_output_headers(call->req),
	    "Location", "/ui/");
	api_send(call->req, 302, API_TEXT_TYPE, text, sizeof text - 1);
}

/* Whether an If-None-Match header names etag (or is "*"). */
static bool
api_etag_matches(const char *header, const char *etag)
{
	while (*header == ' ' || *header == '\t')
		header++;
	return strcmp(header, "*") == 0 || strstr(header, etag) != NULL;
}

/*
 * GET /ui/ and /ui/{file}: the dashboard, public like /healthz; what it
 * shows comes from the API with the user's token. Revalidated by ETag.
 */
static void
api_ui_file(struct api_call *call)
{
	struct evhttp_request *req = call->req;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct ui_file f;
	const char *inm;

	if (ui_find(call->api->ui, call->narg > 0 ? call->arg[0] : "",
	    call->api->conf->chartjs_dir, &f) == -1) {
		api_error(req, 404, "no such file");
		return;
	}
	evhttp_add_header(h, "ETag", f.etag);
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "Content-Security-Policy", API_UI_CSP);
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	inm = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "If-None-Match");
	if (inm != NULL && api_etag_matches(inm, f.etag)) {
		api_send(req, 304, NULL, NULL, 0);
		return;
	}
	api_send(req, 200, f.type, f.data, f.len);
}

static void api_monitor_changed(struct api *api);

/* GET /v1/deliveries: the outbox, what waits and what expired. */
static void
api_deliveries(struct api_call *call)
{
	if (call->api->deliveries_fn == NULL) {
		api_error(call->req, 503, "no alert delivery");
		return;
	}
	api_reply(call->req, 200,
	    call->api->deliveries_fn(call->api->deliveries_arg));
}

/*
 * What a reader of an alert needs beside its figures, which are frozen at
 * detection: "silenced_by", the id of the active silence that holds its
 * notifications back (the first that matches, else null), and
 * "series_now", the series' last 13 closed weeks as they are now.
 */
static void
api_alert_annotate(const struct api *api, json_t *o, int64_t now)
{
	const struct series_set *set = ingest_series(api->in);
	const struct silence *sl = NULL;
	const struct series *s = NULL;
	struct alert a;
	struct bucket b;
	int32_t end = ingest_closed_week(api->in);
	int office, benefit, kind, ind;
	json_t *cur;

	if (alert_from_json(o, &a) == -1) {
		json_object_set_new(o, "silenced_by", json_null());
		json_object_set_new(o, "series_now", json_null());
		return;
	}
	if (api->silences != NULL)
		sl = silence_match(api->silences, &a, now);
	json_object_set_new(o, "silenced_by",
	    sl != NULL ? json_string(sl->id) : json_null());
	benefit = conf_benefit_index(api->conf, a.benefit, strlen(a.benefit));
	kind = decision_kind_parse(a.kind);
	ind = indicators_find(api_indicators(api), alert_indicator(&a));
	if (benefit != -1 && kind != -1 && ind != -1 && end != INT32_MIN &&
	    api_office_find(set, a.office, &office))
		s = series_get_in(set, ind, office, benefit, kind);
	if (s == NULL) {
		json_object_set_new(o, "series_now", json_null());
		return;
	}
	series_sum_weeks(s, end, 13, &b);
	cur = api_json_bucket(&b, false);
	json_object_set_new(cur, "weeks", json_integer(13));
	json_object_set_new(cur, "through", api_json_week(end));
	json_object_set_new(o, "series_now", cur);
}

/*
 * Whether an alert (as JSON) is of the indicator (NULL: any), benefit and
 * kind asked for; the monitor filters the rest, these only narrow its
 * answer.
 */
static bool
api_alert_of_group(json_t *o, const char *indicator, const char *benefit,
    const char *kind)
{
	json_t *s = json_object_get(o, "series");
	const char *b = json_string_value(json_object_get(s, "benefit"));
	const char *k = json_string_value(json_object_get(s, "kind"));

	if (indicator != NULL &&
	    strcmp(api_json_indicator_of(o), indicator) != 0)
		return false;
	return (benefit == NULL || (b != NULL && strcmp(b, benefit) == 0)) &&
	    (kind == NULL || (k != NULL && strcmp(k, kind) == 0));
}

/*
 * GET /v1/alerts?status=&classification=&scope=&direction=&office=
 * &benefit=&kind=&indicator= (all indicators unless it says one)
 */
static void
api_alerts_list(struct api_call *call)
{
	static const struct {
		const char	*name;
		const char	*values[3];
	} filters[] = {
		{ "status", { "firing", "resolved", NULL } },
		{ "classification", { "explained", "unexplained", NULL } },
		{ "scope", { "office", "national", NULL } },
		{ "direction", { "up", "down", NULL } },
	};
	const char *v, *benefit = api_query(call, "benefit");
	const char *kind = api_query(call, "kind");
	json_t *list;
	int64_t now = (int64_t)time(NULL);
	size_t i, j;
	int bi, ki, ind;

	for (i = 0; i < sizeof filters / sizeof filters[0]; i++) {
		if ((v = api_query(call, filters[i].name)) == NULL)
			continue;
		for (j = 0; filters[i].values[j] != NULL; j++) {
			if (strcmp(v, filters[i].values[j]) == 0)
				break;
		}
		if (filters[i].values[j] == NULL) {
			api_error(call->req, 400, "%s: expected %s or %s",
			    filters[i].name, filters[i].values[0],
			    filters[i].values[1]);
			return;
		}
	}
	if (api_parse_benefit_kind(call, benefit, kind, &bi, &ki) == -1 ||
	    api_parse_indicator(call, -1, true, &ind) == -1)
		return;
	if ((v = api_query(call, "office")) != NULL &&
	    api_known_office(call, v, false) == -1)
		return;
	if (call->api->mon == NULL) {
		api_reply(call->req, 200, json_pack("{s:[], s:i}", "alerts",
		    "total", 0));
		return;
	}
	list = monitor_alerts_json(call->api->mon, api_query(call, "status"),
	    api_query(call, "classification"), api_query(call, "scope"),
	    api_query(call, "direction"), api_query(call, "office"));
	for (i = json_array_size(list); i-- > 0;) {
		if (!api_alert_of_group(json_array_get(list, i),
		    api_indicator_name(call->api, ind), benefit, kind))
			json_array_remove(list, i);
	}
	for (i = 0; i < json_array_size(list); i++)
		api_alert_annotate(call->api, json_array_get(list, i), now);
	api_reply(call->req, 200, json_pack("{s:i, s:o}", "total",
	    (int)json_array_size(list), "alerts", list));
}

/* GET /v1/alerts/{id} */
static void
api_alerts_one(struct api_call *call)
{
	json_t *a = call->api->mon != NULL ?
	    monitor_alert_json(call->api->mon, call->arg[0]) : NULL;

	if (a == NULL) {
		api_error(call->req, 404, "no alert %.128s", call->arg[0]);
		return;
	}
	api_alert_annotate(call->api, a, (int64_t)time(NULL));
	api_reply(call->req, 200, a);
}

/*
 * GET /v1/model?indicator=: the case-mix models, their windows and fits;
 * of every indicator unless it says one.
 */
static void
api_models(struct api_call *call)
{
	const char *name;
	json_t *list;
	size_t i;
	int ind;

	if (api_parse_indicator(call, -1, true, &ind) == -1)
		return;
	if (call->api->mon == NULL) {
		api_error(call->req, 503, "no detector");
		return;
	}
	list = monitor_models_json(call->api->mon);
	if ((name = api_indicator_name(call->api, ind)) != NULL) {
		for (i = json_array_size(list); i-- > 0;) {
			if (strcmp(api_json_indicator_of(json_array_get(list,
			    i)), name) != 0)
				json_array_remove(list, i);
		}
	}
	api_reply(call->req, 200, json_pack("{s:o}", "models", list));
}

/* POST /v1/model/{benefit}/{kind}/refit: refit at the next week close. */
static void
api_model_refit(struct api_call *call)
{
	int benefit, kind, ind;
	char *cause = NULL;
	json_t *body;

	if (api_parse_benefit_kind(call, call->arg[0], call->arg[1], &benefit,
	    &kind) == -1 ||
	    api_parse_indicator(call, INDICATOR_REJECTION, false, &ind) == -1)
		return;
	/* HA: through the control log, checked again where it applies. */
	if (call->api->ha_registry != NULL) {
		struct api_write *w = api_write_new(call, "model");

		api_write_sent(call, w, ha_registry_refit(
		    call->api->ha_registry, api_indicator_name(call->api, ind),
		    call->arg[0], call->arg[1], api_write_done_cb, w));
		return;
	}
	if (call->api->mon == NULL || monitor_request_refit_in(call->api->mon,
	    ind, benefit, kind, &cause) == -1) {
		api_error(call->req, 409, "cannot refit: %s",
		    cause != NULL ? cause : "no detector");
		free(cause);
		return;
	}
	log_notice("http: refit of %s%s%s/%s requested by %s",
	    ind != INDICATOR_REJECTION ? api_indicator_name(call->api, ind) :
	    "", ind != INDICATOR_REJECTION ? " " : "", call->arg[0],
	    call->arg[1], api_peer(call->req));
	api_monitor_changed(call->api);
	body = json_pack("{s:s, s:s, s:s}", "benefit",
	    call->arg[0], "kind", call->arg[1], "refit", "at the next week "
	    "close");
	api_json_mark_indicator(call->api, body, ind);
	api_reply(call->req, 202, body);
}

/* POST /v1/series/{office}/{benefit}/{kind}/rebaseline: accept a level. */
static void
api_series_rebaseline(struct api_call *call)
{
	const struct series_set *set = ingest_series(call->api->in);
	const struct series *s = NULL;
	int office, benefit, kind, ind;
	char *cause = NULL;

	if (api_parse_benefit_kind(call, call->arg[1], call->arg[2], &benefit,
	    &kind) == -1 ||
	    api_parse_indicator(call, INDICATOR_REJECTION, false, &ind) == -1)
		return;
	if (api_office_find(set, call->arg[0], &office))
		s = series_get_in(set, ind, office, benefit, kind);
	if (s == NULL) {
		api_error(call->req, 404, "no series %.64s/%s/%s",
		    call->arg[0], call->arg[1], call->arg[2]);
		return;
	}
	/* HA: through the control log, checked again where it applies. */
	if (call->api->ha_registry != NULL) {
		struct api_write *w = api_write_new(call, "series");

		api_write_sent(call, w, ha_registry_rebaseline(
		    call->api->ha_registry, api_indicator_name(call->api, ind),
		    call->arg[0], call->arg[1], call->arg[2],
		    "new level accepted through the API", api_write_done_cb,
		    w));
		return;
	}
	if (call->api->mon == NULL || monitor_rebaseline(call->api->mon, s,
	    "new level accepted through the API", &cause) == -1) {
		api_error(call->req, 409, "cannot rebaseline: %s",
		    cause != NULL ? cause : "no detector");
		free(cause);
		return;
	}
	log_notice("http: %s%s%s/%s/%s rebaselined by %s",
	    ind != INDICATOR_REJECTION ? api_indicator_name(call->api, ind) :
	    "", ind != INDICATOR_REJECTION ? " " : "", call->arg[0],
	    call->arg[1], call->arg[2], api_peer(call->req));
	api_monitor_changed(call->api);
	api_reply(call->req, 200, monitor_series_json(call->api->mon, s));
}

/*
 * Client text for a message: printable ASCII only, others become '?', so
 * that the JSON error body can always be built. buf holds 65 bytes.
 */
static const char *
api_printable(const char *s, char *buf)
{
	size_t i;

	for (i = 0; i < 64 && s[i] != '\0'; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/* The registry, or NULL after answering 503. */
static struct explain_registry *
api_explain(struct api_call *call)
{
	if (call->api->explain == NULL)
		api_error(call->req, 503, "the explanation registry is not "
		    "available");
	return call->api->explain;
}

/* Tell the owner that the registry changed. */
static void
api_explain_changed(const struct api *api)
{
	if (api->explain_changed_cb != NULL)
		api->explain_changed_cb(api->explain_arg);
}

/* GET /v1/explanations: all, by effective_from, then id. */
static void
api_explanations_list(struct api_call *call)
{
	const struct explain_registry *reg;
	json_t *items;
	int i;

	if ((reg = api_explain(call)) == NULL)
		return;
	items = json_array();
	for (i = 0; items != NULL && i < explain_count(reg); i++) {
		if (json_array_append_new(items, explain_to_json(explain_at(reg,
		    i), call->api->benefits)) == -1) {
			json_decref(items);
			items = NULL;
		}
	}
	api_reply(call->req, 200, items == NULL ? NULL :
	    json_pack("{s:o}", "explanations", items));
}

/* GET /v1/explanations/{id} */
static void
api_explanations_one(struct api_call *call)
{
	const struct explain_registry *reg;
	const struct explanation *e;
	char q[65];

	if ((reg = api_explain(call)) == NULL)
		return;
	if ((e = explain_find(reg, call->arg[0])) == NULL) {
		api_error(call->req, 404, "no explanation \"%s\"",
		    api_printable(call->arg[0], q));
		return;
	}
	api_reply(call->req, 200, explain_to_json(e, call->api->benefits));
}

/* Whether a Content-Type header names JSON, parameters aside. */
static bool
api_is_json_type(const char *type)
{
	static const char json[] = "application/json";

	if (type == NULL)
		return false;
	while (*type == ' ' || *type == '\t')
		type++;
	if (strncasecmp(type, json, sizeof json - 1) != 0)
		return false;
	type += sizeof json - 1;
	return *type == '\0' || *type == ';' || *type == ' ' || *type == '\t';
}


/*
 * The JSON object of a POST body: 415 unless application/json, 400 when
 * empty or not JSON (answered here, NULL returned). A new reference.
 */
static json_t *
api_json_body(struct evhttp_request *req)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	json_error_t jerr;
	json_t *o;
	char q[65];
	size_t len;

	if (!api_is_json_type(evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type"))) {
		api_error(req, 415, "the body must be application/json");
		return NULL;
	}
	if ((len = evbuffer_get_length(body)) == 0) {
		api_error(req, 400, "the body is empty");
		return NULL;
	}
	o = json_loadb((const char *)evbuffer_pullup(body, -1), len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		api_error(req, 400, "the body is not valid JSON: %s (line %d, "
		    "column %d)", api_printable(jerr.text, q), jerr.line,
		    jerr.column);
	return o;
}

/*
 * POST /v1/explanations: a contract §2 object. Saved before the answer;
 * 201 with the stored entry and its Location.
 */
static void
api_explanations_post(struct api_call *call)
{
	struct api *api = call->api;
	struct evhttp_request *req = call->req;
	struct explain_registry *reg;
	const struct explanation *old;
	struct explanation *e;
	json_t *o;
	char *cause = NULL, *location, id[EXPLAIN_ID_MAX + 1];
	int i, ind;

	if ((reg = api_explain(call)) == NULL)
		return;
	if ((o = api_json_body(req)) == NULL)
		return;
	if (explain_from_json(o, api->benefits, api->nbenefits, &e,
	    &cause) == -1) {
		json_decref(o);
		api_error(req, 400, "%s", cause);
		free(cause);
		return;
	}
	json_decref(o);
	for (i = 0; i < e->noffices; i++) {
		if (api_known_office(call, e->offices[i], true) == -1) {
			explain_entry_free(e);
			return;
		}
	}
	for (i = 0; i < e->nindicators; i++) {
		if (api_indicator_check(call, e->indicators[i], false,
		    &ind) == -1) {
			explain_entry_free(e);
			return;
		}
	}

	if ((old = explain_find(reg, e->id)) != NULL) {
		api_error(req, 409, "explanation \"%s\" %s", e->id,
		    old->from_config ? "is defined in the configuration file" :
		    "already exists");
		explain_entry_free(e);
		return;
	}
	if (explain_count(reg) >= EXPLAIN_MAX) {
		api_error(req, 409, "the registry holds %d explanations, the "
		    "most it can", EXPLAIN_MAX);
		explain_entry_free(e);
		return;
	}
	/* HA: the shared registry decides, and every instance applies it. */
	if (api->ha_registry != NULL) {
		struct api_write *w = api_write_new(call, "explanations");

		api_write_sent(call, w, ha_registry_explain_put(
		    api->ha_registry, e, api_write_done_cb, w));
		explain_entry_free(e);
		return;
	}
	memcpy(id, e->id, sizeof id);
	if (explain_add_saved(reg, e, api->explain_path, api->benefits,
	    &cause) == -1) {
		log_errorx("%s", cause);
		free(cause);
		api_error(req, 500, "cannot save the explanation");
		return;
	}
	log_notice("explanations: \"%s\" registered through the API", id);
	location = xasprintf("/v1/explanations/%s", id);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
	    location);
	free(location);
	api_reply(req, 201, explain_to_json(explain_find(reg, id),
	    api->benefits));
	api_explain_changed(api);
}

/* DELETE /v1/explanations/{id}: only those registered through the API. */
static void
api_explanations_delete(struct api_call *call)
{
	struct api *api = call->api;
	struct explain_registry *reg;
	const struct explanation *e;
	char *cause = NULL, q[65];

	if ((reg = api_explain(call)) == NULL)
		return;
	e = explain_find(reg, call->arg[0]);
	/* HA: the shared registry knows whether it exists (404 there). */
	if (api->ha_registry != NULL && (e == NULL || !e->from_config)) {
		struct api_write *w = api_write_new(call, "explanations");

		api_write_sent(call, w, ha_registry_explain_delete(
		    api->ha_registry, call->arg[0], api_write_done_cb, w));
		return;
	}
	if (e == NULL) {
		api_error(call->req, 404, "no explanation \"%s\"",
		    api_printable(call->arg[0], q));
		return;
	}
	if (e->from_config) {
		api_error(call->req, 409, "explanation \"%s\" is defined in "
		    "the configuration file", e->id);
		return;
	}
	if (explain_remove_saved(reg, call->arg[0], api->explain_path,
	    api->benefits, &cause) == -1) {
		log_errorx("%s", cause);
		free(cause);
		api_error(call->req, 500, "cannot save the change");
		return;
	}
	log_notice("explanations: \"%s\" deleted through the API",
	    call->arg[0]);
	api_send(call->req, 204, NULL, NULL, 0);
	api_explain_changed(api);
}

/* The silence registry, or NULL after answering 503. */
static struct silence_registry *
api_silences(struct api_call *call)
{
	if (call->api->silences == NULL)
		api_error(call->req, 503, "silences are not available");
	return call->api->silences;
}

/* GET /v1/silences: all, in the order they were created. */
static void
api_silences_list(struct api_call *call)
{
	const struct silence_registry *reg;

	if ((reg = api_silences(call)) == NULL)
		return;
	api_reply(call->req, 200, silence_list_json(reg, (int64_t)time(NULL)));
}

/* GET /v1/silences/{id} */
static void
api_silences_one(struct api_call *call)
{
	const struct silence_registry *reg;
	const struct silence *sl;
	char q[65];

	if ((reg = api_silences(call)) == NULL)
		return;
	if ((sl = silence_find(reg, call->arg[0])) == NULL) {
		api_error(call->req, 404, "no silence \"%s\"",
		    api_printable(call->arg[0], q));
		return;
	}
	api_reply(call->req, 200, silence_to_json(sl, (int64_t)time(NULL)));
}

/*
 * POST /v1/silences: matchers, ends_at, comment, created_by. Saved before
 * the answer; 201 with the stored silence and its Location.
 */
static void
api_silences_post(struct api_call *call)
{
	struct api *api = call->api;
	struct evhttp_request *req = call->req;
	struct silence_registry *reg;
	const struct silence *added;
	struct silence *sl;
	json_t *o;
	char *cause = NULL, *location;
	int64_t now = (int64_t)time(NULL);
	int ind;

	if ((reg = api_silences(call)) == NULL)
		return;
	if ((o = api_json_body(req)) == NULL)
		return;
	if (silence_from_json(o, now, &sl, &cause) == -1) {
		json_decref(o);
		api_error(req, 400, "%s", cause);
		free(cause);
		return;
	}
	json_decref(o);
	if ((sl->match[SILENCE_OFFICE] != NULL &&
	    api_known_office(call, sl->match[SILENCE_OFFICE], true) == -1) ||
	    (sl->match[SILENCE_INDICATOR] != NULL &&
	    api_indicator_check(call, sl->match[SILENCE_INDICATOR], false,
	    &ind) == -1)) {
		silence_entry_free(sl);
		return;
	}
	/* An alert id no alert has would silence nothing, quietly. */
	if (sl->match[SILENCE_ALERT_ID] != NULL && !api_forced(call) &&
	    (api->mon == NULL ||
	    !monitor_alert_known(api->mon, sl->match[SILENCE_ALERT_ID]))) {
		api_error(req, 409, "no alert \"%.128s\"; give force=true to "
		    "silence it before it exists", sl->match[SILENCE_ALERT_ID]);
		silence_entry_free(sl);
		return;
	}
	/* HA: the shared registry decides, and every instance applies it. */
	if (api->ha_registry != NULL) {
		struct api_write *w = api_write_new(call, "silences");

		api_write_sent(call, w, ha_registry_silence_put(
		    api->ha_registry, sl, api_write_done_cb, w));
		silence_entry_free(sl);
		return;
	}
	if (silence_count(reg) >= SILENCE_MAX) {
		api_error(req, 409, "the registry holds %d silences, the most "
		    "it can", SILENCE_MAX);
		silence_entry_free(sl);
		return;
	}
	if ((added = silence_add_saved(reg, sl, api->silences_path,
	    &cause)) == NULL) {
		log_errorx("%s", cause);
		free(cause);
		api_error(req, 500, "cannot save the silence");
		return;
	}
	log_notice("silences: %s created through the API", added->id);
	location = xasprintf("/v1/silences/%s", added->id);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
	    location);
	free(location);
	api_reply(req, 201, silence_to_json(added, now));
}

/* DELETE /v1/silences/{id} */
static void
api_silences_delete(struct api_call *call)
{
	struct silence_registry *reg;
	char *cause = NULL, q[65];

	if ((reg = api_silences(call)) == NULL)
		return;
	/* HA: the shared registry knows whether it exists (404 there). */
	if (call->api->ha_registry != NULL) {
		struct api_write *w = api_write_new(call, "silences");

		api_write_sent(call, w, ha_registry_silence_delete(
		    call->api->ha_registry, call->arg[0], api_write_done_cb,
		    w));
		return;
	}
	if (silence_find(reg, call->arg[0]) == NULL) {
		api_error(call->req, 404, "no silence \"%s\"",
		    api_printable(call->arg[0], q));
		return;
	}
	if (silence_remove_saved(reg, call->arg[0], call->api->silences_path,
	    &cause) == -1) {
		log_errorx("%s", cause);
		free(cause);
		api_error(call->req, 500, "cannot save the change");
		return;
	}
	log_notice("silences: %s deleted through the API", call->arg[0]);
	api_send(call->req, 204, NULL, NULL, 0);
}

/*
 * The routes, like pgbouncer's show_map. Several entries may share a path
 * with different methods and roles; a path that matches with no method
 * answers 405. Writes always need the write role, whatever auth says.
 */
static const struct api_route api_routes[] = {
	{ EVHTTP_REQ_GET, "/healthz", AUTH_NONE, { NULL }, api_healthz },
	{ EVHTTP_REQ_GET, "/", AUTH_NONE, { NULL }, api_ui_redirect },
	{ EVHTTP_REQ_GET, "/ui", AUTH_NONE, { NULL }, api_ui_redirect },
	{ EVHTTP_REQ_GET, "/ui/", AUTH_NONE, { NULL }, api_ui_file },
	{ EVHTTP_REQ_GET, "/ui/{}", AUTH_NONE, { NULL }, api_ui_file },
	{ EVHTTP_REQ_GET, "/v1/whoami", AUTH_NONE, { NULL }, api_whoami },
	{ EVHTTP_REQ_GET, "/metrics", AUTH_READ, { NULL }, api_metrics },
	{ EVHTTP_REQ_GET, "/v1/status", AUTH_READ, { NULL }, api_status },
	{ EVHTTP_REQ_POST, "/v1/checkpoint", AUTH_WRITE, { NULL },
	    api_checkpoint },
	{ EVHTTP_REQ_GET, "/v1/series", AUTH_READ,
	    { "office", "benefit", "kind", "state", "limit", "offset",
	    "indicator", NULL }, api_series_list },
	{ EVHTTP_REQ_GET, "/v1/series/{}/{}/{}", AUTH_READ,
	    { "from", "to", "period", "indicator", NULL }, api_series_one },
	{ EVHTTP_REQ_GET, "/v1/series/{}/{}/{}/control", AUTH_READ,
	    { "weeks", "indicator", NULL }, api_series_control },
	{ EVHTTP_REQ_GET, "/v1/funnel/{}/{}", AUTH_READ,
	    { "weeks", "indicator", NULL }, api_funnel },
	{ EVHTTP_REQ_GET, "/v1/indicators", AUTH_READ, { NULL },
	    api_indicators_list },
	{ EVHTTP_REQ_GET, "/v1/explanations", AUTH_READ, { NULL },
	    api_explanations_list },
	{ EVHTTP_REQ_POST, "/v1/explanations", AUTH_WRITE, { "force", NULL },
	    api_explanations_post },
	{ EVHTTP_REQ_GET, "/v1/explanations/{}", AUTH_READ, { NULL },
	    api_explanations_one },
	{ EVHTTP_REQ_DELETE, "/v1/explanations/{}", AUTH_WRITE, { NULL },
	    api_explanations_delete },
	{ EVHTTP_REQ_GET, "/v1/alerts", AUTH_READ,
	    { "status", "classification", "scope", "direction", "office",
	    "benefit", "kind", "indicator", NULL }, api_alerts_list },
	{ EVHTTP_REQ_GET, "/v1/alerts/{}", AUTH_READ, { NULL },
	    api_alerts_one },
	{ EVHTTP_REQ_GET, "/v1/model", AUTH_READ, { "indicator", NULL },
	    api_models },
	{ EVHTTP_REQ_GET, "/v1/deliveries", AUTH_READ, { NULL },
	    api_deliveries },
	{ EVHTTP_REQ_GET, "/v1/silences", AUTH_READ, { NULL },
	    api_silences_list },
	{ EVHTTP_REQ_POST, "/v1/silences", AUTH_WRITE, { "force", NULL },
	    api_silences_post },
	{ EVHTTP_REQ_GET, "/v1/silences/{}", AUTH_READ, { NULL },
	    api_silences_one },
	{ EVHTTP_REQ_DELETE, "/v1/silences/{}", AUTH_WRITE, { NULL },
	    api_silences_delete },
	{ EVHTTP_REQ_POST, "/v1/model/{}/{}/refit", AUTH_WRITE,
	    { "indicator", NULL }, api_model_refit },
	{ EVHTTP_REQ_POST, "/v1/series/{}/{}/{}/rebaseline", AUTH_WRITE,
	    { "indicator", NULL }, api_series_rebaseline },
};

/*
 * The routes whose 200 answers are cached (answer.h): the heavy read-only
 * GETs, which depend on the path, the query, the state and the second
 * only, and add no header of their own.
 */
static const api_handler_cb api_kept[] = {
	api_series_list,
	api_series_one,
	api_series_control,
	api_funnel,
	api_indicators_list,
	api_alerts_list,
	api_alerts_one,
	api_models,
};

static bool
api_keeps(const struct api_route *r)
{
	size_t i;

	for (i = 0; i < sizeof api_kept / sizeof api_kept[0]; i++) {
		if (r->handler == api_kept[i])
			return true;
	}
	return false;
}

/*
 * Whether every '%' in the len bytes at s starts an escape of two hex
 * digits; evhttp would pass "%zz" on as it is.
 */
static bool
api_escapes_valid(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] != '%')
			continue;
		if (len - i < 3 || !isxdigit((unsigned char)s[i + 1]) ||
		    !isxdigit((unsigned char)s[i + 2]))
			return false;
		i += 2;
	}
	return true;
}

/*
 * Split the raw path at '/' and percent-decode each segment, so that an
 * encoded '/' stays inside its segment; a segment that decodes to '/' or
 * NUL, has a broken escape or is not UTF-8 is refused. 0, -1 for 400
 * with *why, or 1 for 404 (too deep).
 */
static int
api_split(struct api_call *call, const char *path, const char **why)
{
	const char *p, *end;
	char *raw, *dec;
	size_t len;

	*why = "malformed path";
	if (*path == '\0')
		path = "/";
	if (*path != '/')
		return -1;
	for (p = path; *p == '/'; p = end) {
		p++;
		if ((end = strchr(p, '/')) == NULL)
			end = p + strlen(p);
		if (call->nseg == API_MAX_SEGMENTS)
			return 1;
		if (!api_escapes_valid(p, (size_t)(end - p))) {
			*why = "the path has an invalid percent-escape";
			return -1;
		}
		raw = xstrndup(p, (size_t)(end - p));
		dec = evhttp_uridecode(raw, 0, &len);
		free(raw);
		if (dec == NULL)
			return -1;
		call->seg[call->nseg++] = dec;
		if (strlen(dec) != len || strchr(dec, '/') != NULL)
			return -1;
		if (!utf8_valid(dec, len)) {
			*why = "the path is not UTF-8";
			return -1;
		}
	}
	return 0;
}

/* Does the path match pattern? Fills call->arg when it does. */
static bool
api_match(struct api_call *call, const char *pattern)
{
	const char *p, *end;
	size_t len;
	int i = 0;

	call->narg = 0;
	for (p = pattern; *p == '/'; p = end) {
		p++;
		if ((end = strchr(p, '/')) == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (i == call->nseg)
			return false;
		if (len == 2 && memcmp(p, "{}", 2) == 0) {
			if (*call->seg[i] == '\0')
				return false;
			call->arg[call->narg++] = call->seg[i];
		} else if (strlen(call->seg[i]) != len ||
		    memcmp(call->seg[i], p, len) != 0)
			return false;
		i++;
	}
	return i == call->nseg;
}

/* "GET, HEAD, POST" for the Allow header of a 405 (size >= 32). */
static void
api_allow(int methods, char *s, size_t size)
{
	snprintf(s, size, "%s%s%s",
	    (methods & EVHTTP_REQ_GET) ? "GET, HEAD, " : "",
	    (methods & EVHTTP_REQ_POST) ? "POST, " : "",
	    (methods & EVHTTP_REQ_DELETE) ? "DELETE, " : "");
	if (strlen(s) >= 2)
		s[strlen(s) - 2] = '\0';
}

/* Check the token against the route's role; 0, or -1 after 401/403. */
static int
api_authorize(struct api_call *call, enum auth_role need)
{
	const struct api *api = call->api;
	struct evhttp_request *req = call->req;
	const char *header;
	enum auth_role have;

	if (need == AUTH_NONE || (need == AUTH_READ && !api->conf->auth))
		return 0;
	header = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	have = api->auth != NULL ? auth_role_of(api->auth, header) : AUTH_NONE;
	if (have >= need)
		return 0;

	/* Never the header itself: it holds the token. */
	metrics.http_unauthorized++;
	log_info("http: %s %s %.200s refused: %s%s, %s role needed",
	    api_peer(req), api_method_name(evhttp_request_get_command(req)),
	    evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)),
	    header == NULL ? "no token" : have == AUTH_NONE ?
	    "unknown token" : auth_role_name(have),
	    have != AUTH_NONE ? " role" : "", auth_role_name(need));
	if (have == AUTH_NONE) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer");
		api_error(req, 401, header == NULL ? "a bearer token is "
		    "required" : "the token is not valid");
	} else
		api_error(req, 403, "the %s role is needed",
		    auth_role_name(need));
	return -1;
}

/* Parse the query string and refuse names the route does not take. */
static int
api_check_query(struct api_call *call, const struct api_route *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(call->req);
	const char *q = evhttp_uri_get_query(uri);
	struct evkeyval *kv, *kv2;
	size_t i;

	/* Decoded values are C strings: an encoded NUL would cut them. */
	if (q != NULL && strcasestr(q, "%00") != NULL) {
		api_error(call->req, 400, "query contains a NUL byte");
		return -1;
	}
	if (q != NULL && (!api_escapes_valid(q, strlen(q)) ||
	    evhttp_parse_query_str(q, &call->query) == -1)) {
		api_error(call->req, 400, "malformed query string");
		return -1;
	}
	TAILQ_FOREACH(kv, &call->query, next) {
		if (!utf8_valid(kv->key, strlen(kv->key)) ||
		    !utf8_valid(kv->value, strlen(kv->value))) {
			api_error(call->req, 400, "the query is not UTF-8");
			return -1;
		}
		for (i = 0; r->params[i] != NULL; i++) {
			if (strcmp(kv->key, r->params[i]) == 0)
				break;
		}
		if (r->params[i] == NULL) {
			api_error(call->req, 400, "unknown parameter '%.64s'",
			    kv->key);
			return -1;
		}
		for (kv2 = TAILQ_NEXT(kv, next); kv2 != NULL;
		    kv2 = TAILQ_NEXT(kv2, next)) {
			if (strcmp(kv->key, kv2->key) == 0) {
				api_error(call->req, 400, "parameter '%.64s' "
				    "given more than once", kv->key);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * The key of a cacheable answer: the route, its {} segments decoded and
 * the query's parameters in the route's order, each ended by a NUL, which
 * neither may hold (api_split, api_check_query). So the same view asked
 * with other escapes or another parameter order is the same answer.
 */
static void
api_answer_key(const struct api_call *call, const struct api_route *r,
    struct buf *key)
{
	const char *v;
	int i;

	buf_reset(key);
	buf_put(key, r->pattern, strlen(r->pattern) + 1);
	for (i = 0; i < call->narg; i++)
		buf_put(key, call->arg[i], strlen(call->arg[i]) + 1);
	for (i = 0; r->params[i] != NULL; i++) {
		if ((v = evhttp_find_header(&call->query, r->params[i])) ==
		    NULL)
			continue;
		buf_put(key, r->params[i], strlen(r->params[i]));
		buf_put(key, "=", 1);
		buf_put(key, v, strlen(v) + 1);
	}
}

/* A kept route: from the cache, or built by its handler and kept. */
static void
api_cached(struct api_call *call, const struct api_route *r)
{
	const struct answer *a;
	int64_t now = (int64_t)time(NULL);

	api_answer_key(call, r, &api_keeping.key);
	a = answer_get(call->api->answers, api_keeping.key.data,
	    api_keeping.key.len, now);
	if (a != NULL) {
		metrics.http_answer_hits++;
		api_send(call->req, a->code, a->type, a->body, a->len);
		return;
	}
	metrics.http_answer_misses++;
	api_keeping.req = call->req;
	api_keeping.cache = call->api->answers;
	api_keeping.gen = answer_generation();
	api_keeping.now = now;
	r->handler(call);
	api_keeping.req = NULL;
}

/* Route one request: 404, 405, 401/403, 400 for the query, or a handler. */
static void
api_dispatch(struct api_call *call)
{
	struct evhttp_request *req = call->req;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const struct api_route *r, *found = NULL;
	const char *path, *why;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	enum auth_role need;
	int want, allowed = 0, rc;
	size_t i;
	char allow[64];

	/* evhttp read up to API_BODY_SLACK more, for this JSON answer. */
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) >
	    call->api->conf->http_max_body) {
		api_error(req, 413, "the body is larger than %zu bytes "
		    "(http.max_body)", call->api->conf->http_max_body);
		return;
	}
	if (uri == NULL || (path = evhttp_uri_get_path(uri)) == NULL) {
		api_error(req, 400, "malformed request target");
		return;
	}
	if ((rc = api_split(call, path, &why)) != 0) {
		if (rc == 1)
			api_error(req, 404, "no such resource");
		else
			api_error(req, 400, "%s", why);
		return;
	}

	want = method == EVHTTP_REQ_HEAD ? EVHTTP_REQ_GET : (int)method;
	for (i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++) {
		r = &api_routes[i];
		if (!api_match(call, r->pattern))
			continue;
		allowed |= r->methods;
		if (r->methods & want) {
			found = r;
			break;
		}
	}
	if (found == NULL && allowed == 0) {
		api_error(req, 404, "no such resource");
		return;
	}
	if (found == NULL) {
		api_allow(allowed, allow, sizeof allow);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", allow);
		api_error(req, 405, "%s is not allowed here (%s)",
		    api_method_name(method), allow);
		return;
	}

	/* A write needs the write role even if its entry says less. */
	need = found->role;
	if ((found->methods & (EVHTTP_REQ_POST | EVHTTP_REQ_DELETE)) != 0)
		need = AUTH_WRITE;
	if (api_authorize(call, need) == -1)
		return;
	if (api_check_query(call, found) == -1)
		return;
	if (call->api->answers != NULL && api_keeps(found))
		api_cached(call, found);
	else
		found->handler(call);
}

/* evhttp's callback for every request. */
static void
api_request_cb(struct evhttp_request *req, void *arg)
{
	struct api_call call;
	struct stall_mark t0;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	int i;

	stall_start(&t0);
	memset(&call, 0, sizeof call);
	call.api = arg;
	call.req = req;
	TAILQ_INIT(&call.query);

	api_dispatch(&call);

	evhttp_clear_headers(&call.query);
	for (i = 0; i < call.nseg; i++)
		free(call.seg[i]);
	/* Only a write may change what answers show (req may be freed). */
	if (method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD)
		stall_step_read("an HTTP request", &t0);
	else
		stall_step("an HTTP request", &t0);
}

void
api_handle(struct api *api, struct evhttp_request *req)
{
	api_request_cb(req, api);
}

/* The port a socket is bound to, or -1. */
static int
api_bound_port(struct evhttp_bound_socket *bound)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

int
api_port(const struct api *api)
{
	int port = api_bound_port(api->bound);

	return port != -1 ? port : api->conf->http_port;
}

/* Limits that may change with a reload. */
static void
api_apply_limits(struct api *api)
{
	int64_t timeout = api->conf->http_timeout_ms / 1000;

	if (timeout < 1)
		timeout = 1;
	if (timeout > INT_MAX)
		timeout = INT_MAX;
	evhttp_set_max_body_size(api->http,
	    (ev_ssize_t)(api->conf->http_max_body + API_BODY_SLACK));
	evhttp_set_timeout(api->http, (int)timeout);
}

struct api *
api_create(struct event_base *base, const struct conf *c,
    const struct auth *a, const struct ingest *in, const struct stream *st,
    char **cause)
{
	struct api *api = xcalloc(1, sizeof *api);
	bool v6 = strchr(c->http_bind, ':') != NULL;	/* [::1]:8080 */
	int port, saved, one = 1;

	if ((api->http = evhttp_new(base)) == NULL) {
		*cause = xstrdup("http: cannot create the server");
		free(api);
		return NULL;
	}
	errno = 0;
	api->bound = evhttp_bind_socket_with_handle(api->http, c->http_bind,
	    (ev_uint16_t)c->http_port);
	if (api->bound == NULL) {
		saved = errno;
		*cause = xasprintf("http: cannot bind %s%s%s:%d: %s",
		    v6 ? "[" : "", c->http_bind,
		    v6 ? "]" : "", c->http_port,
		    saved != 0 ? strerror(saved) : "unknown error");
		evhttp_free(api->http);
		free(api);
		return NULL;
	}
	/*
	 * Without this, an answer over 16 KB (libevent writes at most that at
	 * once) waits for the client's delayed ACK on a kept-alive connection:
	 * 40 ms. Linux copies the option to every accepted socket.
	 */
	if (setsockopt(evhttp_bound_socket_get_fd(api->bound), IPPROTO_TCP,
	    TCP_NODELAY, &one, sizeof one) == -1)
		log_warn("http: TCP_NODELAY");
	port = api_bound_port(api->bound);
	if (port == -1)
		port = c->http_port;
	log_notice("http: listening on %s%s%s:%d", v6 ? "[" : "",
	    c->http_bind, v6 ? "]" : "", port);

	api->in = in;
	api->st = st;
	api->conf = c;
	api->auth = a;
	if (metrics.started_at == 0)
		metrics.started_at = (int64_t)time(NULL);

	evhttp_set_max_headers_size(api->http, API_MAX_HEADERS);
	evhttp_set_allowed_methods(api->http, API_METHODS);
	/* Read a refused body to its end, so that the client sees the 413. */
	evhttp_set_flags(api->http, EVHTTP_SERVER_LINGERING_CLOSE);
	api_apply_limits(api);
	evhttp_set_gencb(api->http, api_request_cb, api);
	api->ui = ui_create();
	api->answers = answer_create(API_ANSWERS_MAX);
	return api;
}

void
api_free(struct api *api)
{
	struct api_write *w;

	if (api == NULL)
		return;
	evhttp_free(api->http);
	/* Writes still out are answered to nobody and freed then. */
	while ((w = api->writes) != NULL) {
		api->writes = w->next;
		w->api = NULL;
		w->req = NULL;
	}
	free(api->waiting);
	ui_free(api->ui);
	answer_free(api->answers);
	buf_free(&api_keeping.key);
	free(api->explain_path);
	free(api->silences_path);
	free(api);
}

void
api_set_conf(struct api *api, const struct conf *c, const struct auth *a)
{
	api->conf = c;
	api->auth = a;
	api_apply_limits(api);
}

void
api_set_explanations(struct api *api, struct explain_registry *reg,
    const char *const *benefits, int nbenefits, const char *path,
    api_explain_changed_cb changed_cb, void *arg)
{
	api->explain = reg;
	api->benefits = benefits;
	api->nbenefits = nbenefits;
	free(api->explain_path);
	api->explain_path = path != NULL ? xstrdup(path) : NULL;
	api->explain_changed_cb = changed_cb;
	api->explain_arg = arg;
}

void
api_set_checkpoint(struct api *api, api_checkpoint_cb cb, void *arg)
{
	api->checkpoint_cb = cb;
	api->checkpoint_arg = arg;
}

void
api_set_monitor(struct api *api, struct monitor *mon,
    void (*changed_cb)(void *), void *arg)
{
	api->mon = mon;
	api->mon_changed_cb = changed_cb;
	api->mon_arg = arg;
}

/* A request changed the monitor: let the daemon checkpoint it. */
static void
api_monitor_changed(struct api *api)
{
	if (api->mon_changed_cb != NULL)
		api->mon_changed_cb(api->mon_arg);
}

void
api_set_deliveries(struct api *api, json_t *(*fn)(void *), void *arg)
{
	api->deliveries_fn = fn;
	api->deliveries_arg = arg;
}

void
api_set_ha(struct api *api, json_t *(*fn)(void *), void *arg)
{
	api->ha_fn = fn;
	api->ha_arg = arg;
}

void
api_set_ha_registry(struct api *api, struct ha_registry *hr)
{
	api->ha_registry = hr;
}

void
api_set_silences(struct api *api, struct silence_registry *reg,
    const char *path)
{
	api->silences = reg;
	free(api->silences_path);
	api->silences_path = path != NULL ? xstrdup(path) : NULL;
}
