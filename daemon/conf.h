/*
 * Configuration: one struct, defaults in conf_default(), an INI file read
 * with inih against a key table (name, type, bounds, reloadable, help).
 * Reload parses into a fresh struct and swaps only when it is valid.
 */
#ifndef STABILD_CONF_H
#define STABILD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_BENEFITS	16
#define CONF_MAX_RECEIVERS	32
#define CONF_MAX_ROUTES		32
#define CONF_MAX_EXPLANATIONS	256
#define CONF_MAX_INDICATORS	15	/* besides the built-in rejection */
#define CONF_EXPLANATION_ID_MAX	64	/* characters of an explanation id */
#define CONF_MAX_SENTINELS	16	/* redis.sentinels */
#define CONF_DIGEST_LEN		64	/* hex characters of conf_digest */

/* [receiver "NAME"]: parsed and validated here, delivered by alerts/. */
struct conf_receiver {
	char		*name;
	char		*type;		/* "webhook" or "email" */
	char		*url;
	char		*secret_file;	/* webhook: HMAC key */
	char		*bearer_token_file; /* webhook: Authorization */
	char		*headers_file;	/* webhook: "Name: value" lines */
	char		*ca_file;	/* TLS trust; NULL: the system's */
	int64_t		 connect_timeout_ms;
	int64_t		 timeout_ms;	/* the whole transfer */
	char		*starttls;	/* email: required, optional, off */
	char		*auth_file;	/* email: user line, password line */
	char		*from;		/* email */
	char		*to;		/* email: comma-separated addresses */
	char		*cc;		/* email: NULL when none */
	char		*template_file;	/* email: NULL: the built-in one */
};

/*
 * [route "NAME"]: which alerts go to which receivers, tried in file order.
 * Matchers are comma-separated lists, NULL for any value.
 */
struct conf_route {
	char		*name;
	char		*receivers;	/* NULL: recorded only */
	char		*offices;
	char		*benefits;
	char		*kinds;
	char		*scopes;
	char		*directions;
	char		*classifications;
	int64_t		 group_wait_ms;	/* 0: each alert on its own */
	int64_t		 repeat_interval_ms; /* 0: never repeat */
	bool		 cont;		/* go on to the next route */
	char		*indicators;	/* names; rejection included */
};

/*
 * [explanation "ID"]: a legitimate explanation (contract §2) as written in
 * the file, each value checked here; explain.c turns it into a struct
 * explanation. Lists are the comma-separated text, NULL when empty (all).
 */
struct conf_explanation {
	char		*id;
	char		*kind;		/* legislation, legal_position, ... */
	char		*effective_from; /* YYYY-MM-DD */
	char		*effective_to;	/* YYYY-MM-DD, NULL when open */
	char		*benefits;	/* configured benefit names */
	char		*kinds;		/* first, ongoing */
	char		*offices;
	char		*reference;	/* NULL when unset */
	char		*description;	/* NULL when unset */
	int		 line;		/* of the section header */
	char		*indicators;	/* names; rejection included */
};

/*
 * [indicator "NAME"]: a yes/no outcome of one kind of event, as written in
 * the file and checked here; indicator.c builds the table from it. Lists
 * are the comma-separated text. Numbers left 0 take their default.
 */
struct conf_indicator {
	char		*name;
	char		*event;		/* decision, reconsideration, ... */
	char		*field;		/* NULL: outcome */
	char		*yes;		/* values of field */
	char		*no;
	char		*checkpoint;	/* assessment filter; NULL: all */
	char		*changed_to;	/* reconsideration filter; NULL: all */
	char		*label;		/* NULL: "NAME rate" */
	char		*description;	/* NULL when unset */
	char		*stream;	/* NULL: redis.stream */
	double		 design_or_office;	/* 0: [detector]'s */
	double		 design_or_national;	/* 0: [detector]'s */
	double		 budget_weight;	/* 0: 1 */
	bool		 alerts_off;	/* alerts = off */
	int		 line;		/* of the section header */
};

struct conf {
	char		*path;		/* the file this came from */

	/* [redis] */
	char		*redis_host;
	int		 redis_port;
	char		*redis_socket;	/* unix socket path; wins over host */
	char		*redis_user;	/* ACL user, NULL for the default user */
	char		*redis_password_file;
	char		*redis_password; /* read from the file; never logged */
	char		*stream;
	char		*group;
	char		*consumer;
	char		*deadletter;
	int		 batch;		/* XREADGROUP COUNT */
	int64_t		 block_ms;	/* XREADGROUP BLOCK */
	int64_t		 connect_timeout_ms;
	int64_t		 reconnect_max_ms; /* backoff ceiling */
	char		*redis_sentinels;	/* "host:port, ..."; NULL: none */
	char		*redis_master_name;	/* with redis_sentinels */

	/* [http] */
	char		*http_bind;
	int		 http_port;
	char		*tokens_file;	/* NULL: no tokens */
	int		 tokens_file_line;	/* of http.tokens_file in path */
	bool		 auth;		/* false: reads need no token */
	size_t		 http_max_body;
	int64_t		 http_timeout_ms;
	char		*chartjs_dir;	/* libjs-chart.js, for the dashboard */
	char		*http_public_url; /* NULL: made from the bound address */
	/*
	 * Not a key: the base of the links in alerts, url_base() of the
	 * above once the API is bound (main.c); NULL until then.
	 */
	char		*http_url;

	/* [state] */
	char		*state_dir;
	int64_t		 checkpoint_interval_ms;
	int		 checkpoint_events;
	double		 checkpoint_share;	/* of the time, at most */
	int		 dedup_window;	/* ids remembered for duplicates */
	bool		 records;	/* keep per-decision records */

	/* [periods] */
	int64_t		 lateness_ms;	/* watermark = max decided_at - this */
	int64_t		 retention_ms;	/* history kept */
	int64_t		 future_ms;	/* decided_at further ahead is rejected */
	int		 max_offices;

	/* [benefits] */
	char		*benefits[CONF_MAX_BENEFITS];
	int		 nbenefits;

	/* [log] */
	int		 log_level;

	/* [detector]; odds ratios: designed for, and the least relevant */
	double		 false_alarms_per_year;
	double		 design_or_office;	/* office series */
	double		 design_or_national;	/* national series */
	double		 relevant_or;	/* detectable within horizon */
	int64_t		 horizon_ms;	/* else the series is underpowered */
	int		 reference_weeks;	/* baseline window */
	int		 min_reference_weeks;	/* fewer: learning */
	int		 learning_weeks;	/* after a new regime */
	double		 ridge;		/* model penalty */
	int64_t		 explain_before_ms;	/* around effective_from */
	int64_t		 explain_after_ms;
	int64_t		 evaluate_every_ms;	/* event time between looks */
	bool		 outlier_alerts;	/* alert on outlier offices */
	double		 shrink_offices;	/* decisions a week */

	/* [alerts] */
	int64_t		 historical_age_ms;
	int64_t		 delivery_expiry_ms;	/* outbox gives up after */
	int64_t		 retry_max_ms;		/* longest retry delay */
	int		 expired_keep;		/* expired notifications kept */
	int64_t		 expired_max_age_ms;	/* for at most this long */
	int		 max_inflight;		/* transfers at once */

	/* [ha]; with ha_enabled off, nothing below is used */
	bool		 ha_enabled;
	char		*ha_instance;		/* NULL unless ha_enabled */
	char		*ha_prefix;
	int64_t		 ha_heartbeat_ms;
	int64_t		 ha_peer_timeout_ms;
	int64_t		 ha_claim_ttl_ms;
	int64_t		 ha_unclaimed_after_ms;	/* 0: never send unclaimed */
	int64_t		 ha_tick_interval_ms;
	int64_t		 ha_log_keep_ms;
	int64_t		 ha_write_timeout_ms;

	/* [receiver "NAME"] */
	struct conf_receiver receivers[CONF_MAX_RECEIVERS];
	int		 nreceivers;

	/* [route "NAME"], in file order */
	struct conf_route routes[CONF_MAX_ROUTES];
	int		 nroutes;

	/* [indicator "NAME"], in file order */
	struct conf_indicator indicators[CONF_MAX_INDICATORS];
	int		 nindicators;

	/* [explanation "ID"], in file order; at most CONF_MAX_EXPLANATIONS */
	struct conf_explanation *explanations;
	int		 nexplanations;
};

void conf_default(struct conf *c);
/*
 * Read path into c (which conf_default filled). On error returns -1 and
 * sets *cause to "FILE:LINE: message" (caller frees); c must then still be
 * passed to conf_free.
 */
int conf_load(struct conf *c, const char *path, char **cause)
    __attribute__((warn_unused_result));
void conf_free(struct conf *c);

/*
 * Call report(key, arg) for every key that differs between old and new and
 * cannot change without a restart ("redis.stream"). Returns the count.
 */
int conf_changed_nonreloadable(const struct conf *old, const struct conf *new,
    void (*report)(const char *key, void *arg), void *arg);

/*
 * Move every reloadable setting from fresh into running (fresh gets the
 * old values, so conf_free(fresh) frees them), the receivers and the
 * explanations included. Keys that need a restart keep their running
 * values: a reload never half-applies them.
 */
void conf_apply_reloadable(struct conf *running, struct conf *fresh);

/* "500ms", "2s", "5m", "3h", "3d", "2w", "10y" (365 d); bare digits: seconds. */
int conf_parse_duration(const char *s, int64_t *ms);
/*
 * A date "YYYY-MM-DD" (year 1900 or later) as days since 1970-01-01, the
 * local day numbers of period.h. 0, or -1 when it is not a real date.
 */
int conf_parse_date(const char *s, int32_t *day);
/*
 * The next item of a comma-separated list, blanks around it trimmed: true
 * with *s and *len set, false after the last. *p starts at the list and
 * is NULL once it is used up.
 */
bool conf_list_next(const char **p, const char **s, size_t *len);
/*
 * One "host:port" or "[v6]:port" of len bytes (an item of
 * redis.sentinels): 0 with host (NUL-terminated, hostsz bytes at most)
 * and port set, or -1.
 */
int conf_parse_hostport(const char *s, size_t len, char *host, size_t hostsz,
    int *port);
/*
 * SHA-256 in hex of what decides the state two instances compute and the
 * alerts they send: benefits, periods.*, detector.*, alerts.historical_age,
 * redis.stream, ha.prefix, the receivers' types and URLs, and the routes,
 * indicators and explanations of the file. Instances whose digests differ
 * may disagree (ha_peers shows it).
 */
void conf_digest(const struct conf *c, char out[CONF_DIGEST_LEN + 1]);
/* Index of a benefit name in c->benefits, or -1. */
int conf_benefit_index(const struct conf *c, const char *name, size_t len);

/* The key table, for `stabild --list-keys` and the docs check. */
size_t conf_key_count(void);
/* "section.key" and the default as written in the example file. */
const char *conf_key_name(size_t i);
const char *conf_key_help(size_t i);
bool conf_key_reloadable(size_t i);

#endif
