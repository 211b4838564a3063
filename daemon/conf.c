/*
 * Configuration: one key table drives the defaults, the INI parser (inih),
 * bounds checks, the reload comparison and `stabild --list-keys`.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "conf.h"
#include "log.h"
#include "xmalloc.h"

#define CONF_NITEMS(a)		(sizeof (a) / sizeof (a)[0])

#define CONF_MS			INT64_C(1)
#define CONF_SEC		(1000 * CONF_MS)
#define CONF_MIN		(60 * CONF_SEC)
#define CONF_HOUR		(60 * CONF_MIN)
#define CONF_DAY		(24 * CONF_HOUR)
#define CONF_WEEK		(7 * CONF_DAY)
#define CONF_YEAR		(365 * CONF_DAY)

#define CONF_KIB		INT64_C(1024)
#define CONF_MIB		(1024 * CONF_KIB)
#define CONF_GIB		(1024 * CONF_MIB)

#define CONF_BENEFIT_MAX	32	/* characters in a benefit name */
#define CONF_RECEIVER_MAX	64	/* characters in a receiver name */
#define CONF_OFFICE_MAX		32	/* characters in an office name */
#define CONF_DATE_MIN_YEAR	1900	/* explanation dates */
#define CONF_PASSWORD_MAX	4096	/* bytes in the password's line */
#define CONF_SECTION_MAX	32	/* longest plain section name kept */

enum conf_type {
	CONF_STRING,		/* char *; empty unsets a key with no default */
	CONF_PASSWORD_FILE,	/* char * path; the password is read at once */
	CONF_CHOICE,		/* char *, one of choices */
	CONF_INT,		/* int within min..max */
	CONF_SIZE,		/* size_t bytes within min..max, k/M/G suffix */
	CONF_BOOL,		/* bool */
	CONF_DURATION,		/* int64_t ms within min..max */
	CONF_DOUBLE,		/* double within dmin..dmax */
	CONF_LOGLEVEL,		/* int syslog priority */
	CONF_LIST,		/* the benefits list (c->benefits, nbenefits) */
	CONF_DATE,		/* char * YYYY-MM-DD; empty unsets */
	CONF_NAMES,		/* char * comma-separated names; empty unsets */
};

struct conf_key {
	const char		*name;		/* "section.key" */
	enum conf_type		 type;
	size_t			 off;		/* in struct conf or conf_receiver */
	int64_t			 min;		/* int, size, duration */
	int64_t			 max;
	double			 dmin;		/* double */
	double			 dmax;
	const char *const	*choices;	/* choice, names; NULL ends */
	bool			(*name_valid)(const char *, size_t); /* names */
	const char		*syntax;	/* of one name, for errors */
	const char		*def;		/* as in the example; NULL: unset */
	int			 flags;
#define CONF_RELOAD	0x1		/* takes effect on reload */
#define CONF_RECEIVER	0x2		/* key of [receiver "NAME"] */
#define CONF_GT_MIN	0x4		/* dmin itself is not allowed */
#define CONF_EXPLANATION 0x8		/* key of [explanation "ID"] */
#define CONF_ROUTE	0x10		/* key of [route "NAME"] */
#define CONF_INDICATOR	0x20		/* key of [indicator "NAME"] */
#define CONF_NAMED	(CONF_RECEIVER | CONF_EXPLANATION | CONF_ROUTE | \
			    CONF_INDICATOR)
#define CONF_INVERT	0x40		/* bool stored negated */
	const char		*help;
};

#define C_OFF(f)	offsetof(struct conf, f)
#define R_OFF(f)	offsetof(struct conf_receiver, f)
#define E_OFF(f)	offsetof(struct conf_explanation, f)
#define RT_OFF(f)	offsetof(struct conf_route, f)
#define I_OFF(f)	offsetof(struct conf_indicator, f)

/* Indicator names: [a-z][a-z0-9_]{0,31}; rejection is built in. */
#define CONF_INDICATOR_NAME_MAX	32
#define CONF_INDICATOR_LABEL_MAX 64
#define CONF_INDICATOR_DESCRIPTION_MAX 256
#define CONF_INDICATOR_STREAM_MAX 512

static const char *const conf_receiver_types[] = { "webhook", "email", NULL };
static const char *const conf_explanation_kinds[] = { "legislation",
    "legal_position", "court_ruling", "case_mix", "data_correction",
    "context", NULL };
static const char *const conf_decision_kinds[] = { "first", "ongoing", NULL };
static const char *const conf_starttls[] = { "required", "optional", "off",
    NULL };
static const char *const conf_scopes[] = { "office", "national", NULL };
static const char *const conf_directions[] = { "up", "down", NULL };
static const char *const conf_classifications[] = { "unexplained",
    "explained", NULL };
static const char *const conf_events[] = { "decision", "reconsideration",
    "appeal", "assessment", NULL };
static const char *const conf_indicator_fields[] = { "outcome",
    "supplement_requested", NULL };
static const char *const conf_checkpoints[] = { "90", "180", "365", NULL };
static const char *const conf_changed_to[] = { "granted", "partial",
    "rejected", NULL };
/* Each event kind's outcomes, by conf_events index (contract §1a). */
static const char *const conf_outcomes_decision[] = { "granted", "rejected",
    "partial", "dismissed", NULL };
static const char *const conf_outcomes_changed[] = { "changed", "unchanged",
    NULL };
static const char *const conf_outcomes_assessment[] = { "on_time", "late",
    NULL };
static const char *const *const conf_event_outcomes[] = {
    conf_outcomes_decision, conf_outcomes_changed, conf_outcomes_changed,
    conf_outcomes_assessment };
static const char *const conf_supplement[] = { "yes", "no", NULL };

static bool conf_benefit_valid(const char *, size_t);
static bool conf_office_valid(const char *, size_t);
static bool conf_receiver_name_valid(const char *, size_t);
static bool conf_address_valid(const char *, size_t);
static bool conf_indicator_name_valid(const char *, size_t);
static bool conf_value_valid(const char *, size_t);

static const struct conf_key conf_keys[] = {
	{ .name = "redis.host", .type = CONF_STRING, .off = C_OFF(redis_host),
	  .def = "127.0.0.1",
	  .help = "Redis host name or address" },
	{ .name = "redis.port", .type = CONF_INT, .off = C_OFF(redis_port),
	  .min = 1, .max = 65535, .def = "6379",
	  .help = "Redis TCP port" },
	{ .name = "redis.socket", .type = CONF_STRING,
	  .off = C_OFF(redis_socket),
	  .help = "Redis unix socket path; when set, host and port are unused" },
	{ .name = "redis.user", .type = CONF_STRING, .off = C_OFF(redis_user),
	  .help = "Redis ACL user; unset for the default user" },
	{ .name = "redis.password_file", .type = CONF_PASSWORD_FILE,
	  .off = C_OFF(redis_password_file),
	  .help = "File whose first line is the Redis password" },
	{ .name = "redis.stream", .type = CONF_STRING, .off = C_OFF(stream),
	  .def = "stabild:decisions",
	  .help = "Stream the decision events are read from" },
	{ .name = "redis.group", .type = CONF_STRING, .off = C_OFF(group),
	  .def = "stabild",
	  .help = "Consumer group reading the stream" },
	{ .name = "redis.consumer", .type = CONF_STRING, .off = C_OFF(consumer),
	  .def = "stabild-1",
	  .help = "Consumer name of this daemon within the group" },
	{ .name = "redis.deadletter", .type = CONF_STRING,
	  .off = C_OFF(deadletter), .def = "stabild:deadletter",
	  .help = "Stream that invalid entries are moved to, with the reason" },
	{ .name = "redis.batch", .type = CONF_INT, .off = C_OFF(batch),
	  .min = 1, .max = 100000, .def = "500",
	  .help = "Entries asked for per XREADGROUP call (COUNT)" },
	{ .name = "redis.block", .type = CONF_DURATION, .off = C_OFF(block_ms),
	  .min = 10 * CONF_MS, .max = 60 * CONF_SEC, .def = "2s",
	  .help = "How long XREADGROUP waits for new entries (BLOCK)" },
	{ .name = "redis.connect_timeout", .type = CONF_DURATION,
	  .off = C_OFF(connect_timeout_ms),
	  .min = 100 * CONF_MS, .max = 5 * CONF_MIN, .def = "5s",
	  .help = "Time allowed for connecting to Redis" },
	{ .name = "redis.reconnect_max", .type = CONF_DURATION,
	  .off = C_OFF(reconnect_max_ms),
	  .min = 100 * CONF_MS, .max = 10 * CONF_MIN, .def = "30s",
	  .help = "Longest wait between reconnection attempts" },
	{ .name = "redis.sentinels", .type = CONF_STRING,
	  .off = C_OFF(redis_sentinels),
	  .help = "Sentinels that find the master, comma-separated host:port "
	      "or [v6]:port; unset: redis.host, port or socket" },
	{ .name = "redis.master_name", .type = CONF_STRING,
	  .off = C_OFF(redis_master_name),
	  .help = "The master's name at the sentinels; required with "
	      "redis.sentinels" },

	{ .name = "http.bind", .type = CONF_STRING, .off = C_OFF(http_bind),
	  .def = "127.0.0.1",
	  .help = "Address the HTTP API listens on" },
	{ .name = "http.port", .type = CONF_INT, .off = C_OFF(http_port),
	  .min = 0, .max = 65535, .def = "8080",
	  .help = "Port the HTTP API listens on; 0 picks a free port" },
	{ .name = "http.tokens_file", .type = CONF_STRING,
	  .off = C_OFF(tokens_file), .flags = CONF_RELOAD,
	  .help = "File of \"<role> <token>\" lines, role read or write" },
	{ .name = "http.auth", .type = CONF_BOOL, .off = C_OFF(auth),
	  .def = "on", .flags = CONF_RELOAD,
	  .help = "off: reads need no token (writes always do)" },
	{ .name = "http.max_body", .type = CONF_SIZE, .off = C_OFF(http_max_body),
	  .min = CONF_KIB, .max = 16 * CONF_MIB, .def = "65536",
	  .flags = CONF_RELOAD,
	  .help = "Largest request body accepted, in bytes (k and M suffixes)" },
	{ .name = "http.timeout", .type = CONF_DURATION,
	  .off = C_OFF(http_timeout_ms),
	  .min = 100 * CONF_MS, .max = 10 * CONF_MIN, .def = "10s",
	  .flags = CONF_RELOAD,
	  .help = "Time allowed for one HTTP request" },
	{ .name = "http.public_url", .type = CONF_STRING,
	  .off = C_OFF(http_public_url), .flags = CONF_RELOAD,
	  .help = "Base of the links in alerts, as users reach the API (e.g. "
	  "behind a proxy); unset: http://, the bind address and the port" },
	{ .name = "http.chartjs_dir", .type = CONF_STRING,
	  .off = C_OFF(chartjs_dir), .def = "/usr/share/javascript/chart.js",
	  .flags = CONF_RELOAD,
	  .help = "Directory of Chart.js (Debian libjs-chart.js) for the "
	  "dashboard's charts" },

	{ .name = "state.dir", .type = CONF_STRING, .off = C_OFF(state_dir),
	  .def = "/var/lib/stabild",
	  .help = "Directory for checkpoints and records" },
	{ .name = "state.checkpoint_interval", .type = CONF_DURATION,
	  .off = C_OFF(checkpoint_interval_ms),
	  .min = 100 * CONF_MS, .max = 10 * CONF_MIN, .def = "30s",
	  .flags = CONF_RELOAD,
	  .help = "Longest time between checkpoints, unless checkpoint_share "
	  "asks for a longer rest" },
	{ .name = "state.checkpoint_events", .type = CONF_INT,
	  .off = C_OFF(checkpoint_events),
	  .min = 1, .max = 10000000, .def = "200000", .flags = CONF_RELOAD,
	  .help = "Events counted before a checkpoint is taken early" },
	{ .name = "state.checkpoint_share", .type = CONF_DOUBLE,
	  .off = C_OFF(checkpoint_share),
	  .dmin = 0.01, .dmax = 1, .def = "0.1", .flags = CONF_RELOAD,
	  .help = "Most of the time checkpoints may take under heavy ingest" },
	{ .name = "state.dedup_window", .type = CONF_INT,
	  .off = C_OFF(dedup_window),
	  .min = 0, .max = 100000000, .def = "1000000",
	  .help = "Decision ids remembered to count repeats once; 0 disables" },
	{ .name = "state.records", .type = CONF_BOOL, .off = C_OFF(records),
	  .def = "on",
	  .help = "Keep a record of every counted decision" },

	{ .name = "periods.lateness", .type = CONF_DURATION,
	  .off = C_OFF(lateness_ms),
	  .min = 0, .max = 60 * CONF_DAY, .def = "3d",
	  .help = "How late an event may arrive and still count in its period" },
	{ .name = "periods.retention", .type = CONF_DURATION,
	  .off = C_OFF(retention_ms),
	  .min = 8 * CONF_WEEK, .max = 50 * CONF_YEAR, .def = "10y",
	  .help = "How much history is kept" },
	{ .name = "periods.future", .type = CONF_DURATION,
	  .off = C_OFF(future_ms),
	  .min = 0, .max = 365 * CONF_DAY, .def = "1d",
	  .help = "Events decided further ahead of the clock are invalid" },
	{ .name = "periods.max_offices", .type = CONF_INT,
	  .off = C_OFF(max_offices),
	  .min = 1, .max = 4096, .def = "128",
	  .help = "Most offices tracked; events from further offices are invalid" },

	{ .name = "benefits.list", .type = CONF_LIST, .off = C_OFF(benefits),
	  .def = "sjukpenning, rehabiliteringsersattning, sjukersattning, "
	      "aktivitetsersattning",
	  .help = "Benefits accepted, comma-separated names of a-z 0-9 _" },

	{ .name = "log.level", .type = CONF_LOGLEVEL, .off = C_OFF(log_level),
	  .def = "info", .flags = CONF_RELOAD,
	  .help = "Least severe level logged: debug, info, notice, warning, "
	      "error" },

	{ .name = "detector.false_alarms_per_year", .type = CONF_DOUBLE,
	  .off = C_OFF(false_alarms_per_year),
	  .dmin = 0, .dmax = 10000, .def = "12",
	  .flags = CONF_RELOAD | CONF_GT_MIN,
	  .help = "False alarms per year, across all series and directions" },
	{ .name = "detector.design_or_office", .type = CONF_DOUBLE,
	  .off = C_OFF(design_or_office),
	  .dmin = 1.01, .dmax = 10, .def = "1.5", .flags = CONF_RELOAD,
	  .help = "Odds ratio an office series is tuned to detect fastest" },
	{ .name = "detector.design_or_national", .type = CONF_DOUBLE,
	  .off = C_OFF(design_or_national),
	  .dmin = 1.01, .dmax = 10, .def = "1.2", .flags = CONF_RELOAD,
	  .help = "Odds ratio a national series is tuned to detect fastest" },
	{ .name = "detector.relevant_or", .type = CONF_DOUBLE,
	  .off = C_OFF(relevant_or),
	  .dmin = 1.01, .dmax = 10, .def = "1.5", .flags = CONF_RELOAD,
	  .help = "Odds ratio a series must detect within the horizon, else "
	      "it is underpowered" },
	{ .name = "detector.horizon", .type = CONF_DURATION,
	  .off = C_OFF(horizon_ms),
	  .min = CONF_WEEK, .max = 10 * CONF_YEAR, .def = "26w",
	  .flags = CONF_RELOAD,
	  .help = "Expected detection delay allowed for relevant_or" },
	{ .name = "detector.reference_weeks", .type = CONF_INT,
	  .off = C_OFF(reference_weeks),
	  .min = 52, .max = 520, .def = "104", .flags = CONF_RELOAD,
	  .help = "Weeks of the reference window a baseline is fitted on" },
	{ .name = "detector.min_reference_weeks", .type = CONF_INT,
	  .off = C_OFF(min_reference_weeks),
	  .min = 13, .max = 520, .def = "52", .flags = CONF_RELOAD,
	  .help = "Weeks of reference a series needs before it can alarm" },
	{ .name = "detector.learning_weeks", .type = CONF_INT,
	  .off = C_OFF(learning_weeks),
	  .min = 1, .max = 104, .def = "13", .flags = CONF_RELOAD,
	  .help = "Weeks after an explained change before the refit" },
	{ .name = "detector.ridge", .type = CONF_DOUBLE, .off = C_OFF(ridge),
	  .dmin = 0, .dmax = 100, .def = "1", .flags = CONF_RELOAD,
	  .help = "Ridge penalty of the case-mix model's coefficients" },
	{ .name = "detector.explain_before", .type = CONF_DURATION,
	  .off = C_OFF(explain_before_ms),
	  .min = 0, .max = 52 * CONF_WEEK, .def = "4w", .flags = CONF_RELOAD,
	  .help = "An onset this long before effective_from is still "
	      "explained; whole days" },
	{ .name = "detector.explain_after", .type = CONF_DURATION,
	  .off = C_OFF(explain_after_ms),
	  .min = 0, .max = 52 * CONF_WEEK, .def = "8w", .flags = CONF_RELOAD,
	  .help = "An onset this long after effective_from is still "
	      "explained; whole days" },
	{ .name = "detector.evaluate_every", .type = CONF_DURATION,
	  .off = C_OFF(evaluate_every_ms),
	  .min = CONF_HOUR, .max = 7 * CONF_DAY, .def = "1d",
	  .flags = CONF_RELOAD,
	  .help = "Event time between looks at the open week" },
	{ .name = "detector.outlier_alerts", .type = CONF_BOOL,
	  .off = C_OFF(outlier_alerts), .def = "off", .flags = CONF_RELOAD,
	  .help = "Send alerts for offices flagged as outliers" },
	{ .name = "detector.shrink_offices", .type = CONF_DOUBLE,
	  .off = C_OFF(shrink_offices),
	  .dmin = 0, .dmax = 100000, .def = "50", .flags = CONF_RELOAD,
	  .help = "Decisions a week at which an office's own level gets half "
	      "weight" },

	{ .name = "alerts.historical_age", .type = CONF_DURATION,
	  .off = C_OFF(historical_age_ms),
	  .min = CONF_MIN, .max = 50 * CONF_YEAR, .def = "30d",
	  .flags = CONF_RELOAD,
	  .help = "Alerts detected longer ago are recorded, not sent" },
	{ .name = "alerts.delivery_expiry", .type = CONF_DURATION,
	  .off = C_OFF(delivery_expiry_ms),
	  .min = CONF_MIN, .max = 30 * CONF_DAY, .def = "24h",
	  .flags = CONF_RELOAD,
	  .help = "A notification not accepted by then is given up and kept "
	      "for inspection" },
	{ .name = "alerts.retry_max", .type = CONF_DURATION,
	  .off = C_OFF(retry_max_ms),
	  .min = CONF_SEC, .max = CONF_DAY, .def = "5m",
	  .flags = CONF_RELOAD,
	  .help = "Longest wait between two attempts of one notification" },
	{ .name = "alerts.expired_keep", .type = CONF_INT,
	  .off = C_OFF(expired_keep),
	  .min = 0, .max = 100000, .def = "1000", .flags = CONF_RELOAD,
	  .help = "Expired notifications kept for inspection; the oldest "
	      "beyond are dropped" },
	{ .name = "alerts.expired_max_age", .type = CONF_DURATION,
	  .off = C_OFF(expired_max_age_ms),
	  .min = 0, .max = 365 * CONF_DAY, .def = "7d", .flags = CONF_RELOAD,
	  .help = "An expired notification is dropped this long after it "
	      "expired" },
	{ .name = "alerts.max_inflight", .type = CONF_INT,
	  .off = C_OFF(max_inflight),
	  .min = 1, .max = 1000, .def = "16", .flags = CONF_RELOAD,
	  .help = "Delivery attempts (HTTP or SMTP transfers) in flight at "
	      "once" },

	{ .name = "ha.enabled", .type = CONF_BOOL, .off = C_OFF(ha_enabled),
	  .def = "off",
	  .help = "Run as one of several instances sharing registries, "
	      "deliveries and a control log through Redis" },
	{ .name = "ha.instance", .type = CONF_STRING, .off = C_OFF(ha_instance),
	  .help = "This instance's name, 1 to 64 of A-Z a-z 0-9 . _ -; "
	      "required with ha.enabled" },
	{ .name = "ha.prefix", .type = CONF_STRING, .off = C_OFF(ha_prefix),
	  .def = "stabild:ha:",
	  .help = "Prefix of the Redis keys the instances share" },
	{ .name = "ha.heartbeat", .type = CONF_DURATION,
	  .off = C_OFF(ha_heartbeat_ms),
	  .min = 100 * CONF_MS, .max = CONF_MIN, .def = "2s",
	  .help = "How often an instance tells the others it is alive" },
	{ .name = "ha.peer_timeout", .type = CONF_DURATION,
	  .off = C_OFF(ha_peer_timeout_ms),
	  .min = CONF_SEC, .max = 10 * CONF_MIN, .def = "10s",
	  .help = "A peer unheard of for this long is down; at least twice "
	      "ha.heartbeat" },
	{ .name = "ha.claim_ttl", .type = CONF_DURATION,
	  .off = C_OFF(ha_claim_ttl_ms),
	  .min = CONF_SEC, .max = 10 * CONF_MIN, .def = "30s",
	  .help = "A delivery claim not renewed for this long is taken over" },
	{ .name = "ha.unclaimed_after", .type = CONF_DURATION,
	  .off = C_OFF(ha_unclaimed_after_ms),
	  .min = 0, .max = CONF_HOUR, .def = "60s",
	  .help = "Without Redis, a notification is sent unclaimed after "
	      "this; 0: wait for Redis" },
	{ .name = "ha.tick_interval", .type = CONF_DURATION,
	  .off = C_OFF(ha_tick_interval_ms),
	  .min = CONF_SEC, .max = CONF_HOUR, .def = "60s",
	  .help = "A quiet stream gets a clock tick in the control log this "
	      "often" },
	{ .name = "ha.log_keep", .type = CONF_DURATION,
	  .off = C_OFF(ha_log_keep_ms),
	  .min = CONF_DAY, .max = 10 * CONF_YEAR, .def = "30d",
	  .help = "Control log entries older than this are trimmed" },
	{ .name = "ha.write_timeout", .type = CONF_DURATION,
	  .off = C_OFF(ha_write_timeout_ms),
	  .min = 100 * CONF_MS, .max = CONF_MIN, .def = "2s",
	  .help = "A registry write through the API waits this long to be "
	      "applied here" },

	{ .name = "receiver.type", .type = CONF_CHOICE, .off = R_OFF(type),
	  .choices = conf_receiver_types,
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "Required: webhook or email" },
	{ .name = "receiver.url", .type = CONF_STRING, .off = R_OFF(url),
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "Required: http(s):// for a webhook, smtp(s)://host:port for "
	      "email" },
	{ .name = "receiver.secret_file", .type = CONF_STRING,
	  .off = R_OFF(secret_file),
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "Webhook: file whose first line is the secret that signs "
	      "the body" },
	{ .name = "receiver.bearer_token_file", .type = CONF_STRING,
	  .off = R_OFF(bearer_token_file),
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "Webhook: file whose first line is sent as "
	      "'Authorization: Bearer'" },
	{ .name = "receiver.headers_file", .type = CONF_STRING,
	  .off = R_OFF(headers_file),
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "Webhook: file of extra 'Name: value' header lines, sent "
	      "with every request" },
	{ .name = "receiver.ca_file", .type = CONF_STRING,
	  .off = R_OFF(ca_file),
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "PEM certificates to trust for TLS; unset: the system's" },
	{ .name = "receiver.connect_timeout", .type = CONF_DURATION,
	  .off = R_OFF(connect_timeout_ms),
	  .min = 100 * CONF_MS, .max = 5 * CONF_MIN, .def = "5s",
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "Time allowed for connecting" },
	{ .name = "receiver.timeout", .type = CONF_DURATION,
	  .off = R_OFF(timeout_ms),
	  .min = CONF_SEC, .max = 30 * CONF_MIN, .def = "30s",
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "Time allowed for one whole attempt" },
	{ .name = "receiver.starttls", .type = CONF_CHOICE,
	  .off = R_OFF(starttls), .choices = conf_starttls, .def = "required",
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "Email over smtp://: required, optional or off; smtps:// is "
	      "always TLS" },
	{ .name = "receiver.auth_file", .type = CONF_STRING,
	  .off = R_OFF(auth_file),
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "Email: file with the SMTP user on line 1, the password on "
	      "line 2" },
	{ .name = "receiver.from", .type = CONF_STRING, .off = R_OFF(from),
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "Email, required: the sender, 'a@b' or 'Name <a@b>'" },
	{ .name = "receiver.to", .type = CONF_NAMES, .off = R_OFF(to),
	  .name_valid = conf_address_valid,
	  .syntax = "an address, 'a@b' or 'Name <a@b>'",
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "Email, required: recipients, comma-separated" },
	{ .name = "receiver.cc", .type = CONF_NAMES, .off = R_OFF(cc),
	  .name_valid = conf_address_valid,
	  .syntax = "an address, 'a@b' or 'Name <a@b>'",
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "Email: copy recipients, comma-separated" },
	{ .name = "receiver.template", .type = CONF_STRING,
	  .off = R_OFF(template_file),
	  .flags = CONF_RELOAD | CONF_RECEIVER,
	  .help = "Email: message template file; unset: the built-in one" },

	{ .name = "route.receivers", .type = CONF_NAMES,
	  .off = RT_OFF(receivers), .name_valid = conf_receiver_name_valid,
	  .syntax = "a receiver name",
	  .flags = CONF_RELOAD | CONF_ROUTE,
	  .help = "Required: receivers, comma-separated; empty: recorded, not "
	      "sent" },
	{ .name = "route.offices", .type = CONF_NAMES, .off = RT_OFF(offices),
	  .name_valid = conf_office_valid,
	  .syntax = "1 to 32 characters of A-Z a-z 0-9 . _ -, not national",
	  .flags = CONF_RELOAD | CONF_ROUTE,
	  .help = "Match these offices; unset: any" },
	{ .name = "route.benefits", .type = CONF_NAMES,
	  .off = RT_OFF(benefits), .name_valid = conf_benefit_valid,
	  .syntax = "a configured benefit",
	  .flags = CONF_RELOAD | CONF_ROUTE,
	  .help = "Match these benefits; unset: any" },
	{ .name = "route.kinds", .type = CONF_NAMES, .off = RT_OFF(kinds),
	  .choices = conf_decision_kinds,
	  .flags = CONF_RELOAD | CONF_ROUTE,
	  .help = "Match these decision kinds (first, ongoing); unset: any" },
	{ .name = "route.scopes", .type = CONF_NAMES, .off = RT_OFF(scopes),
	  .choices = conf_scopes,
	  .flags = CONF_RELOAD | CONF_ROUTE,
	  .help = "Match office or national alerts; unset: both" },
	{ .name = "route.directions", .type = CONF_NAMES,
	  .off = RT_OFF(directions), .choices = conf_directions,
	  .flags = CONF_RELOAD | CONF_ROUTE,
	  .help = "Match up or down; unset: both" },
	{ .name = "route.classifications", .type = CONF_NAMES,
	  .off = RT_OFF(classifications), .choices = conf_classifications,
	  .flags = CONF_RELOAD | CONF_ROUTE,
	  .help = "Match unexplained or explained; unset: both" },
	{ .name = "route.group_wait", .type = CONF_DURATION,
	  .off = RT_OFF(group_wait_ms),
	  .min = 0, .max = CONF_HOUR, .def = "0s",
	  .flags = CONF_RELOAD | CONF_ROUTE,
	  .help = "Alerts within this window go out as one notification; 0: "
	      "each on its own" },
	{ .name = "route.repeat_interval", .type = CONF_DURATION,
	  .off = RT_OFF(repeat_interval_ms),
	  .min = 0, .max = 30 * CONF_DAY, .def = "0s",
	  .flags = CONF_RELOAD | CONF_ROUTE,
	  .help = "Send an unexplained alert again while it fires this long; "
	      "0: never" },
	{ .name = "route.continue", .type = CONF_BOOL, .off = RT_OFF(cont),
	  .def = "off",
	  .flags = CONF_RELOAD | CONF_ROUTE,
	  .help = "Try the next routes too after this one matched" },
	{ .name = "route.indicators", .type = CONF_NAMES,
	  .off = RT_OFF(indicators), .name_valid = conf_indicator_name_valid,
	  .syntax = "an indicator name",
	  .flags = CONF_RELOAD | CONF_ROUTE,
	  .help = "Match alerts of these indicators (rejection or a "
	      "configured one); unset: any" },

	{ .name = "indicator.event", .type = CONF_CHOICE, .off = I_OFF(event),
	  .choices = conf_events, .flags = CONF_INDICATOR,
	  .help = "Required: the event kind it counts: decision, "
	      "reconsideration, appeal or assessment" },
	{ .name = "indicator.field", .type = CONF_CHOICE, .off = I_OFF(field),
	  .choices = conf_indicator_fields, .flags = CONF_INDICATOR,
	  .help = "What is yes or no: outcome, or supplement_requested "
	      "(decisions only); unset: outcome" },
	{ .name = "indicator.yes", .type = CONF_NAMES, .off = I_OFF(yes),
	  .name_valid = conf_value_valid, .syntax = "a value of the field",
	  .flags = CONF_INDICATOR,
	  .help = "Required: values of the field that count as yes, "
	      "comma-separated" },
	{ .name = "indicator.no", .type = CONF_NAMES, .off = I_OFF(no),
	  .name_valid = conf_value_valid, .syntax = "a value of the field",
	  .flags = CONF_INDICATOR,
	  .help = "Required: values of the field that count as no; other "
	      "values are out of the rate" },
	{ .name = "indicator.checkpoint", .type = CONF_NAMES,
	  .off = I_OFF(checkpoint), .choices = conf_checkpoints,
	  .flags = CONF_INDICATOR,
	  .help = "Assessments only: count these checkpoints (90, 180, 365); "
	      "unset: all" },
	{ .name = "indicator.changed_to", .type = CONF_NAMES,
	  .off = I_OFF(changed_to), .choices = conf_changed_to,
	  .flags = CONF_INDICATOR,
	  .help = "Reconsiderations only: count these changed_to values "
	      "(granted, partial, rejected); unset: all" },
	{ .name = "indicator.label", .type = CONF_STRING, .off = I_OFF(label),
	  .flags = CONF_RELOAD | CONF_INDICATOR,
	  .help = "The rate's name for people, up to 64 bytes; unset: "
	      "\"NAME rate\"" },
	{ .name = "indicator.description", .type = CONF_STRING,
	  .off = I_OFF(description), .flags = CONF_RELOAD | CONF_INDICATOR,
	  .help = "One sentence on what it shows, up to 256 bytes" },
	{ .name = "indicator.design_or_office", .type = CONF_DOUBLE,
	  .off = I_OFF(design_or_office), .dmin = 1.01, .dmax = 10,
	  .flags = CONF_INDICATOR,
	  .help = "Odds ratio its office series are tuned to detect fastest; "
	      "unset: [detector]'s" },
	{ .name = "indicator.design_or_national", .type = CONF_DOUBLE,
	  .off = I_OFF(design_or_national), .dmin = 1.01, .dmax = 10,
	  .flags = CONF_INDICATOR,
	  .help = "Odds ratio its national series are tuned to detect "
	      "fastest; unset: [detector]'s" },
	{ .name = "indicator.alerts", .type = CONF_BOOL,
	  .off = I_OFF(alerts_off), .flags = CONF_RELOAD | CONF_INDICATOR |
	      CONF_INVERT,
	  .help = "off: watched and shown, alerts kept but not sent, no share "
	      "of the false-alarm budget" },
	{ .name = "indicator.budget_weight", .type = CONF_DOUBLE,
	  .off = I_OFF(budget_weight), .dmin = 0, .dmax = 100,
	  .flags = CONF_RELOAD | CONF_INDICATOR | CONF_GT_MIN,
	  .help = "Share of the false-alarm budget per series, rejection's "
	      "being 1; unset: 1" },
	{ .name = "indicator.stream", .type = CONF_STRING,
	  .off = I_OFF(stream), .flags = CONF_INDICATOR,
	  .help = "Stream its events come on; unset: redis.stream" },

	{ .name = "explanation.kind", .type = CONF_CHOICE, .off = E_OFF(kind),
	  .choices = conf_explanation_kinds,
	  .flags = CONF_RELOAD | CONF_EXPLANATION,
	  .help = "Required: legislation, legal_position, court_ruling, "
	      "case_mix, data_correction or context" },
	{ .name = "explanation.effective_from", .type = CONF_DATE,
	  .off = E_OFF(effective_from),
	  .flags = CONF_RELOAD | CONF_EXPLANATION,
	  .help = "Required: first day the cause applies, YYYY-MM-DD" },
	{ .name = "explanation.effective_to", .type = CONF_DATE,
	  .off = E_OFF(effective_to),
	  .flags = CONF_RELOAD | CONF_EXPLANATION,
	  .help = "Last day the cause applies, YYYY-MM-DD; unset: open" },
	{ .name = "explanation.benefits", .type = CONF_NAMES,
	  .off = E_OFF(benefits), .name_valid = conf_benefit_valid,
	  .syntax = "a configured benefit",
	  .flags = CONF_RELOAD | CONF_EXPLANATION,
	  .help = "Benefits it covers, comma-separated; unset: all" },
	{ .name = "explanation.kinds", .type = CONF_NAMES,
	  .off = E_OFF(kinds), .choices = conf_decision_kinds,
	  .flags = CONF_RELOAD | CONF_EXPLANATION,
	  .help = "Decision kinds it covers (first, ongoing); unset: both" },
	{ .name = "explanation.offices", .type = CONF_NAMES,
	  .off = E_OFF(offices), .name_valid = conf_office_valid,
	  .syntax = "1 to 32 characters of A-Z a-z 0-9 . _ -, not national",
	  .flags = CONF_RELOAD | CONF_EXPLANATION,
	  .help = "Offices it covers, comma-separated; unset: all and the "
	      "nation" },
	{ .name = "explanation.reference", .type = CONF_STRING,
	  .off = E_OFF(reference),
	  .flags = CONF_RELOAD | CONF_EXPLANATION,
	  .help = "Where the cause is documented, such as a bill or ruling" },
	{ .name = "explanation.description", .type = CONF_STRING,
	  .off = E_OFF(description),
	  .flags = CONF_RELOAD | CONF_EXPLANATION,
	  .help = "What changed, in a sentence" },
	{ .name = "explanation.indicators", .type = CONF_NAMES,
	  .off = E_OFF(indicators), .name_valid = conf_indicator_name_valid,
	  .syntax = "an indicator name",
	  .flags = CONF_RELOAD | CONF_EXPLANATION,
	  .help = "Indicators it covers (rejection or configured ones); "
	      "unset: all" },
};

/* Keys seen in a named section are kept as bits of the table index. */
#define CONF_SEEN_WORDS	((CONF_NITEMS(conf_keys) + 63) / 64)

/* State of one conf_load. */
struct conf_parse {
	struct conf	*c;
	FILE		*f;
	char		*line;		/* getline buffer */
	size_t		 linesz;
	int		 lineno;	/* of the line inih is working on */

	char		 section[CONF_SECTION_MAX]; /* "" before the first */
	int		 recv;		/* receiver index, -1 outside one */
	int		 expl;		/* explanation index, -1 outside one */
	int		 route;		/* route index, -1 outside one */
	int		 ind;		/* indicator index, -1 outside one */

	char		*error;		/* the first error, NULL if none */
	int		 errline;	/* its line, 0 for the whole file */

	int		 key_line[CONF_NITEMS(conf_keys)]; /* last set */
	int		 recv_line[CONF_MAX_RECEIVERS];	/* section header */
	int		 url_line[CONF_MAX_RECEIVERS];
	uint64_t	 recv_seen[CONF_MAX_RECEIVERS][CONF_SEEN_WORDS];
	uint64_t	 expl_seen[CONF_MAX_EXPLANATIONS][CONF_SEEN_WORDS];
	uint64_t	 route_seen[CONF_MAX_ROUTES][CONF_SEEN_WORDS];
	int		 route_line[CONF_MAX_ROUTES];	/* section header */
	int		 expl_from_line[CONF_MAX_EXPLANATIONS];
	int		 expl_to_line[CONF_MAX_EXPLANATIONS];
	int		 expl_benefits_line[CONF_MAX_EXPLANATIONS];
	int		 expl_indicators_line[CONF_MAX_EXPLANATIONS];
	/* Per indicator, the line each key was set on (0: not given). */
	int		 ind_key_line[CONF_MAX_INDICATORS][CONF_NITEMS(conf_keys)];
};

/* The key part of "section.key". */
static const char *
conf_key_short(const struct conf_key *k)
{
	return strchr(k->name, '.') + 1;
}

/* Index of section.key in the table, or -1. */
static int
conf_key_find(const char *section, const char *key)
{
	const char *name, *dot;
	size_t i, slen = strlen(section);

	for (i = 0; i < CONF_NITEMS(conf_keys); i++) {
		name = conf_keys[i].name;
		dot = strchr(name, '.');
		if ((size_t)(dot - name) == slen &&
		    strncmp(name, section, slen) == 0 &&
		    strcmp(dot + 1, key) == 0)
			return (int)i;
	}
	return -1;
}

/* Whether a plain (not named) section of that name has keys. */
static bool
conf_section_known(const char *name, size_t len)
{
	const char *key, *dot;
	size_t i;

	for (i = 0; i < CONF_NITEMS(conf_keys); i++) {
		if (conf_keys[i].flags & CONF_NAMED)
			continue;
		key = conf_keys[i].name;
		dot = strchr(key, '.');
		if ((size_t)(dot - key) == len && strncmp(key, name, len) == 0)
			return true;
	}
	return false;
}

/* Record the first error only: later ones are usually its consequences. */
static void LOG_PRINTF(3, 4)
conf_error(struct conf_parse *p, int line, const char *fmt, ...)
{
	va_list ap;

	if (p->error != NULL)
		return;
	va_start(ap, fmt);
	p->error = xvasprintf(fmt, ap);
	va_end(ap);
	p->errline = line;
}

/* Write a duration the way a user would: the largest exact unit. */
static void
conf_fmt_duration(int64_t ms, char *buf, size_t len)
{
	static const struct {
		const char	*unit;
		int64_t		 ms;
	} units[] = {
		{ "y", CONF_YEAR }, { "w", CONF_WEEK }, { "d", CONF_DAY },
		{ "h", CONF_HOUR }, { "m", CONF_MIN }, { "s", CONF_SEC },
	};
	size_t i;

	if (ms != 0) {
		for (i = 0; i < CONF_NITEMS(units); i++) {
			if (ms % units[i].ms == 0) {
				snprintf(buf, len, "%" PRId64 "%s",
				    ms / units[i].ms, units[i].unit);
				return;
			}
		}
		snprintf(buf, len, "%" PRId64 "ms", ms);
		return;
	}
	snprintf(buf, len, "0");
}

/* Write a byte count with the largest exact k/M/G suffix. */
static void
conf_fmt_size(int64_t n, char *buf, size_t len)
{
	if (n != 0 && n % CONF_GIB == 0)
		snprintf(buf, len, "%" PRId64 "G", n / CONF_GIB);
	else if (n != 0 && n % CONF_MIB == 0)
		snprintf(buf, len, "%" PRId64 "M", n / CONF_MIB);
	else if (n != 0 && n % CONF_KIB == 0)
		snprintf(buf, len, "%" PRId64 "k", n / CONF_KIB);
	else
		snprintf(buf, len, "%" PRId64, n);
}

/* A bound of key k as text in the key's own unit. */
static void
conf_fmt_bound(const struct conf_key *k, int64_t v, char *buf, size_t len)
{
	switch (k->type) {
	case CONF_DURATION:
		conf_fmt_duration(v, buf, len);
		break;
	case CONF_SIZE:
		conf_fmt_size(v, buf, len);
		break;
	default:
		snprintf(buf, len, "%" PRId64, v);
		break;
	}
}

/* Check v against the bounds of k, naming the one it crosses. */
static int
conf_check_bounds(const struct conf_key *k, int64_t v, const char *text,
    char **cause)
{
	char bound[32];

	if (v < k->min) {
		conf_fmt_bound(k, k->min, bound, sizeof bound);
		*cause = xasprintf("%s: %s is below the minimum %s",
		    conf_key_short(k), text, bound);
		return -1;
	}
	if (v > k->max) {
		conf_fmt_bound(k, k->max, bound, sizeof bound);
		*cause = xasprintf("%s: %s is above the maximum %s",
		    conf_key_short(k), text, bound);
		return -1;
	}
	return 0;
}

/*
 * Leading digits of s as a non-negative number; *end is left after them.
 * Fails on no digits and on overflow.
 */
static int
conf_parse_digits(const char *s, int64_t *v, const char **end)
{
	int64_t n = 0;
	int d;

	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s)) {
		d = *s++ - '0';
		if (n > (INT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*v = n;
	*end = s;
	return 0;
}

/*
 * A decimal integer, optionally negative so that "-1" is reported against
 * the minimum. Values too large to hold come back as INT64_MIN or
 * INT64_MAX, beyond every bound.
 */
static int
conf_parse_int(const char *s, int64_t *v)
{
	char *end;
	long long n;

	if (*s != '-' && !isdigit((unsigned char)*s))
		return -1;
	n = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		return -1;
	*v = n;
	return 0;
}

/* Digits and then exactly one unit from the table; no unit is seconds. */
int
conf_parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		const char	*unit;
		int64_t		 ms;
	} units[] = {
		{ "", CONF_SEC }, { "ms", CONF_MS }, { "s", CONF_SEC },
		{ "m", CONF_MIN }, { "h", CONF_HOUR }, { "d", CONF_DAY },
		{ "w", CONF_WEEK }, { "y", CONF_YEAR },
	};
	const char *end;
	int64_t n;
	size_t i;

	if (s == NULL || conf_parse_digits(s, &n, &end) != 0)
		return -1;
	for (i = 0; i < CONF_NITEMS(units); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (n > INT64_MAX / units[i].ms)
			return -1;
		*ms = n * units[i].ms;
		return 0;
	}
	return -1;
}

/* A byte count: digits with an optional k, M or G (powers of 1024). */
static int
conf_parse_size(const char *s, int64_t *bytes)
{
	const char *end;
	int64_t n, mult;

	if (conf_parse_digits(s, &n, &end) != 0)
		return -1;
	if (*end == '\0')
		mult = 1;
	else if (strcmp(end, "k") == 0 || strcmp(end, "K") == 0)
		mult = CONF_KIB;
	else if (strcmp(end, "M") == 0)
		mult = CONF_MIB;
	else if (strcmp(end, "G") == 0)
		mult = CONF_GIB;
	else
		return -1;
	if (n > INT64_MAX / mult)
		return -1;
	*bytes = n * mult;
	return 0;
}

/* on/off, yes/no, true/false, 1/0 in any case. */
static int
conf_parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	size_t i;

	for (i = 0; i < CONF_NITEMS(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = false;
			return 0;
		}
	}
	return -1;
}

/* Days in a month of the Gregorian calendar. */
static int
conf_month_days(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
		return 29;
	return days[month - 1];
}

/* n digits of s as a number, or -1. */
static int
conf_date_digits(const char *s, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

int
conf_parse_date(const char *s, int32_t *day)
{
	int64_t y;
	int year, month, mday;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	year = conf_date_digits(s, 4);
	month = conf_date_digits(s + 5, 2);
	mday = conf_date_digits(s + 8, 2);
	if (year < CONF_DATE_MIN_YEAR || month < 1 || month > 12 || mday < 1 ||
	    mday > conf_month_days(year, month))
		return -1;
	/* Days from 1970-01-01, counting March-based years. */
	y = year - (month <= 2);
	*day = (int32_t)(y * 365 + y / 4 - y / 100 + y / 400 +
	    (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + mday - 1 -
	    719468);
	return 0;
}

/*
 * The next item of a comma-separated list with the blanks around it
 * trimmed: true with *s and *len set, false after the last. *p starts at
 * the list and is NULL once the list is used up.
 */
bool
conf_list_next(const char **p, const char **s, size_t *len)
{
	const char *end, *e;

	if (*p == NULL)
		return false;
	if ((end = strchr(*p, ',')) == NULL)
		end = *p + strlen(*p);
	*s = *p;
	e = end;
	while (*s < e && isspace((unsigned char)**s))
		(*s)++;
	while (e > *s && isspace((unsigned char)e[-1]))
		e--;
	*len = (size_t)(e - *s);
	*p = *end == '\0' ? NULL : end + 1;
	return true;
}

/*
 * The first line of a password file, without its line ending. read(2)
 * into a stack buffer keeps stdio from holding a copy; the buffer is wiped.
 */
static int
conf_read_password(const char *path, char **out, char **cause)
{
	char buf[CONF_PASSWORD_MAX + 1];
	const char *nl;
	size_t len = 0, linelen;
	ssize_t n;
	int fd, saved, error = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	while (len < sizeof buf - 1) {
		n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			*cause = xasprintf("%s: %s", path, strerror(saved));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len) != NULL)
			break;
	}
	if ((nl = memchr(buf, '\n', len)) != NULL)
		linelen = (size_t)(nl - buf);
	else if (len == sizeof buf - 1) {
		*cause = xasprintf("%s: first line is longer than %d bytes",
		    path, CONF_PASSWORD_MAX);
		goto out;
	} else
		linelen = len;
	if (linelen > 0 && buf[linelen - 1] == '\r')
		linelen--;
	if (linelen == 0) {
		*cause = xasprintf("%s: first line is empty", path);
		goto out;
	}
	if (memchr(buf, '\0', linelen) != NULL) {
		*cause = xasprintf("%s: first line contains a NUL byte", path);
		goto out;
	}
	*out = xstrndup(buf, linelen);
	error = 0;
out:
	explicit_bzero(buf, sizeof buf);
	close(fd);
	return error;
}

/* Wipe and free the password. */
static void
conf_free_password(struct conf *c)
{
	if (c->redis_password != NULL) {
		explicit_bzero(c->redis_password, strlen(c->redis_password));
		free(c->redis_password);
		c->redis_password = NULL;
	}
}

/* Whether name is an office: 1..32 of A-Z a-z 0-9 . _ -, not "national". */
static bool
conf_office_valid(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > CONF_OFFICE_MAX ||
	    (len == 8 && memcmp(name, "national", 8) == 0))
		return false;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '.' &&
		    name[i] != '_' && name[i] != '-')
			return false;
	}
	return true;
}

/* Whether name is a valid benefit: 1..32 of a-z 0-9 _. */
static bool
conf_benefit_valid(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > CONF_BENEFIT_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) && name[i] != '_')
			return false;
	}
	return true;
}

/* A receiver or route name: 1..64 of A-Z a-z 0-9 _ . -. */
static bool
conf_receiver_name_valid(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > CONF_RECEIVER_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) &&
		    strchr("_.-", name[i]) == NULL)
			return false;
	}
	return true;
}

/* An indicator name: [a-z][a-z0-9_]{0,31}, a benefit's starting a-z. */
static bool
conf_indicator_name_valid(const char *name, size_t len)
{
	return len > 0 && len <= CONF_INDICATOR_NAME_MAX &&
	    islower((unsigned char)name[0]) && conf_benefit_valid(name, len);
}

/*
 * A value of an event's field (yes, no): its syntax only here, its
 * vocabulary once the section's event is known (conf_check_indicator).
 */
static bool
conf_value_valid(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > 32)
		return false;
	for (i = 0; i < len; i++) {
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) && name[i] != '_')
			return false;
	}
	return true;
}

/*
 * An email address as config gives it: "a@b" or "Name <a@b>", printable,
 * one @ in the address part. The renderer checks the finer syntax.
 */
static bool
conf_address_valid(const char *s, size_t len)
{
	const char *lt, *addr = s, *end = s + len;
	size_t i;

	if (len == 0 || len > 254)
		return false;
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"')
			return false;
	}
	if (s[len - 1] == '>') {
		if ((lt = memchr(s, '<', len)) == NULL)
			return false;
		addr = lt + 1;
		end = s + len - 1;
	}
	if (end - addr < 3 || memchr(addr, ' ', (size_t)(end - addr)) != NULL ||
	    memchr(addr, '<', (size_t)(end - addr)) != NULL)
		return false;
	lt = memchr(addr, '@', (size_t)(end - addr));
	return lt != NULL && lt > addr && lt < end - 1 &&
	    memchr(lt + 1, '@', (size_t)(end - lt - 1)) == NULL;
}

/* Free the benefits list. */
static void
conf_free_benefits(struct conf *c)
{
	int i;

	for (i = 0; i < c->nbenefits; i++) {
		free(c->benefits[i]);
		c->benefits[i] = NULL;
	}
	c->nbenefits = 0;
}

/* Parse the comma-separated benefits list; c is only changed on success. */
static int
conf_set_benefits(struct conf *c, const struct conf_key *k, const char *value,
    char **cause)
{
	char *list[CONF_MAX_BENEFITS];
	const char *p = value, *s, *e, *end;
	size_t len;
	int n = 0, i;

	if (*value == '\0') {
		*cause = xasprintf("%s: must name at least one benefit",
		    conf_key_short(k));
		return -1;
	}
	for (;;) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		s = p;
		e = end;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		len = (size_t)(e - s);
		if (len == 0) {
			*cause = xasprintf("%s: empty item in the list",
			    conf_key_short(k));
			goto fail;
		}
		if (!conf_benefit_valid(s, len)) {
			*cause = xasprintf("%s: '%.*s' is not a benefit name "
			    "(1 to %d characters of a-z, 0-9, _)",
			    conf_key_short(k), (int)len, s, CONF_BENEFIT_MAX);
			goto fail;
		}
		for (i = 0; i < n; i++) {
			if (strlen(list[i]) == len &&
			    memcmp(list[i], s, len) == 0) {
				*cause = xasprintf("%s: '%.*s' is listed twice",
				    conf_key_short(k), (int)len, s);
				goto fail;
			}
		}
		if (n == CONF_MAX_BENEFITS) {
			*cause = xasprintf("%s: more than %d benefits",
			    conf_key_short(k), CONF_MAX_BENEFITS);
			goto fail;
		}
		list[n++] = xstrndup(s, len);
		if (*end == '\0')
			break;
		p = end + 1;
	}
	conf_free_benefits(c);
	memcpy(c->benefits, list, (size_t)n * sizeof list[0]);
	c->nbenefits = n;
	return 0;

fail:
	for (i = 0; i < n; i++)
		free(list[i]);
	return -1;
}

/* Replace a string field; empty unsets keys without a default. */
static int
conf_set_string(const struct conf_key *k, char **field, const char *value,
    char **cause)
{
	if (*value == '\0' && k->def != NULL) {
		*cause = xasprintf("%s: must not be empty", conf_key_short(k));
		return -1;
	}
	free(*field);
	*field = (*value == '\0') ? NULL : xstrdup(value);
	return 0;
}

/* Set the password file and read the password from it at once. */
static int
conf_set_password_file(struct conf *c, const struct conf_key *k,
    const char *value, char **cause)
{
	char *password = NULL, *why;

	if (*value != '\0' && conf_read_password(value, &password, &why) != 0) {
		*cause = xasprintf("%s: %s", conf_key_short(k), why);
		free(why);
		return -1;
	}
	free(c->redis_password_file);
	c->redis_password_file = (*value == '\0') ? NULL : xstrdup(value);
	conf_free_password(c);
	c->redis_password = password;
	return 0;
}

/* "a or b or c" for an error message; a static buffer. */
static const char *
conf_choices_text(const char *const *choices)
{
	static char list[128];
	const char *const *ch;
	size_t len = 0;

	list[0] = '\0';
	for (ch = choices; *ch != NULL && len < sizeof list; ch++) {
		len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
		    ch == choices ? "" : " or ", *ch);
	}
	return list;
}

/* Set a value that must be one of k->choices. */
static int
conf_set_choice(const struct conf_key *k, char **field, const char *value,
    char **cause)
{
	const char *const *ch;

	for (ch = k->choices; *ch != NULL; ch++) {
		if (strcmp(value, *ch) == 0) {
			free(*field);
			*field = xstrdup(value);
			return 0;
		}
	}
	*cause = xasprintf("%s: '%s' is not %s", conf_key_short(k), value,
	    conf_choices_text(k->choices));
	return -1;
}

/* Set a date; empty unsets it. */
static int
conf_set_date(const struct conf_key *k, char **field, const char *value,
    char **cause)
{
	int32_t day;

	if (*value != '\0' && conf_parse_date(value, &day) != 0) {
		*cause = xasprintf("%s: '%s' is not a date (YYYY-MM-DD, from "
		    "%d)", conf_key_short(k), value, CONF_DATE_MIN_YEAR);
		return -1;
	}
	free(*field);
	*field = (*value == '\0') ? NULL : xstrdup(value);
	return 0;
}

/* Whether name (len long) is one of the NULL-terminated choices. */
static bool
conf_is_choice(const char *const *choices, const char *name, size_t len)
{
	for (; *choices != NULL; choices++) {
		if (strlen(*choices) == len && memcmp(*choices, name, len) == 0)
			return true;
	}
	return false;
}

/*
 * Set a comma-separated list of names, each one of k->choices or passing
 * k->name_valid, none twice; empty unsets it.
 */
static int
conf_set_names(const struct conf_key *k, char **field, const char *value,
    char **cause)
{
	const char *p = value, *q, *s, *t;
	size_t len, tlen;

	while (*value != '\0' && conf_list_next(&p, &s, &len)) {
		if (len == 0) {
			*cause = xasprintf("%s: empty item in the list",
			    conf_key_short(k));
			return -1;
		}
		if (k->choices != NULL && !conf_is_choice(k->choices, s, len)) {
			*cause = xasprintf("%s: '%.*s' is not %s",
			    conf_key_short(k), (int)len, s,
			    conf_choices_text(k->choices));
			return -1;
		}
		if (k->name_valid != NULL && !k->name_valid(s, len)) {
			*cause = xasprintf("%s: '%.*s' is not %s",
			    conf_key_short(k), (int)len, s, k->syntax);
			return -1;
		}
		for (q = value; conf_list_next(&q, &t, &tlen) && t < s;) {
			if (tlen == len && memcmp(t, s, len) == 0) {
				*cause = xasprintf("%s: '%.*s' is listed twice",
				    conf_key_short(k), (int)len, s);
				return -1;
			}
		}
	}
	free(*field);
	*field = (*value == '\0') ? NULL : xstrdup(value);
	return 0;
}

/*
 * Parse value for key k and store it at base + k->off, base being the conf
 * or one of its named sections. On error the field keeps its old value.
 */
static int
conf_set(struct conf *c, void *base, const struct conf_key *k,
    const char *value, char **cause)
{
	void *field = (char *)base + k->off;
	const char *name = conf_key_short(k);
	char *dend;
	int64_t v;
	double d;
	bool b;
	int level;

	switch (k->type) {
	case CONF_STRING:
		return conf_set_string(k, field, value, cause);
	case CONF_PASSWORD_FILE:
		return conf_set_password_file(c, k, value, cause);
	case CONF_CHOICE:
		return conf_set_choice(k, field, value, cause);
	case CONF_INT:
		if (conf_parse_int(value, &v) != 0) {
			*cause = xasprintf("%s: '%s' is not an integer", name,
			    value);
			return -1;
		}
		if (conf_check_bounds(k, v, value, cause) != 0)
			return -1;
		*(int *)field = (int)v;
		return 0;
	case CONF_SIZE:
		if (conf_parse_size(value, &v) != 0) {
			*cause = xasprintf("%s: '%s' is not a size (bytes, or "
			    "with k, M or G)", name, value);
			return -1;
		}
		if (conf_check_bounds(k, v, value, cause) != 0)
			return -1;
		*(size_t *)field = (size_t)v;
		return 0;
	case CONF_BOOL:
		if (conf_parse_bool(value, &b) != 0) {
			*cause = xasprintf("%s: '%s' is not a boolean (on/off, "
			    "yes/no, true/false, 1/0)", name, value);
			return -1;
		}
		*(bool *)field = (k->flags & CONF_INVERT) ? !b : b;
		return 0;
	case CONF_DURATION:
		if (conf_parse_duration(value, &v) != 0) {
			*cause = xasprintf("%s: '%s' is not a duration (such as "
			    "500ms, 2s, 5m, 3h, 3d, 2w, 1y)", name, value);
			return -1;
		}
		if (conf_check_bounds(k, v, value, cause) != 0)
			return -1;
		*(int64_t *)field = v;
		return 0;
	case CONF_DOUBLE:
		d = strtod(value, &dend);
		if (*value == '\0' || isspace((unsigned char)*value) ||
		    *dend != '\0' || !isfinite(d)) {
			*cause = xasprintf("%s: '%s' is not a number", name,
			    value);
			return -1;
		}
		if ((k->flags & CONF_GT_MIN) ? d <= k->dmin : d < k->dmin) {
			*cause = xasprintf("%s: %s must be %s %g", name, value,
			    (k->flags & CONF_GT_MIN) ? "greater than" :
			    "at least", k->dmin);
			return -1;
		}
		if (d > k->dmax) {
			*cause = xasprintf("%s: %s is above the maximum %g",
			    name, value, k->dmax);
			return -1;
		}
		*(double *)field = d;
		return 0;
	case CONF_LOGLEVEL:
		if ((level = log_level_parse(value)) == -1) {
			*cause = xasprintf("%s: '%s' is not a log level (debug, "
			    "info, notice, warning, error)", name, value);
			return -1;
		}
		*(int *)field = level;
		return 0;
	case CONF_LIST:
		return conf_set_benefits(c, k, value, cause);
	case CONF_DATE:
		return conf_set_date(k, field, value, cause);
	case CONF_NAMES:
		return conf_set_names(k, field, value, cause);
	}
	fatalx("conf: %s: bad key type %d", k->name, (int)k->type);
}

/*
 * Defaults are parsed from the table's text, so the struct, the table and
 * the example file cannot disagree.
 */
void
conf_default(struct conf *c)
{
	const struct conf_key *k;
	char *cause;
	size_t i;

	memset(c, 0, sizeof *c);
	for (i = 0; i < CONF_NITEMS(conf_keys); i++) {
		k = &conf_keys[i];
		if ((k->flags & CONF_NAMED) || k->def == NULL)
			continue;
		if (conf_set(c, c, k, k->def, &cause) != 0)
			fatalx("conf: default of %s: %s", k->name, cause);
	}
}

/* Free the strings the keys with flag own in a named section at base. */
static void
conf_free_named(void *base, int flag)
{
	const struct conf_key *k;
	size_t i;

	for (i = 0; i < CONF_NITEMS(conf_keys); i++) {
		k = &conf_keys[i];
		if ((k->flags & flag) && (k->type == CONF_STRING ||
		    k->type == CONF_CHOICE || k->type == CONF_DATE ||
		    k->type == CONF_NAMES))
			free(*(char **)((char *)base + k->off));
	}
}

/* Free the strings a receiver owns. */
static void
conf_free_receiver(struct conf_receiver *r)
{
	free(r->name);
	conf_free_named(r, CONF_RECEIVER);
	memset(r, 0, sizeof *r);
}

static void
conf_free_route(struct conf_route *rt)
{
	free(rt->name);
	conf_free_named(rt, CONF_ROUTE);
	memset(rt, 0, sizeof *rt);
}

static void
conf_free_indicator(struct conf_indicator *ci)
{
	free(ci->name);
	conf_free_named(ci, CONF_INDICATOR);
	memset(ci, 0, sizeof *ci);
}

/* Free the explanations and their strings. */
static void
conf_free_explanations(struct conf *c)
{
	struct conf_explanation *e;
	int i;

	for (i = 0; i < c->nexplanations; i++) {
		e = &c->explanations[i];
		free(e->id);
		free(e->kind);
		free(e->effective_from);
		free(e->effective_to);
		free(e->benefits);
		free(e->kinds);
		free(e->offices);
		free(e->reference);
		free(e->description);
		free(e->indicators);
	}
	free(c->explanations);
	c->explanations = NULL;
	c->nexplanations = 0;
}

void
conf_free(struct conf *c)
{
	const struct conf_key *k;
	size_t i;
	int j;

	if (c == NULL)
		return;
	for (i = 0; i < CONF_NITEMS(conf_keys); i++) {
		k = &conf_keys[i];
		if (k->flags & CONF_NAMED)
			continue;
		switch (k->type) {
		case CONF_STRING:
		case CONF_PASSWORD_FILE:
		case CONF_CHOICE:
		case CONF_DATE:
		case CONF_NAMES:
			free(*(char **)((char *)c + k->off));
			break;
		case CONF_LIST:
			conf_free_benefits(c);
			break;
		default:
			break;
		}
	}
	conf_free_password(c);
	free(c->http_url);
	c->http_url = NULL;
	for (j = 0; j < c->nreceivers; j++)
		conf_free_receiver(&c->receivers[j]);
	for (j = 0; j < c->nroutes; j++)
		conf_free_route(&c->routes[j]);
	for (j = 0; j < c->nindicators; j++)
		conf_free_indicator(&c->indicators[j]);
	conf_free_explanations(c);
	free(c->path);
	memset(c, 0, sizeof *c);
}

/*
 * Whether name is a valid section name: 1..max of A-Z a-z 0-9 and the
 * characters in punct.
 */
static bool
conf_section_name_valid(const char *name, size_t len, size_t max,
    const char *punct)
{
	size_t i;

	if (len == 0 || len > max)
		return false;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) &&
		    (name[i] == '\0' || strchr(punct, name[i]) == NULL))
			return false;
	}
	return true;
}

/*
 * The NAME of a [WORD "NAME"] header whose text inside the brackets is s,
 * len long: *name and *nlen, or -1 after reporting the expected form.
 */
static int
conf_named_header(struct conf_parse *p, const char *s, size_t len,
    const char *word, const char *label, size_t max, const char *punct,
    const char **name, size_t *nlen)
{
	char shown[16];
	size_t i, n = 0;

	size_t wlen = strlen(word), plen = wlen + 2;	/* WORD " */

	if (len < plen + 1 || strncmp(s, word, wlen) != 0 ||
	    strncmp(s + wlen, " \"", 2) != 0 || s[len - 1] != '"' ||
	    !conf_section_name_valid(s + plen, len - plen - 1, max, punct)) {
		/* "_.-" is shown as "_ . -". */
		for (i = 0; punct[i] != '\0' && n + 3 < sizeof shown; i++) {
			shown[n++] = ' ';
			shown[n++] = punct[i];
		}
		shown[n] = '\0';
		conf_error(p, p->lineno, "expected [%s \"%s\"], %s being 1 to "
		    "%zu characters of A-Z a-z 0-9%s", word, label, label, max,
		    shown);
		return -1;
	}
	*name = s + plen;
	*nlen = len - plen - 1;
	return 0;
}

/* Set the defaults of the keys with flag in a named section at base. */
static void
conf_named_defaults(struct conf *c, void *base, int flag)
{
	const struct conf_key *k;
	char *cause;
	size_t i;

	for (i = 0; i < CONF_NITEMS(conf_keys); i++) {
		k = &conf_keys[i];
		if (!(k->flags & flag) || k->def == NULL)
			continue;
		if (conf_set(c, base, k, k->def, &cause) != 0)
			fatalx("conf: default of %s: %s", k->name, cause);
	}
}

/* Open [receiver "NAME"] whose text inside the brackets is s, len long. */
static void
conf_open_receiver(struct conf_parse *p, const char *s, size_t len)
{
	struct conf *c = p->c;
	const char *name;
	size_t nlen;
	int i;

	if (conf_named_header(p, s, len, "receiver", "NAME", CONF_RECEIVER_MAX,
	    "_.-", &name, &nlen) == -1)
		return;
	for (i = 0; i < c->nreceivers; i++) {
		if (strlen(c->receivers[i].name) == nlen &&
		    memcmp(c->receivers[i].name, name, nlen) == 0) {
			conf_error(p, p->lineno, "receiver \"%.*s\" is already "
			    "defined at line %d", (int)nlen, name,
			    p->recv_line[i]);
			return;
		}
	}
	if (c->nreceivers == CONF_MAX_RECEIVERS) {
		conf_error(p, p->lineno, "more than %d receivers",
		    CONF_MAX_RECEIVERS);
		return;
	}
	i = c->nreceivers++;
	c->receivers[i].name = xstrndup(name, nlen);
	conf_named_defaults(c, &c->receivers[i], CONF_RECEIVER);
	p->recv_line[i] = p->lineno;
	p->recv = i;
	snprintf(p->section, sizeof p->section, "receiver");
}

/* Open [route "NAME"] whose text inside the brackets is s, len long. */
static void
conf_open_route(struct conf_parse *p, const char *s, size_t len)
{
	struct conf *c = p->c;
	const char *name;
	size_t nlen;
	int i;

	if (conf_named_header(p, s, len, "route", "NAME", CONF_RECEIVER_MAX,
	    "_.-", &name, &nlen) == -1)
		return;
	for (i = 0; i < c->nroutes; i++) {
		if (strlen(c->routes[i].name) == nlen &&
		    memcmp(c->routes[i].name, name, nlen) == 0) {
			conf_error(p, p->lineno, "route \"%.*s\" is already "
			    "defined at line %d", (int)nlen, name,
			    p->route_line[i]);
			return;
		}
	}
	if (c->nroutes == CONF_MAX_ROUTES) {
		conf_error(p, p->lineno, "more than %d routes",
		    CONF_MAX_ROUTES);
		return;
	}
	i = c->nroutes++;
	c->routes[i].name = xstrndup(name, nlen);
	conf_named_defaults(c, &c->routes[i], CONF_ROUTE);
	p->route_line[i] = p->lineno;
	p->route = i;
	snprintf(p->section, sizeof p->section, "route");
}

/* Open [indicator "NAME"] whose text inside the brackets is s, len long. */
static void
conf_open_indicator(struct conf_parse *p, const char *s, size_t len)
{
	struct conf *c = p->c;
	const char *name;
	size_t nlen;
	int i;

	if (conf_named_header(p, s, len, "indicator", "NAME",
	    CONF_INDICATOR_NAME_MAX, "_", &name, &nlen) == -1)
		return;
	if (!conf_indicator_name_valid(name, nlen)) {
		conf_error(p, p->lineno, "indicator \"%.*s\": a name is a "
		    "lower-case letter, then up to %d of a-z 0-9 _", (int)nlen,
		    name, CONF_INDICATOR_NAME_MAX - 1);
		return;
	}
	if ((nlen == 9 && memcmp(name, "rejection", 9) == 0) ||
	    (nlen == 3 && memcmp(name, "all", 3) == 0)) {
		conf_error(p, p->lineno, "indicator \"%.*s\": the name is "
		    "reserved%s", (int)nlen, name, nlen == 9 ?
		    " (the built-in rejection rate)" : "");
		return;
	}
	for (i = 0; i < c->nindicators; i++) {
		if (strlen(c->indicators[i].name) == nlen &&
		    memcmp(c->indicators[i].name, name, nlen) == 0) {
			conf_error(p, p->lineno, "indicator \"%.*s\" is "
			    "already defined at line %d", (int)nlen, name,
			    c->indicators[i].line);
			return;
		}
	}
	if (c->nindicators == CONF_MAX_INDICATORS) {
		conf_error(p, p->lineno, "more than %d indicators (besides "
		    "rejection)", CONF_MAX_INDICATORS);
		return;
	}
	i = c->nindicators++;
	memset(&c->indicators[i], 0, sizeof c->indicators[i]);
	c->indicators[i].name = xstrndup(name, nlen);
	c->indicators[i].line = p->lineno;
	p->ind = i;
	snprintf(p->section, sizeof p->section, "indicator");
}

/* Open [explanation "ID"] whose text inside the brackets is s, len long. */
static void
conf_open_explanation(struct conf_parse *p, const char *s, size_t len)
{
	struct conf *c = p->c;
	const char *id;
	size_t idlen;
	int i;

	if (conf_named_header(p, s, len, "explanation", "ID",
	    CONF_EXPLANATION_ID_MAX, "._:-", &id, &idlen) == -1)
		return;
	for (i = 0; i < c->nexplanations; i++) {
		if (strlen(c->explanations[i].id) == idlen &&
		    memcmp(c->explanations[i].id, id, idlen) == 0) {
			conf_error(p, p->lineno, "explanation \"%.*s\" is "
			    "already defined at line %d", (int)idlen, id,
			    c->explanations[i].line);
			return;
		}
	}
	if (c->nexplanations == CONF_MAX_EXPLANATIONS) {
		conf_error(p, p->lineno, "more than %d explanations",
		    CONF_MAX_EXPLANATIONS);
		return;
	}
	c->explanations = xreallocarray(c->explanations,
	    (size_t)c->nexplanations + 1, sizeof *c->explanations);
	i = c->nexplanations++;
	memset(&c->explanations[i], 0, sizeof c->explanations[i]);
	c->explanations[i].id = xstrndup(id, idlen);
	c->explanations[i].line = p->lineno;
	p->expl = i;
	snprintf(p->section, sizeof p->section, "explanation");
}

/*
 * A section header line starting at s ('['). inih truncates long section
 * names and never tells the handler about empty sections, so the section
 * is tracked here instead.
 */
static void
conf_open_section(struct conf_parse *p, const char *s)
{
	const char *end, *name = s + 1, *t;
	size_t len;

	if ((end = strchr(name, ']')) == NULL)
		return;		/* inih reports it as a syntax error */
	for (t = end + 1; isspace((unsigned char)*t); t++)
		/* nothing */;
	if (*t != '\0' && *t != ';' && *t != '#') {
		conf_error(p, p->lineno, "unexpected text after the section "
		    "header");
		return;
	}
	len = (size_t)(end - name);
	p->recv = -1;
	p->expl = -1;
	p->route = -1;
	p->ind = -1;
	p->section[0] = '\0';
	if (len >= 8 && strncmp(name, "receiver", 8) == 0 &&
	    (len == 8 || name[8] == ' ' || name[8] == '"')) {
		conf_open_receiver(p, name, len);
		return;
	}
	if (len >= 5 && strncmp(name, "route", 5) == 0 &&
	    (len == 5 || name[5] == ' ' || name[5] == '"')) {
		conf_open_route(p, name, len);
		return;
	}
	if (len >= 9 && strncmp(name, "indicator", 9) == 0 &&
	    (len == 9 || name[9] == ' ' || name[9] == '"')) {
		conf_open_indicator(p, name, len);
		return;
	}
	if (len >= 11 && strncmp(name, "explanation", 11) == 0 &&
	    (len == 11 || name[11] == ' ' || name[11] == '"')) {
		conf_open_explanation(p, name, len);
		return;
	}
	if (len >= sizeof p->section || !conf_section_known(name, len)) {
		conf_error(p, p->lineno, "unknown section [%.*s]", (int)len,
		    name);
		return;
	}
	memcpy(p->section, name, len);
	p->section[len] = '\0';
}

/*
 * inih's reader: hand over one line at a time, so that p->lineno is the
 * line the handler is called for. Leading blanks are removed to keep inih
 * from taking an indented key for a continuation of the previous value.
 * Returning NULL stops inih at the first error.
 */
static char *
conf_read_line(char *str, int num, void *arg)
{
	struct conf_parse *p = arg;
	ssize_t n;
	size_t len;
	char *s;

	if (p->error != NULL)
		return NULL;
	errno = 0;
	if ((n = getline(&p->line, &p->linesz, p->f)) == -1) {
		if (ferror(p->f))
			conf_error(p, 0, "%s", strerror(errno));
		return NULL;
	}
	p->lineno++;
	len = (size_t)n;
	if (len > 0 && p->line[len - 1] == '\n')
		p->line[--len] = '\0';
	if (len > 0 && p->line[len - 1] == '\r')
		p->line[--len] = '\0';
	if (strlen(p->line) != len) {
		conf_error(p, p->lineno, "line contains a NUL byte");
		return NULL;
	}
	s = p->line;
	if (p->lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;		/* UTF-8 byte order mark */
	while (isspace((unsigned char)*s))
		s++;
	if (strlen(s) >= (size_t)num) {
		conf_error(p, p->lineno, "line is longer than %d characters",
		    num - 1);
		return NULL;
	}
	if (*s == '[') {
		conf_open_section(p, s);
		if (p->error != NULL)
			return NULL;
	}
	memcpy(str, s, strlen(s) + 1);
	return str;
}

/* Whether key i was seen before in a named section; marks it seen. */
static bool
conf_seen(uint64_t *bits, int i)
{
	uint64_t bit = UINT64_C(1) << (i % 64);
	bool seen = (bits[i / 64] & bit) != 0;

	bits[i / 64] |= bit;
	return seen;
}

/* Whether key i was given in a named section. */
static bool
conf_was_seen(const uint64_t *bits, int i)
{
	return (bits[i / 64] & (UINT64_C(1) << (i % 64))) != 0;
}

/* inih's handler: look the key up in the table and set it. */
static int
conf_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct conf_parse *p = arg;
	struct conf_receiver *r = NULL;
	struct conf_explanation *e = NULL;
	struct conf_route *rt = NULL;
	struct conf_indicator *ci = NULL;
	void *base = p->c;
	char *cause;
	int i;

	(void)section;	/* possibly truncated: p->section is used instead */
	if (p->error != NULL)
		return 0;
	if (p->section[0] == '\0') {
		conf_error(p, p->lineno, "key '%s' is outside any section",
		    name);
		return 0;
	}
	if ((i = conf_key_find(p->section, name)) == -1) {
		if (p->recv != -1)
			conf_error(p, p->lineno, "unknown key '%s' in section "
			    "[receiver \"%s\"]", name,
			    p->c->receivers[p->recv].name);
		else if (p->expl != -1)
			conf_error(p, p->lineno, "unknown key '%s' in section "
			    "[explanation \"%s\"]", name,
			    p->c->explanations[p->expl].id);
		else if (p->route != -1)
			conf_error(p, p->lineno, "unknown key '%s' in section "
			    "[route \"%s\"]", name, p->c->routes[p->route].name);
		else if (p->ind != -1)
			conf_error(p, p->lineno, "unknown key '%s' in section "
			    "[indicator \"%s\"]", name,
			    p->c->indicators[p->ind].name);
		else
			conf_error(p, p->lineno, "unknown key '%s' in section "
			    "[%s]", name, p->section);
		return 0;
	}
	if (p->recv != -1) {
		r = &p->c->receivers[p->recv];
		if (conf_seen(p->recv_seen[p->recv], i)) {
			conf_error(p, p->lineno, "receiver \"%s\": %s is given "
			    "twice", r->name, name);
			return 0;
		}
		if (strcmp(name, "url") == 0)
			p->url_line[p->recv] = p->lineno;
		base = r;
	}
	if (p->expl != -1) {
		e = &p->c->explanations[p->expl];
		if (conf_seen(p->expl_seen[p->expl], i)) {
			conf_error(p, p->lineno, "explanation \"%s\": %s is "
			    "given twice", e->id, name);
			return 0;
		}
		if (strcmp(name, "effective_from") == 0)
			p->expl_from_line[p->expl] = p->lineno;
		else if (strcmp(name, "effective_to") == 0)
			p->expl_to_line[p->expl] = p->lineno;
		else if (strcmp(name, "benefits") == 0)
			p->expl_benefits_line[p->expl] = p->lineno;
		else if (strcmp(name, "indicators") == 0)
			p->expl_indicators_line[p->expl] = p->lineno;
		base = e;
	}
	if (p->route != -1) {
		rt = &p->c->routes[p->route];
		if (conf_seen(p->route_seen[p->route], i)) {
			conf_error(p, p->lineno, "route \"%s\": %s is given "
			    "twice", rt->name, name);
			return 0;
		}
		base = rt;
	}
	if (p->ind != -1) {
		ci = &p->c->indicators[p->ind];
		if (p->ind_key_line[p->ind][i] != 0) {
			conf_error(p, p->lineno, "indicator \"%s\": %s is "
			    "given twice", ci->name, name);
			return 0;
		}
		p->ind_key_line[p->ind][i] = p->lineno;
		base = ci;
	}
	/* For the tokens file's errors, which come after parsing. */
	if (strcmp(p->section, "http") == 0 && strcmp(name, "tokens_file") == 0)
		p->c->tokens_file_line = p->lineno;
	if (conf_set(p->c, base, &conf_keys[i], value, &cause) != 0) {
		if (e != NULL)
			conf_error(p, p->lineno, "explanation \"%s\": %s",
			    e->id, cause);
		else if (r != NULL)
			conf_error(p, p->lineno, "receiver \"%s\": %s",
			    r->name, cause);
		else if (rt != NULL)
			conf_error(p, p->lineno, "route \"%s\": %s",
			    rt->name, cause);
		else if (ci != NULL)
			conf_error(p, p->lineno, "indicator \"%s\": %s",
			    ci->name, cause);
		else
			conf_error(p, p->lineno, "%s", cause);
		free(cause);
		return 0;
	}
	p->key_line[i] = p->lineno;
	return 1;
}

/* Whether url starts with scheme and has something after it. */
static bool
conf_url_has_scheme(const char *url, const char *scheme)
{
	size_t len = strlen(scheme);

	return strncasecmp(url, scheme, len) == 0 && url[len] != '\0';
}

/* Keys that belong to one receiver type only. */
static const char *const conf_webhook_keys[] = { "secret_file",
    "bearer_token_file", "headers_file", NULL };
static const char *const conf_email_keys[] = { "starttls", "auth_file",
    "from", "to", "cc", "template", NULL };

/* Report a key of keys given in receiver i, which is not of type. */
static void
conf_check_keys_for(struct conf_parse *p, int i, const char *type,
    const char *const *keys)
{
	const struct conf_receiver *r = &p->c->receivers[i];

	for (; *keys != NULL; keys++) {
		if (conf_was_seen(p->recv_seen[i], conf_key_find("receiver",
		    *keys))) {
			conf_error(p, p->recv_line[i], "receiver \"%s\": %s is "
			    "for %s receivers only", r->name, *keys, type);
			return;
		}
	}
}

/* Check a receiver once all its keys are known. */
static void
conf_check_receiver(struct conf_parse *p, int i)
{
	struct conf_receiver *r = &p->c->receivers[i];
	const char *s;

	if (r->type == NULL) {
		conf_error(p, p->recv_line[i], "receiver \"%s\": missing type",
		    r->name);
		return;
	}
	if (r->url == NULL) {
		conf_error(p, p->recv_line[i], "receiver \"%s\": missing url",
		    r->name);
		return;
	}
	for (s = r->url; *s != '\0'; s++) {
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s)) {
			conf_error(p, p->url_line[i], "receiver \"%s\": url "
			    "contains white space", r->name);
			return;
		}
	}
	if (strcmp(r->type, "webhook") == 0) {
		if (!conf_url_has_scheme(r->url, "http://") &&
		    !conf_url_has_scheme(r->url, "https://"))
			conf_error(p, p->url_line[i], "receiver \"%s\": a "
			    "webhook url must start with http:// or https://",
			    r->name);
		conf_check_keys_for(p, i, "email", conf_email_keys);
		return;
	}
	if (!conf_url_has_scheme(r->url, "smtp://") &&
	    !conf_url_has_scheme(r->url, "smtps://")) {
		conf_error(p, p->url_line[i], "receiver \"%s\": an email url "
		    "must start with smtp:// or smtps://", r->name);
		return;
	}
	conf_check_keys_for(p, i, "webhook", conf_webhook_keys);
	if (r->from == NULL || !conf_address_valid(r->from, strlen(r->from)))
		conf_error(p, p->recv_line[i], "receiver \"%s\": from must be "
		    "an address, 'a@b' or 'Name <a@b>'", r->name);
	else if (r->to == NULL)
		conf_error(p, p->recv_line[i], "receiver \"%s\": missing to",
		    r->name);
	else if (conf_url_has_scheme(r->url, "smtps://") &&
	    conf_was_seen(p->recv_seen[i], conf_key_find("receiver",
	    "starttls")))
		conf_error(p, p->recv_line[i], "receiver \"%s\": starttls does "
		    "not apply to smtps://, which is TLS from the start",
		    r->name);
}

/* NULL-safe string equality. */
static bool
conf_str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Whether list (comma-separated) names name, len long. */
static bool
conf_list_has(const char *list, const char *name, size_t len)
{
	const char *s;
	size_t slen;

	while (list != NULL && conf_list_next(&list, &s, &slen)) {
		if (slen == len && memcmp(s, name, len) == 0)
			return true;
	}
	return false;
}

/* The line key of section i was set on, 0 when not given. */
static int
conf_indicator_line(struct conf_parse *p, int i, const char *key)
{
	return p->ind_key_line[i][conf_key_find("indicator", key)];
}

/* The event kind's index in conf_events, -1 when unknown. */
static int
conf_event_index(const char *event)
{
	int e;

	for (e = 0; event != NULL && conf_events[e] != NULL; e++) {
		if (strcmp(conf_events[e], event) == 0)
			return e;
	}
	return -1;
}

/*
 * Check an indicator once the whole file is read: required keys at the
 * header's line, the rest at the line of the key that is wrong.
 */
static void
conf_check_indicator(struct conf_parse *p, int i)
{
	const struct conf_indicator *ci = &p->c->indicators[i];
	const char *const *vocab;
	const char *list, *s, *key;
	size_t len;
	int e, line;
	bool detail;

	if (ci->event == NULL || ci->yes == NULL || ci->no == NULL) {
		conf_error(p, ci->line, "indicator \"%s\": missing %s",
		    ci->name, ci->event == NULL ? "event" :
		    ci->yes == NULL ? "yes" : "no");
		return;
	}
	e = conf_event_index(ci->event);
	detail = ci->field != NULL && strcmp(ci->field, "outcome") != 0;
	if (detail && e != 0) {
		conf_error(p, conf_indicator_line(p, i, "field"), "indicator "
		    "\"%s\": field %s is for event decision only", ci->name,
		    ci->field);
		return;
	}
	vocab = detail ? conf_supplement : conf_event_outcomes[e];
	for (key = "yes"; key != NULL; key = key[0] == 'y' ? "no" : NULL) {
		list = key[0] == 'y' ? ci->yes : ci->no;
		line = conf_indicator_line(p, i, key);
		while (list != NULL && conf_list_next(&list, &s, &len)) {
			if (!conf_is_choice(vocab, s, len)) {
				conf_error(p, line, "indicator \"%s\": %s: "
				    "'%.*s' is not %s, the %s of %s %s",
				    ci->name, key, (int)len, s,
				    conf_choices_text(vocab), detail ?
				    "values" : "outcomes", detail ? "field" :
				    "event", detail ? ci->field : ci->event);
				return;
			}
			if (key[0] == 'n' && conf_list_has(ci->yes, s, len)) {
				conf_error(p, line, "indicator \"%s\": '%.*s' "
				    "is in both yes and no", ci->name, (int)len,
				    s);
				return;
			}
		}
	}
	if (ci->checkpoint != NULL && e != 3) {
		conf_error(p, conf_indicator_line(p, i, "checkpoint"),
		    "indicator \"%s\": checkpoint is for event assessment "
		    "only", ci->name);
		return;
	}
	if (ci->changed_to != NULL && e != 1) {
		conf_error(p, conf_indicator_line(p, i, "changed_to"),
		    "indicator \"%s\": changed_to is for event "
		    "reconsideration only", ci->name);
		return;
	}
	if (ci->label != NULL && strlen(ci->label) > CONF_INDICATOR_LABEL_MAX) {
		conf_error(p, conf_indicator_line(p, i, "label"), "indicator "
		    "\"%s\": label is longer than %d bytes", ci->name,
		    CONF_INDICATOR_LABEL_MAX);
		return;
	}
	if (ci->description != NULL &&
	    strlen(ci->description) > CONF_INDICATOR_DESCRIPTION_MAX) {
		conf_error(p, conf_indicator_line(p, i, "description"),
		    "indicator \"%s\": description is longer than %d bytes",
		    ci->name, CONF_INDICATOR_DESCRIPTION_MAX);
		return;
	}
	if (ci->stream == NULL)
		return;
	line = conf_indicator_line(p, i, "stream");
	if (strlen(ci->stream) > CONF_INDICATOR_STREAM_MAX)
		conf_error(p, line, "indicator \"%s\": stream is longer than "
		    "%d bytes", ci->name, CONF_INDICATOR_STREAM_MAX);
	else if (conf_str_equal(ci->stream, p->c->deadletter))
		conf_error(p, line, "indicator \"%s\": stream must not be "
		    "redis.deadletter", ci->name);
}

/*
 * An indicators list (route, explanation): every name is rejection or a
 * configured indicator. 0, or -1 after reporting at line.
 */
static int
conf_check_indicator_names(struct conf_parse *p, int line, const char *what,
    const char *list)
{
	const char *s;
	size_t len;
	int j, found;

	while (list != NULL && conf_list_next(&list, &s, &len)) {
		found = len == 9 && memcmp(s, "rejection", 9) == 0;
		for (j = 0; j < p->c->nindicators && !found; j++)
			found = strlen(p->c->indicators[j].name) == len &&
			    memcmp(p->c->indicators[j].name, s, len) == 0;
		if (!found) {
			conf_error(p, line, "%s: indicators: '%.*s' is not "
			    "rejection or a configured indicator", what,
			    (int)len, s);
			return -1;
		}
	}
	return 0;
}

/* Check a route once all its keys and every receiver are known. */
static void
conf_check_route(struct conf_parse *p, int i)
{
	const struct conf_route *rt = &p->c->routes[i];
	const char *list, *s;
	char what[CONF_RECEIVER_MAX + 16];
	size_t len;
	int j, found;

	if (!conf_was_seen(p->route_seen[i], conf_key_find("route",
	    "receivers"))) {
		conf_error(p, p->route_line[i], "route \"%s\": missing "
		    "receivers (leave it empty to record alerts only)",
		    rt->name);
		return;
	}
	list = rt->receivers;
	while (list != NULL && conf_list_next(&list, &s, &len)) {
		for (found = 0, j = 0; j < p->c->nreceivers && !found; j++)
			found = strlen(p->c->receivers[j].name) == len &&
			    memcmp(p->c->receivers[j].name, s, len) == 0;
		if (!found) {
			conf_error(p, p->route_line[i], "route \"%s\": "
			    "receivers: '%.*s' is not a defined receiver",
			    rt->name, (int)len, s);
			return;
		}
	}
	list = rt->benefits;
	while (list != NULL && conf_list_next(&list, &s, &len)) {
		if (conf_benefit_index(p->c, s, len) == -1) {
			conf_error(p, p->route_line[i], "route \"%s\": "
			    "benefits: '%.*s' is not a configured benefit",
			    rt->name, (int)len, s);
			return;
		}
	}
	snprintf(what, sizeof what, "route \"%s\"", rt->name);
	if (conf_check_indicator_names(p, p->route_line[i], what,
	    rt->indicators) == -1)
		return;
	if (rt->repeat_interval_ms != 0 && rt->repeat_interval_ms < CONF_SEC)
		conf_error(p, p->route_line[i], "route \"%s\": "
		    "repeat_interval must be 0 (never) or at least 1s",
		    rt->name);
}

/* The later of the lines where two keys were set, 0 if both defaults. */
static int
conf_later_line(struct conf_parse *p, const char *a, const char *b)
{
	int la = p->key_line[conf_key_find("redis", a)];
	int lb = p->key_line[conf_key_find("redis", b)];

	return la > lb ? la : lb;
}

/* The later of the lines where two keys of section were set. */
static int
conf_later_key_line(struct conf_parse *p, const char *section, const char *a,
    const char *b)
{
	int la = p->key_line[conf_key_find(section, a)];
	int lb = p->key_line[conf_key_find(section, b)];

	return la > lb ? la : lb;
}

/*
 * Check an explanation once the whole file is read: its required keys,
 * its dates in order, and its benefits against the [benefits] list, which
 * may come later in the file.
 */
static void
conf_check_explanation(struct conf_parse *p, int i)
{
	const struct conf_explanation *e = &p->c->explanations[i];
	const char *list, *s;
	char what[CONF_EXPLANATION_ID_MAX + 24];
	int32_t from, to;
	size_t len;
	int line;

	if (e->kind == NULL) {
		conf_error(p, e->line, "explanation \"%s\": missing kind",
		    e->id);
		return;
	}
	if (e->effective_from == NULL) {
		conf_error(p, e->line, "explanation \"%s\": missing "
		    "effective_from", e->id);
		return;
	}
	if (e->effective_to != NULL &&
	    conf_parse_date(e->effective_from, &from) == 0 &&
	    conf_parse_date(e->effective_to, &to) == 0 && to < from) {
		line = p->expl_to_line[i] > p->expl_from_line[i] ?
		    p->expl_to_line[i] : p->expl_from_line[i];
		conf_error(p, line, "explanation \"%s\": effective_to is "
		    "before effective_from", e->id);
		return;
	}
	list = e->benefits;
	while (list != NULL && conf_list_next(&list, &s, &len)) {
		if (conf_benefit_index(p->c, s, len) == -1) {
			conf_error(p, p->expl_benefits_line[i], "explanation "
			    "\"%s\": benefits: '%.*s' is not a configured "
			    "benefit", e->id, (int)len, s);
			return;
		}
	}
	snprintf(what, sizeof what, "explanation \"%s\"", e->id);
	(void)conf_check_indicator_names(p, p->expl_indicators_line[i], what,
	    e->indicators);
}

/*
 * http.public_url: an http(s) URL with a host, printable ASCII, and no
 * query or fragment, since the links append their path to it.
 */
static void
conf_check_public_url(struct conf_parse *p)
{
	const char *url = p->c->http_public_url, *s;
	int line = p->key_line[conf_key_find("http", "public_url")];

	for (s = url; *s != '\0'; s++) {
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f ||
		    *s == '?' || *s == '#') {
			conf_error(p, line, "public_url: no blanks, control "
			    "characters, non-ASCII, '?' or '#' allowed");
			return;
		}
	}
	if (strncasecmp(url, "http://", 7) == 0)
		s = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		s = url + 8;
	else {
		conf_error(p, line, "public_url must start with http:// or "
		    "https://");
		return;
	}
	if (*s == '\0' || *s == '/')
		conf_error(p, line, "public_url has no host");
}

/* Whether s is 1 to max printable ASCII characters without blanks. */
static bool
conf_token_valid(const char *s, size_t max)
{
	size_t len = strlen(s), i;

	if (len == 0 || len > max)
		return false;
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	}
	return true;
}

int
conf_parse_hostport(const char *s, size_t len, char *host, size_t hostsz,
    int *port)
{
	const char *colon, *h = s, *hend;
	int64_t v;
	char digits[8];
	size_t n, i;

	if (len > 0 && s[0] == '[') {
		if ((hend = memchr(s, ']', len)) == NULL || hend + 1 >= s + len ||
		    hend[1] != ':')
			return -1;
		h = s + 1;
		colon = hend + 1;
	} else {
		if ((colon = memrchr(s, ':', len)) == NULL ||
		    memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -1;
		hend = colon;
	}
	n = (size_t)(hend - h);
	if (n == 0 || n >= hostsz)
		return -1;
	for (i = 0; i < n; i++) {
		if ((unsigned char)h[i] <= ' ' || (unsigned char)h[i] >= 0x7f ||
		    h[i] == '[' || h[i] == ']' || h[i] == ',')
			return -1;
	}
	len = (size_t)(s + len - colon - 1);
	if (len == 0 || len >= sizeof digits)
		return -1;
	memcpy(digits, colon + 1, len);
	digits[len] = '\0';
	if (conf_parse_int(digits, &v) != 0 || v < 1 || v > 65535)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (int)v;
	return 0;
}

/*
 * redis.sentinels and redis.master_name: a list of at most
 * CONF_MAX_SENTINELS distinct host:port, a master name exactly with it,
 * and no address of the master given beside it.
 */
static void
conf_check_sentinels(struct conf_parse *p)
{
	const struct conf *c = p->c;
	const char *list = c->redis_sentinels, *s, *seen[CONF_MAX_SENTINELS];
	char host[256];
	size_t len, seenlen[CONF_MAX_SENTINELS];
	int line = p->key_line[conf_key_find("redis", "sentinels")];
	int mline = p->key_line[conf_key_find("redis", "master_name")];
	int n = 0, i, port;
	static const char *const direct[] = { "host", "port", "socket" };

	if (c->redis_sentinels == NULL) {
		if (c->redis_master_name != NULL)
			conf_error(p, mline, "master_name is only used with "
			    "sentinels");
		return;
	}
	while (conf_list_next(&list, &s, &len)) {
		if (conf_parse_hostport(s, len, host, sizeof host,
		    &port) == -1) {
			conf_error(p, line, "sentinels: '%.*s' is not host:port "
			    "or [v6]:port", (int)len, s);
			return;
		}
		if (n == CONF_MAX_SENTINELS) {
			conf_error(p, line, "sentinels: more than %d",
			    CONF_MAX_SENTINELS);
			return;
		}
		for (i = 0; i < n; i++) {
			if (seenlen[i] == len && memcmp(seen[i], s, len) == 0) {
				conf_error(p, line, "sentinels: '%.*s' is given "
				    "twice", (int)len, s);
				return;
			}
		}
		seen[n] = s;
		seenlen[n++] = len;
	}
	if (n == 0) {
		conf_error(p, line, "sentinels: no host:port given");
		return;
	}
	if (c->redis_master_name == NULL) {
		conf_error(p, line, "sentinels need master_name");
		return;
	}
	if (!conf_token_valid(c->redis_master_name, 64)) {
		conf_error(p, mline, "master_name: 1 to 64 printable "
		    "characters, no blanks");
		return;
	}
	for (i = 0; i < 3; i++) {
		if ((line = p->key_line[conf_key_find("redis",
		    direct[i])]) != 0) {
			conf_error(p, line, "%s: the master is found through "
			    "redis.sentinels; remove it", direct[i]);
			return;
		}
	}
}

/* Whether key starts with prefix. */
static bool
conf_has_prefix(const char *key, const char *prefix)
{
	return key != NULL && strncmp(key, prefix, strlen(prefix)) == 0;
}

/*
 * [ha]: the instance name exactly when enabled, a prefix that no stream
 * read or written falls under, a peer timeout that spans two heartbeats.
 * In HA mode each instance reads in a group of its own, so an unset
 * redis.group becomes stabild-INSTANCE.
 */
static void
conf_check_ha(struct conf_parse *p)
{
	struct conf *c = p->c;
	const char *s;
	int line = p->key_line[conf_key_find("ha", "instance")];
	int pline = p->key_line[conf_key_find("ha", "prefix")];
	int i;

	if (!c->ha_enabled) {
		if (c->ha_instance != NULL)
			conf_error(p, line, "instance is set but ha.enabled is "
			    "off");
		return;
	}
	if (c->ha_instance == NULL) {
		conf_error(p, p->key_line[conf_key_find("ha", "enabled")],
		    "ha.enabled needs ha.instance");
		return;
	}
	for (s = c->ha_instance; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' &&
		    *s != '-')
			break;
	}
	if (*s != '\0' || s == c->ha_instance || s - c->ha_instance > 64) {
		conf_error(p, line, "instance: 1 to 64 characters of A-Z a-z "
		    "0-9 . _ -");
		return;
	}
	if (!conf_token_valid(c->ha_prefix, 64)) {
		conf_error(p, pline, "prefix: 1 to 64 printable characters, "
		    "no blanks");
		return;
	}
	if (conf_has_prefix(c->stream, c->ha_prefix) ||
	    conf_has_prefix(c->deadletter, c->ha_prefix)) {
		conf_error(p, pline, "prefix: redis.stream and redis.deadletter "
		    "must not start with it");
		return;
	}
	for (i = 0; i < c->nindicators; i++) {
		if (conf_has_prefix(c->indicators[i].stream, c->ha_prefix)) {
			conf_error(p, pline, "prefix: indicator \"%s\"'s "
			    "stream must not start with it",
			    c->indicators[i].name);
			return;
		}
		/*
		 * A stream of its own is read beside the decisions, in an
		 * order that depends on timing: the instances would differ.
		 */
		if (c->indicators[i].stream != NULL &&
		    !conf_str_equal(c->indicators[i].stream, c->stream)) {
			conf_error(p, conf_indicator_line(p, i, "stream"),
			    "indicator \"%s\": a stream of its own is not "
			    "supported with ha.enabled = on (the instances "
			    "would read it in a different order)",
			    c->indicators[i].name);
			return;
		}
	}
	if (c->ha_peer_timeout_ms < 2 * c->ha_heartbeat_ms) {
		conf_error(p, conf_later_key_line(p, "ha", "peer_timeout",
		    "heartbeat"), "peer_timeout must be at least twice the "
		    "heartbeat");
		return;
	}
	if (p->key_line[conf_key_find("redis", "group")] == 0) {
		free(c->group);
		c->group = xasprintf("stabild-%s", c->ha_instance);
	}
}

/* Checks across keys, once the whole file is read. */
static void
conf_check(struct conf_parse *p)
{
	struct conf *c = p->c;
	int i, line;

	if (conf_str_equal(c->stream, c->deadletter)) {
		line = conf_later_line(p, "stream", "deadletter");
		conf_error(p, line, "stream and deadletter must differ");
	}
	if (c->group == NULL || *c->group == '\0' ||
	    c->consumer == NULL || *c->consumer == '\0') {
		line = conf_later_line(p, "group", "consumer");
		conf_error(p, line, "group and consumer must not be empty");
	}
	if (c->lateness_ms >= c->retention_ms) {
		line = p->key_line[conf_key_find("periods", "lateness")];
		if (p->key_line[conf_key_find("periods", "retention")] > line)
			line = p->key_line[conf_key_find("periods",
			    "retention")];
		conf_error(p, line, "lateness must be shorter than retention");
	}
	if (c->min_reference_weeks > c->reference_weeks) {
		line = conf_later_key_line(p, "detector", "min_reference_weeks",
		    "reference_weeks");
		conf_error(p, line, "min_reference_weeks must not exceed "
		    "reference_weeks");
	}
	if (c->explain_before_ms % CONF_DAY != 0) {
		line = p->key_line[conf_key_find("detector", "explain_before")];
		conf_error(p, line, "explain_before must be whole days");
	}
	if (c->explain_after_ms % CONF_DAY != 0) {
		line = p->key_line[conf_key_find("detector", "explain_after")];
		conf_error(p, line, "explain_after must be whole days");
	}
	if (c->http_public_url != NULL)
		conf_check_public_url(p);
	for (i = 0; i < c->nreceivers; i++)
		conf_check_receiver(p, i);
	for (i = 0; i < c->nindicators; i++)
		conf_check_indicator(p, i);
	for (i = 0; i < c->nroutes; i++)
		conf_check_route(p, i);
	for (i = 0; i < c->nexplanations; i++)
		conf_check_explanation(p, i);
	conf_check_sentinels(p);
	conf_check_ha(p);
}

int
conf_load(struct conf *c, const char *path, char **cause)
{
	struct conf_parse p;
	int ret;

	*cause = NULL;
	free(c->path);
	c->path = xstrdup(path);

	memset(&p, 0, sizeof p);
	p.c = c;
	p.recv = -1;
	p.expl = -1;
	p.route = -1;
	p.ind = -1;
	if ((p.f = fopen(path, "re")) == NULL) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	ret = ini_parse_stream(conf_read_line, &p, conf_handler, &p);
	if (ret == 0 && p.error == NULL)
		conf_check(&p);
	fclose(p.f);
	free(p.line);

	/* inih reports lines where it could not parse; the rest is ours. */
	if (ret == -2)
		*cause = xasprintf("%s: out of memory", path);
	else if (ret > 0 && (p.error == NULL || ret < p.errline))
		*cause = xasprintf("%s:%d: syntax error", path, ret);
	else if (p.error != NULL && p.errline > 0)
		*cause = xasprintf("%s:%d: %s", path, p.errline, p.error);
	else if (p.error != NULL)
		*cause = xasprintf("%s: %s", path, p.error);
	free(p.error);
	return *cause == NULL ? 0 : -1;
}

/* Whether key k has the same value in a and b. */
static bool
conf_key_equal(const struct conf_key *k, const struct conf *a,
    const struct conf *b)
{
	const void *fa = (const char *)a + k->off;
	const void *fb = (const char *)b + k->off;
	int i;

	switch (k->type) {
	case CONF_STRING:
	case CONF_CHOICE:
	case CONF_DATE:
	case CONF_NAMES:
		return conf_str_equal(*(char *const *)fa, *(char *const *)fb);
	case CONF_PASSWORD_FILE:
		/* A new password in the same file needs a restart too. */
		return conf_str_equal(*(char *const *)fa,
		    *(char *const *)fb) &&
		    conf_str_equal(a->redis_password, b->redis_password);
	case CONF_INT:
	case CONF_LOGLEVEL:
		return *(const int *)fa == *(const int *)fb;
	case CONF_SIZE:
		return *(const size_t *)fa == *(const size_t *)fb;
	case CONF_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case CONF_DURATION:
		return *(const int64_t *)fa == *(const int64_t *)fb;
	case CONF_DOUBLE:
		return *(const double *)fa == *(const double *)fb;
	case CONF_LIST:
		if (a->nbenefits != b->nbenefits)
			return false;
		for (i = 0; i < a->nbenefits; i++) {
			if (strcmp(a->benefits[i], b->benefits[i]) != 0)
				return false;
		}
		return true;
	}
	return false;
}

/* Whether a key of a named section has the same value at bases a, b. */
static bool
conf_named_equal(const struct conf_key *k, const void *a, const void *b)
{
	const void *fa = (const char *)a + k->off;
	const void *fb = (const char *)b + k->off;

	switch (k->type) {
	case CONF_STRING:
	case CONF_CHOICE:
	case CONF_DATE:
	case CONF_NAMES:
		return conf_str_equal(*(char *const *)fa, *(char *const *)fb);
	case CONF_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case CONF_DOUBLE:
		return *(const double *)fa == *(const double *)fb;
	default:
		return false;
	}
}

/*
 * Indicators need a restart to be added, removed, reordered or to count
 * otherwise (the checkpoint's append-only rule): report each as
 * "indicator.NAME" or "indicator.NAME.KEY".
 */
static int
conf_changed_indicators(const struct conf *old, const struct conf *new,
    void (*report)(const char *key, void *arg), void *arg)
{
	const struct conf_indicator *a, *b;
	const struct conf_key *k;
	char name[CONF_INDICATOR_NAME_MAX + 64];
	size_t j;
	int i, n = 0;

	for (i = 0; i < old->nindicators || i < new->nindicators; i++) {
		a = i < old->nindicators ? &old->indicators[i] : NULL;
		b = i < new->nindicators ? &new->indicators[i] : NULL;
		if (a == NULL || b == NULL || strcmp(a->name, b->name) != 0) {
			if (report != NULL && a != NULL) {
				snprintf(name, sizeof name, "indicator.%s",
				    a->name);
				report(name, arg);
			}
			if (report != NULL && b != NULL) {
				snprintf(name, sizeof name, "indicator.%s",
				    b->name);
				report(name, arg);
			}
			n++;
			continue;
		}
		for (j = 0; j < CONF_NITEMS(conf_keys); j++) {
			k = &conf_keys[j];
			if (!(k->flags & CONF_INDICATOR) ||
			    (k->flags & CONF_RELOAD) ||
			    conf_named_equal(k, a, b))
				continue;
			if (report != NULL) {
				snprintf(name, sizeof name, "indicator.%s.%s",
				    a->name, conf_key_short(k));
				report(name, arg);
			}
			n++;
		}
	}
	return n;
}

int
conf_changed_nonreloadable(const struct conf *old, const struct conf *new,
    void (*report)(const char *key, void *arg), void *arg)
{
	const struct conf_key *k;
	size_t i;
	int n = 0;

	for (i = 0; i < CONF_NITEMS(conf_keys); i++) {
		k = &conf_keys[i];
		if (k->flags & (CONF_RELOAD | CONF_NAMED))
			continue;
		if (conf_key_equal(k, old, new))
			continue;
		if (report != NULL)
			report(k->name, arg);
		n++;
	}
	return n + conf_changed_indicators(old, new, report, arg);
}

int
conf_benefit_index(const struct conf *c, const char *name, size_t len)
{
	int i;

	for (i = 0; i < c->nbenefits; i++) {
		if (strlen(c->benefits[i]) == len &&
		    memcmp(c->benefits[i], name, len) == 0)
			return i;
	}
	return -1;
}

size_t
conf_key_count(void)
{
	return CONF_NITEMS(conf_keys);
}

const char *
conf_key_name(size_t i)
{
	return i < CONF_NITEMS(conf_keys) ? conf_keys[i].name : NULL;
}

const char *
conf_key_help(size_t i)
{
	return i < CONF_NITEMS(conf_keys) ? conf_keys[i].help : NULL;
}

bool
conf_key_reloadable(size_t i)
{
	return i < CONF_NITEMS(conf_keys) &&
	    (conf_keys[i].flags & CONF_RELOAD) != 0;
}

/* Bytes of the field a key of this type writes. */
static size_t
conf_field_size(enum conf_type type)
{
	switch (type) {
	case CONF_STRING:
	case CONF_PASSWORD_FILE:
	case CONF_CHOICE:
	case CONF_DATE:
	case CONF_NAMES:
		return sizeof(char *);
	case CONF_INT:
	case CONF_LOGLEVEL:
		return sizeof(int);
	case CONF_SIZE:
		return sizeof(size_t);
	case CONF_BOOL:
		return sizeof(bool);
	case CONF_DURATION:
		return sizeof(int64_t);
	case CONF_DOUBLE:
		return sizeof(double);
	case CONF_LIST:
		break;
	}
	return 0;
}

void
conf_apply_reloadable(struct conf *running, struct conf *fresh)
{
	const struct conf_key *k;
	unsigned char tmp[sizeof(int64_t) > sizeof(char *) ?
	    sizeof(int64_t) : sizeof(char *)];
	struct conf_explanation *explanations;
	unsigned char *a, *b;
	size_t i, size;
	int n;

	for (i = 0; i < CONF_NITEMS(conf_keys); i++) {
		k = &conf_keys[i];
		if (!(k->flags & CONF_RELOAD) || (k->flags & CONF_NAMED))
			continue;
		size = conf_field_size(k->type);
		if (size == 0 || size > sizeof tmp)
			continue;
		/* Swap, so that conf_free(fresh) frees the old strings. */
		a = (unsigned char *)running + k->off;
		b = (unsigned char *)fresh + k->off;
		memcpy(tmp, a, size);
		memcpy(a, b, size);
		memcpy(b, tmp, size);
	}
	for (n = 0; n < CONF_MAX_RECEIVERS; n++) {
		struct conf_receiver r = running->receivers[n];

		running->receivers[n] = fresh->receivers[n];
		fresh->receivers[n] = r;
	}
	n = running->nreceivers;
	running->nreceivers = fresh->nreceivers;
	fresh->nreceivers = n;
	for (n = 0; n < CONF_MAX_ROUTES; n++) {
		struct conf_route rt = running->routes[n];

		running->routes[n] = fresh->routes[n];
		fresh->routes[n] = rt;
	}
	n = running->nroutes;
	running->nroutes = fresh->nroutes;
	fresh->nroutes = n;

	/* An indicator's reloadable keys, where it is still the same one. */
	for (n = 0; n < running->nindicators && n < fresh->nindicators; n++) {
		struct conf_indicator *ra = &running->indicators[n];
		struct conf_indicator *fb = &fresh->indicators[n];

		if (strcmp(ra->name, fb->name) != 0)
			continue;
		for (i = 0; i < CONF_NITEMS(conf_keys); i++) {
			k = &conf_keys[i];
			if (!(k->flags & CONF_INDICATOR) ||
			    !(k->flags & CONF_RELOAD))
				continue;
			size = conf_field_size(k->type);
			a = (unsigned char *)ra + k->off;
			b = (unsigned char *)fb + k->off;
			memcpy(tmp, a, size);
			memcpy(a, b, size);
			memcpy(b, tmp, size);
		}
	}

	explanations = running->explanations;
	running->explanations = fresh->explanations;
	fresh->explanations = explanations;
	n = running->nexplanations;
	running->nexplanations = fresh->nexplanations;
	fresh->nexplanations = n;
}

/* Whether key k of the table goes into conf_digest. */
static bool
conf_digest_key(const struct conf_key *k)
{
	static const char *const sections[] = { "benefits.", "periods.",
	    "detector.", "route.", "indicator.", "explanation.", NULL };
	static const char *const keys[] = { "alerts.historical_age",
	    "redis.stream", "ha.prefix", "receiver.type", "receiver.url",
	    NULL };
	size_t i;

	for (i = 0; sections[i] != NULL; i++) {
		if (strncmp(k->name, sections[i], strlen(sections[i])) == 0)
			return true;
	}
	for (i = 0; keys[i] != NULL; i++) {
		if (strcmp(k->name, keys[i]) == 0)
			return true;
	}
	return false;
}

/* "name=value\n" of key k at base into the digest; NULL strings as "-". */
static void
conf_digest_value(EVP_MD_CTX *md, const struct conf_key *k, const void *base,
    const struct conf *c)
{
	const void *f = (const char *)base + k->off;
	const char *str;
	char text[64];
	int i;

	EVP_DigestUpdate(md, k->name, strlen(k->name));
	EVP_DigestUpdate(md, "=", 1);
	text[0] = '\0';
	switch (k->type) {
	case CONF_STRING:
	case CONF_PASSWORD_FILE:
	case CONF_CHOICE:
	case CONF_DATE:
	case CONF_NAMES:
		str = *(char *const *)f;
		if (str == NULL)
			str = "-";
		EVP_DigestUpdate(md, str, strlen(str));
		break;
	case CONF_INT:
	case CONF_LOGLEVEL:
		snprintf(text, sizeof text, "%d", *(const int *)f);
		break;
	case CONF_SIZE:
		snprintf(text, sizeof text, "%zu", *(const size_t *)f);
		break;
	case CONF_BOOL:
		snprintf(text, sizeof text, "%d", *(const bool *)f ? 1 : 0);
		break;
	case CONF_DURATION:
		snprintf(text, sizeof text, "%" PRId64, *(const int64_t *)f);
		break;
	case CONF_DOUBLE:
		snprintf(text, sizeof text, "%.17g", *(const double *)f);
		break;
	case CONF_LIST:
		for (i = 0; i < c->nbenefits; i++) {
			EVP_DigestUpdate(md, c->benefits[i],
			    strlen(c->benefits[i]));
			EVP_DigestUpdate(md, ",", 1);
		}
		break;
	}
	EVP_DigestUpdate(md, text, strlen(text));
	EVP_DigestUpdate(md, "\n", 1);
}

/* Every digested key of the named sections with flag, at base. */
static void
conf_digest_named(EVP_MD_CTX *md, int flag, const char *name,
    const void *base, const struct conf *c)
{
	size_t i;

	EVP_DigestUpdate(md, "[", 1);
	EVP_DigestUpdate(md, name, strlen(name));
	EVP_DigestUpdate(md, "]\n", 2);
	for (i = 0; i < CONF_NITEMS(conf_keys); i++) {
		if ((conf_keys[i].flags & flag) && conf_digest_key(&conf_keys[i]))
			conf_digest_value(md, &conf_keys[i], base, c);
	}
}

void
conf_digest(const struct conf *c, char out[CONF_DIGEST_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hashlen = 0, j;
	EVP_MD_CTX *md;
	size_t i;
	int n;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		fatalx("conf: cannot start a SHA-256 digest");
	for (i = 0; i < CONF_NITEMS(conf_keys); i++) {
		if (!(conf_keys[i].flags & CONF_NAMED) &&
		    conf_digest_key(&conf_keys[i]))
			conf_digest_value(md, &conf_keys[i], c, c);
	}
	/* Named sections in file order: the order matters to routes. */
	for (n = 0; n < c->nreceivers; n++)
		conf_digest_named(md, CONF_RECEIVER, c->receivers[n].name,
		    &c->receivers[n], c);
	for (n = 0; n < c->nroutes; n++)
		conf_digest_named(md, CONF_ROUTE, c->routes[n].name,
		    &c->routes[n], c);
	for (n = 0; n < c->nindicators; n++)
		conf_digest_named(md, CONF_INDICATOR, c->indicators[n].name,
		    &c->indicators[n], c);
	for (n = 0; n < c->nexplanations; n++)
		conf_digest_named(md, CONF_EXPLANATION, c->explanations[n].id,
		    &c->explanations[n], c);
	EVP_DigestFinal_ex(md, hash, &hashlen);
	EVP_MD_CTX_free(md);
	for (j = 0; j < hashlen && j < CONF_DIGEST_LEN / 2; j++) {
		out[2 * j] = hex[hash[j] >> 4];
		out[2 * j + 1] = hex[hash[j] & 0xf];
	}
	out[2 * j] = '\0';
}
