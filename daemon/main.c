/*
 * stabild: command line, startup, signals and timers around one libevent
 * loop. Data flows ingest → statistics → detection → alerts; this file
 * only wires the parts together and runs the checkpoint schedule.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <event2/event.h>

#include "api.h"
#include "auth.h"
#include "clock.h"
#include "conf.h"
#include "deliver.h"
#include "explain.h"
#include "ha.h"
#include "ha_log.h"
#include "ha_peers.h"
#include "ha_registry.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "notify.h"
#include "period.h"
#include "reply.h"
#include "rlink.h"
#include "silence.h"
#include "sink.h"
#include "slice.h"
#include "stall.h"
#include "stream.h"
#include "url.h"
#include "xmalloc.h"

#ifndef STABILD_CONF_DEFAULT	/* the Makefile sets it from SYSCONFDIR */
#define STABILD_CONF_DEFAULT	"/etc/stabild/stabild.conf"
#endif
#define MAIN_TICK_MS	1000	/* wall-clock watermark and idle exit */
#define MAIN_STATS_S	60	/* one summary line a minute */
#define MAIN_BEAT_MS	10	/* the loop's heartbeat, for its stalls */
/* The running daemon: the few objects the loop owns. */
struct daemon {
	struct event_base	*base;
	struct conf		*conf;
	struct auth		*auth;
	struct ingest		*in;
	struct explain_registry	*reg;
	struct monitor		*mon;
	struct deliver		*deliver;
	struct silence_registry	*silences;
	char			*silences_path;
	struct stream		*st;
	struct api		*api;
	/* HA mode (ha.enabled); all NULL when off. */
	struct ha		*ha;
	struct ha_log		*ha_log;
	struct ha_registry	*ha_registry;
	struct ha_peers		*ha_peers;
	struct event		*checkpoint_ev;
	struct event		*tick_ev;
	struct event		*stats_ev;
	struct event		*beat_ev;
	struct event		*exit_ev;
	struct event		*sig_hup;
	struct event		*sig_term;
	struct event		*sig_int;
	struct event		*sig_usr2;
	struct event		*sig_chld;
	struct timespec		 checkpoint_started;
	uint64_t		 checkpoint_next_ns;	/* not before: duty cycle */
	uint64_t		 ckpt_want;	/* the last API ticket */
	uint64_t		 ckpt_covers;	/* the running child's */
	uint64_t		 ckpt_answered;	/* tickets answered */
	bool			 stopping;
	bool			 stop_saved;	/* the stop's checkpoint is done */
	bool			 exit_on_idle;
	bool			 fitted_before;	/* models from the checkpoint */
	int			 exit_code;
	uint64_t		 stats_last_counted;
};

static void daemon_checkpoint(struct daemon *);
static void daemon_checkpoint_pump(struct daemon *);
static void daemon_stop_save(struct daemon *);

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: stabild [-t] [-c FILE]\n"
	    "       stabild --version | --help | --list-keys\n"
	    "\n"
	    "  -c, --config FILE   configuration file (INI; default "
	    STABILD_CONF_DEFAULT ")\n"
	    "  -t, --test          check the configuration and exit\n"
	    "  -d, --debug         log at debug level (overrides log.level)\n"
	    "      --exit-on-idle  checkpoint and exit once the stream is drained\n"
	    "      --list-keys     print every configuration key and exit\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          this text\n");
}

static void
list_keys(void)
{
	size_t i;

	for (i = 0; i < conf_key_count(); i++)
		printf("%s\t%s\t%s\n", conf_key_name(i),
		    conf_key_reloadable(i) ? "reloadable" : "restart",
		    conf_key_help(i));
}

/* Load a config and its tokens; -1 with the reason on stderr-ready cause. */
static int
load_config(const char *path, struct conf **confp, struct auth **authp,
    char **cause)
{
	struct conf *c = xcalloc(1, sizeof *c);
	struct auth *a;
	char *why;

	conf_default(c);
	if (conf_load(c, path, cause) == -1) {
		conf_free(c);
		free(c);
		return -1;
	}
	if (c->tokens_file != NULL)
		a = auth_load(c->tokens_file, cause);
	else
		a = auth_empty();
	/* A file that cannot be opened: name the line that sent us there. */
	if (a == NULL && access(c->tokens_file, R_OK) == -1) {
		why = *cause;
		*cause = xasprintf("%s:%d: http.tokens_file: %s", path,
		    c->tokens_file_line, why);
		free(why);
	}
	if (a == NULL) {
		conf_free(c);
		free(c);
		return -1;
	}
	*confp = c;
	*authp = a;
	return 0;
}

/* The monitor reads the records file back for model fits. */
static int
daemon_records_cb(void *arg, struct records_view *view)
{
	struct daemon *d = arg;

	return d->in != NULL ? ingest_records_view(d->in, view) : -1;
}

/* The detector finished its reads: week closes, then the stream, go on. */
static void
daemon_resume_cb(void *arg)
{
	struct daemon *d = arg;

	if (metrics.fitted_ns == 0 && metrics.first_entry_ns != 0 &&
	    !d->fitted_before && monitor_fitted_all(d->mon)) {
		metrics.fitted_ns = stall_now();
		metrics.fitted_entries = metrics.entries_read;
		metrics.fitted_busy_ns = monitor_busy_ns(d->mon);
	}
	if (d->st != NULL)
		stream_resume(d->st);
	daemon_checkpoint_pump(d);
	if (!d->stopping && !ingest_busy(d->in) &&
	    ingest_dirty(d->in) >= (uint64_t)d->conf->checkpoint_events)
		daemon_checkpoint(d);
}

/*
 * A checkpoint in the daemon itself (stop, API) waits for the detector's
 * outstanding reads and the week closes behind them, so that it saves a
 * state every decision has been fully applied to.
 */
static void
daemon_settle(struct daemon *d)
{
	while (ingest_busy(d->in)) {
		monitor_settle(d->mon);
		ingest_resume(d->in);
	}
}

/* The API changed the explanation registry. */
static void
daemon_explained_cb(void *arg)
{
	struct daemon *d = arg;

	monitor_explanations_changed(d->mon);
	ingest_touch(d->in);
}

/* GET /v1/deliveries. */
static json_t *
daemon_deliveries_json(void *arg)
{
	struct daemon *d = arg;

	return deliver_json(d->deliver);
}

/* GET /v1/status's "ha", in HA mode. */
static json_t *
daemon_ha_json(void *arg)
{
	struct daemon *d = arg;

	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}",
	    "instance", ha_instance(d->ha),
	    "boot", ha_boot(d->ha),
	    "config_digest", ha_config_digest(d->ha),
	    "link", ha_link(d->ha) != NULL && rlink_up(ha_link(d->ha)) ?
	    "up" : "down",
	    "agree", ha_peers_agree(d->ha_peers),
	    "peers", ha_peers_json(d->ha_peers));
}

/* A request changed the monitor's state: checkpoint it. */
static void
daemon_monitor_changed_cb(void *arg)
{
	struct daemon *d = arg;

	ingest_touch(d->in);
}

/*
 * A failed checkpoint blocks ingest until one is written: its retry rests
 * this many times as long as it took, to spare a failing disk, whatever
 * the share (nothing is counted meanwhile).
 */
#define CHECKPOINT_RETRY_REST	3

/*
 * A checkpoint begun at t0 has ended; the next rests rest times as long.
 * Its duration in ns.
 */
static uint64_t
daemon_checkpoint_rest(struct daemon *d, const struct timespec *t0,
    double rest)
{
	struct timespec t1;
	uint64_t took;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (uint64_t)((t1.tv_sec - t0->tv_sec) * 1000000000 +
	    (t1.tv_nsec - t0->tv_nsec));
	d->checkpoint_next_ns = stall_now() + (uint64_t)((double)took * rest);
	return took;
}

/* Count a finished checkpoint and acknowledge what it covers. */
static void
daemon_checkpoint_ok(struct daemon *d, const struct timespec *t0)
{
	metrics.checkpoints++;
	/*
	 * Its child took a core from the loop and Redis, and made every page
	 * of ours copy-on-write, for a time that grows with the state (five
	 * indicators: two to three times one's), not with the entries: the
	 * next rests so that checkpoints take at most checkpoint_share of
	 * the time, however often checkpoint_events asks under heavy ingest.
	 */
	metrics.checkpoint_last_ms = daemon_checkpoint_rest(d, t0,
	    1 / d->conf->checkpoint_share - 1) / 1000000;
	stream_ack(d->st);
}

/* Backpressure was lifted: the entries that waited go in, reading goes on. */
static void
daemon_unblocked(struct daemon *d, enum ingest_pressure before)
{
	if (before != INGEST_FLOWING &&
	    ingest_pressure(d->in, NULL, NULL) == INGEST_FLOWING)
		stream_resume(d->st);
}

/* Answer the API's requests up to ticket upto. */
static void
daemon_checkpoint_answer(struct daemon *d, uint64_t upto, const char *cause)
{
	if (upto <= d->ckpt_answered)
		return;
	d->ckpt_answered = upto;
	api_checkpoint_done(d->api, upto, cause);
}

/*
 * Take the result of a checkpoint child that has exited; with block, wait
 * for it (only once the loop is gone). Whether one ended.
 */
static bool
daemon_checkpoint_wait(struct daemon *d, bool block)
{
	pid_t pid = ingest_checkpoint_child(d->in), got;
	enum ingest_pressure before = ingest_pressure(d->in, NULL, NULL);
	uint64_t covers = d->ckpt_covers;
	int status;

	if (pid == 0)
		return false;
	do
		got = waitpid(pid, &status, block ? 0 : WNOHANG);
	while (got == -1 && errno == EINTR);
	if (got == 0)
		return false;
	d->ckpt_covers = 0;
	if (!ingest_checkpoint_done(d->in, got == -1 ? -1 : status)) {
		/* The child logged why; nothing is acknowledged. */
		metrics.checkpoint_failures++;
		/* Backpressure, if it begins, is logged instead. */
		if (ingest_pressure(d->in, NULL, NULL) == INGEST_FLOWING)
			log_errorx("checkpoint: writer %ld failed", (long)pid);
		daemon_checkpoint_rest(d, &d->checkpoint_started,
		    CHECKPOINT_RETRY_REST);
		if (d->api != NULL)
			daemon_checkpoint_answer(d, covers, "the writer failed; "
			    "see the log");
		return true;
	}
	daemon_checkpoint_ok(d, &d->checkpoint_started);
	daemon_unblocked(d, before);
	if (d->api != NULL)
		daemon_checkpoint_answer(d, covers, NULL);
	return true;
}

/* Fork the checkpoint writer; 0 or -1 with *cause (logged, counted). */
static int
daemon_checkpoint_fork(struct daemon *d, char **cause)
{
	struct stall_mark m;

	stall_start(&m);
	clock_gettime(CLOCK_MONOTONIC, &d->checkpoint_started);
	if (ingest_checkpoint_start(d->in, cause) == -1) {
		metrics.checkpoint_failures++;
		log_errorx("%s", *cause);
		return -1;
	}
	/* fork() copies our page tables on the loop: Redis's latest_fork. */
	metrics.checkpoint_fork_ns = stall_now() -
	    ((uint64_t)d->checkpoint_started.tv_sec * 1000000000u +
	    (uint64_t)d->checkpoint_started.tv_nsec);
	if (metrics.checkpoint_fork_ns > metrics.checkpoint_fork_max_ns)
		metrics.checkpoint_fork_max_ns = metrics.checkpoint_fork_ns;
	stall_step("the checkpoint fork", &m);
	return 0;
}

/*
 * Move the API's checkpoint requests on: once no child runs and the
 * detector is idle, answer them if nothing changed, else fork a writer
 * that covers them. A child already running began before them: its end
 * (SIGCHLD) calls here again, as does the detector's (daemon_resume_cb).
 */
static void
daemon_checkpoint_pump(struct daemon *d)
{
	char *cause = NULL;

	if (d->ckpt_want <= d->ckpt_answered || d->stopping ||
	    ingest_checkpoint_child(d->in) != 0 || ingest_busy(d->in))
		return;
	if (ingest_dirty(d->in) == 0) {
		stream_ack(d->st);
		daemon_checkpoint_answer(d, d->ckpt_want, NULL);
		return;
	}
	/* Under backpressure the records come first (daemon_retry). */
	if (ingest_pressure(d->in, NULL, NULL) == INGEST_RECORDS_BLOCKED) {
		daemon_checkpoint_answer(d, d->ckpt_want, "the records cannot "
		    "be written now (backpressure); see GET /v1/status");
		return;
	}
	/* Asked for: no rest after the last one. */
	if (daemon_checkpoint_fork(d, &cause) == -1) {
		daemon_checkpoint_answer(d, d->ckpt_want, cause);
		free(cause);
		return;
	}
	d->ckpt_covers = d->ckpt_want;
}

/* POST /v1/checkpoint. */
static void
daemon_checkpoint_request(void *arg, uint64_t ticket)
{
	struct daemon *d = arg;

	d->ckpt_want = ticket;
	/* Stopped reading and saved: that checkpoint covers everything. */
	if (d->stop_saved)
		daemon_checkpoint_answer(d, ticket, NULL);
	else
		daemon_checkpoint_pump(d);
}

/*
 * Checkpoint now, in this process, once the loop is about to end (stop):
 * 0 or -1 with *cause. No child may run.
 */
static int
daemon_checkpoint_now(struct daemon *d, char **cause)
{
	struct timespec t0;
	enum ingest_pressure before;

	daemon_settle(d);
	if (ingest_dirty(d->in) == 0) {
		stream_ack(d->st);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	before = ingest_pressure(d->in, NULL, NULL);
	if (ingest_checkpoint(d->in, cause) == -1) {
		/* Nothing is acknowledged: the entries stay pending. */
		metrics.checkpoint_failures++;
		log_errorx("%s", *cause);
		return -1;
	}
	daemon_checkpoint_ok(d, &t0);
	daemon_unblocked(d, before);
	return 0;
}

/* For the drained line: the detector's busy time between entries. */
static uint64_t
daemon_busy_ns(void *arg)
{
	return monitor_busy_ns(arg);
}

/*
 * The regular checkpoint: written by a child so that counting goes on;
 * one at a time, the next starts when it is due after that one ends.
 */
static void
daemon_checkpoint(struct daemon *d)
{
	char *cause = NULL;

	if (d->stopping || ingest_checkpoint_child(d->in) != 0)
		return;
	/* Not half way through a fit: after it (daemon_resume_cb). */
	if (ingest_busy(d->in))
		return;
	/* The records first: daemon_retry writes them. */
	if (ingest_pressure(d->in, NULL, NULL) == INGEST_RECORDS_BLOCKED)
		return;
	if (ingest_dirty(d->in) == 0) {
		stream_ack(d->st);
		return;
	}
	/* Resting after the last one: the timer or the next batch retries. */
	if (stall_now() < d->checkpoint_next_ns)
		return;
	if (daemon_checkpoint_fork(d, &cause) == -1)
		free(cause);
}

/*
 * Under backpressure, once a tick: write what failed again (the records,
 * or a whole checkpoint, which rests like any other), and read on once
 * it is written. A failure is not logged again.
 */
static void
daemon_retry(struct daemon *d)
{
	switch (ingest_pressure(d->in, NULL, NULL)) {
	case INGEST_FLOWING:
		break;
	case INGEST_RECORDS_BLOCKED:
		if (ingest_retry(d->in) == 0) {
			daemon_unblocked(d, INGEST_RECORDS_BLOCKED);
			if (ingest_dirty(d->in) >=
			    (uint64_t)d->conf->checkpoint_events)
				daemon_checkpoint(d);
		}
		break;
	case INGEST_CHECKPOINT_BLOCKED:
		daemon_checkpoint(d);	/* SIGCHLD brings the result */
		break;
	}
}

static void
daemon_checkpoint_cb(void *arg)
{
	daemon_checkpoint(arg);
}

static void
checkpoint_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	daemon_checkpoint(arg);
}

static void
exit_now_cb(void *arg)
{
	struct daemon *d = arg;

	event_base_loopexit(d->base, NULL);
}

static void
exit_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	exit_now_cb(arg);
}

/* Stop reading, checkpoint, acknowledge, then leave the loop. */
static void
daemon_stop(struct daemon *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = true;
	log_notice("stabild: stopping (%s)", why);
	notify_stopping();
	stream_stop(d->st);
	/* A child still writing ends with a SIGCHLD, which goes on. */
	if (ingest_checkpoint_child(d->in) != 0)
		log_info("stabild: waiting for the checkpoint being written");
	else
		daemon_stop_save(d);
}

/* The last checkpoint, in this process, then the acknowledgements. */
static void
daemon_stop_save(struct daemon *d)
{
	struct timeval tv;
	int64_t ms;
	char *cause = NULL;

	if (d->stop_saved)
		return;
	d->stop_saved = true;
	if (daemon_checkpoint_now(d, &cause) == -1) {
		daemon_checkpoint_answer(d, d->ckpt_want, cause);
		free(cause);
	} else
		daemon_checkpoint_answer(d, d->ckpt_want, NULL);
	/* Give Redis a moment to take the acknowledgements; an entry whose
	 * XACK is lost is skipped as already counted at the next start. */
	if (stream_flush(d->st, exit_now_cb, d) == -1) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	ms = stream_flush_ms(d->conf) + 1000;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(d->exit_ev, &tv);
}

/* From a to b in seconds; 0 where a clock could not be read (0). */
static double
daemon_span_s(uint64_t a, uint64_t b)
{
	return a != 0 && b > a ? (double)(b - a) / 1e9 : 0.0;
}

/*
 * The rate after the one-time first fit: what ingest sustains once every
 * indicator is watched, with the refits and checkpoints that come later.
 */
static void
daemon_drained_fitted(void)
{
	double s = daemon_span_s(metrics.fitted_ns, metrics.last_entry_ns);
	uint64_t n = metrics.entries_read - metrics.fitted_entries;

	if (metrics.fitted_ns == 0)
		return;
	log_notice("stabild: after the first models %" PRIu64 " entries in "
	    "%.3f s (%.0f/s), detector busy %.3f s", n, s,
	    s > 0 ? (double)n / s : 0.0,
	    metrics.last_entry_busy_ns > metrics.fitted_busy_ns ?
	    (double)(metrics.last_entry_busy_ns - metrics.fitted_busy_ns) /
	    1e9 : 0.0);
}

static void
tick_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)events;
	struct stall_mark t0;

	if (d->stopping)
		return;
	stall_start(&t0);
	daemon_retry(d);
	/* In HA mode the idle step comes from the control log's ticks, at
	 * one position on every instance (ha_log.c), never from here. */
	ingest_tick(d->in, (int64_t)time(NULL), d->ha == NULL &&
	    stream_idle(d->st));
	stall_step("the minute tick", &t0);
	if (d->exit_on_idle && stream_state(d->st) == STREAM_READING &&
	    stream_idle(d->st)) {
		double s = (double)(metrics.last_entry_ns -
		    metrics.first_entry_ns) / 1e9;

		/* The figures the ingest benchmark reads. */
		log_notice("stabild: drained %" PRIu64 " entries in %.3f s "
		    "(%.0f/s), longest loop stall %.1f ms, detector busy "
		    "%.3f s, loop CPU %.3f s, process CPU %.3f s, "
		    "%" PRIu64 " checkpoints",
		    metrics.entries_read, s,
		    s > 0 ? (double)metrics.entries_read / s : 0.0,
		    (double)stall_max_ns() / 1e6,
		    (double)(metrics.last_entry_busy_ns -
		    metrics.first_entry_busy_ns) / 1e9,
		    daemon_span_s(metrics.first_entry_cpu_ns,
		    metrics.last_entry_cpu_ns),
		    daemon_span_s(metrics.first_entry_proc_ns,
		    metrics.last_entry_proc_ns),
		    metrics.last_entry_checkpoints -
		    metrics.first_entry_checkpoints);
		daemon_drained_fitted();
		daemon_stop(d, "stream drained");
	}
}

/* The longest the loop was late for its heartbeat: its longest stall. */
static void
beat_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	stall_beat(MAIN_BEAT_MS * 1000000u);
}

static void
stats_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct daemon *d = arg;
	const struct ingest_counters *ic = ingest_counters(d->in);
	uint64_t delta = ic->counted - d->stats_last_counted;

	(void)fd;
	(void)events;
	d->stats_last_counted = ic->counted;
	log_info("stats: %" PRIu64 " counted (%" PRIu64 "/s), %" PRIu64
	    " dead-lettered, %" PRIu64 " duplicates, %" PRIu64 " late, "
	    "lag %" PRId64 ", stream %s", ic->counted, delta / MAIN_STATS_S,
	    ic->invalid, ic->duplicates, ic->late, stream_lag(d->st),
	    stream_state_name(stream_state(d->st)));
	notify_status("%" PRIu64 " counted, %" PRIu64 "/s, lag %" PRId64
	    ", stream %s", ic->counted, delta / MAIN_STATS_S,
	    stream_lag(d->st), stream_state_name(stream_state(d->st)));
}

static void
report_restart_key(const char *key, void *arg)
{
	(void)arg;
	log_warnx("reload: %s changed; it takes effect after a restart", key);
}

/*
 * The base of the links in alerts, from http.public_url or the address the
 * API is bound to (the real port when http.port is 0).
 */
static void
daemon_set_url(struct daemon *d)
{
	char host[256];
	char *url;

	if (gethostname(host, sizeof host) == -1)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	url = url_base(d->conf->http_public_url, d->conf->http_bind,
	    api_port(d->api), host);
	if (d->conf->http_url == NULL || strcmp(url, d->conf->http_url) != 0)
		log_info("http: alerts link to %s", url);
	free(d->conf->http_url);
	d->conf->http_url = url;
}

/* SIGHUP: parse afresh, keep the old config on any error, never half. */
static void
daemon_reload(struct daemon *d)
{
	struct conf *fresh;
	struct auth *a;
	char *cause = NULL;
	struct timeval tv;

	notify_reloading();
	log_notice("reload: reading %s", d->conf->path);
	if (load_config(d->conf->path, &fresh, &a, &cause) == -1) {
		log_errorx("reload: %s; keeping the running configuration",
		    cause);
		free(cause);
		notify_ready();
		return;
	}
	conf_changed_nonreloadable(d->conf, fresh, report_restart_key, NULL);
	if (explain_set_config(d->reg, fresh, &cause) == -1) {
		log_errorx("reload: %s; keeping the running configuration",
		    cause);
		free(cause);
		conf_free(fresh);
		free(fresh);
		auth_free(a);
		notify_ready();
		return;
	}
	if (d->ha_registry != NULL)
		ha_registry_reload(d->ha_registry);
	conf_apply_reloadable(d->conf, fresh);
	conf_free(fresh);
	free(fresh);
	daemon_set_url(d);
	monitor_set_conf(d->mon, d->conf);
	ingest_set_conf(d->in, d->conf);
	ingest_touch(d->in);
	if (deliver_set_conf(d->deliver, d->conf, &cause) == -1) {
		log_errorx("reload: %s; receivers keep their old secrets",
		    cause);
		free(cause);
		cause = NULL;
	}
	auth_free(d->auth);
	d->auth = a;
	log_set_level(d->conf->log_level);
	api_set_conf(d->api, d->conf, d->auth);
	tv.tv_sec = (time_t)(d->conf->checkpoint_interval_ms / 1000);
	tv.tv_usec = (suseconds_t)(d->conf->checkpoint_interval_ms % 1000) *
	    1000;
	event_add(d->checkpoint_ev, &tv);
	log_notice("reload: done (%zu tokens, log level %s)",
	    auth_count(d->auth), log_level_name(d->conf->log_level));
	notify_ready();
}

/*
 * Signals arrive here from the loop, not in signal context. A reload or
 * a checkpoint's end is a step of ours (stall.h).
 */
static void
signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct daemon *d = arg;
	struct stall_mark m;

	(void)events;
	stall_start(&m);
	switch (sig) {
	case SIGHUP:
		daemon_reload(d);
		break;
	case SIGTERM:
	case SIGINT:
		if (d->stopping) {
			log_notice("stabild: second signal, exiting now");
			event_base_loopexit(d->base, NULL);
			break;
		}
		daemon_stop(d, sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	case SIGCHLD:
		if (!daemon_checkpoint_wait(d, false))
			break;
		if (d->stopping) {
			daemon_stop_save(d);
			break;
		}
		daemon_checkpoint_pump(d);
		if (ingest_dirty(d->in) >= (uint64_t)d->conf->checkpoint_events)
			daemon_checkpoint(d);
		break;
	case SIGUSR2:
		if (log_get_level() == LOG_DEBUG)
			log_set_level(d->conf->log_level);
		else
			log_set_level(LOG_DEBUG);
		log_notice("stabild: log level now %s",
		    log_level_name(log_get_level()));
		break;
	}
	stall_step(sig == SIGHUP ? "a reload" : sig == SIGCHLD ?
	    "a checkpoint's end" : "a signal", &m);
}

static void
daemon_free(struct daemon *d)
{
	struct event **evs[] = { &d->checkpoint_ev, &d->tick_ev, &d->stats_ev,
	    &d->beat_ev, &d->exit_ev, &d->sig_hup, &d->sig_term, &d->sig_int, &d->sig_usr2,
	    &d->sig_chld };
	size_t i;

	notify_watchdog_stop();
	if (d->in != NULL)
		daemon_checkpoint_wait(d, true);
	api_free(d->api);
	stream_free(d->st);
	/* The link first: its callbacks get NULL while their owners live. */
	ha_close(d->ha);
	ha_peers_free(d->ha_peers);
	ha_registry_free(d->ha_registry);
	ha_log_free(d->ha_log);
	ingest_free(d->in);
	deliver_free(d->deliver);
	silence_free(d->silences);
	free(d->silences_path);
	metrics.busy_ns = NULL;
	monitor_free(d->mon);
	explain_free(d->reg);
	ha_free(d->ha);
	for (i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		if (*evs[i] != NULL)
			event_free(*evs[i]);
	}
	auth_free(d->auth);
	conf_free(d->conf);
	free(d->conf);
	sink_unregister_all();
	reply_release();
	if (d->base != NULL)
		event_base_free(d->base);
	libevent_global_shutdown();
}

static struct event *
daemon_timer(struct daemon *d, event_callback_fn fn, int64_t ms)
{
	struct event *ev = event_new(d->base, -1, EV_PERSIST, fn, d);
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	event_add(ev, &tv);
	return ev;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "list-keys", no_argument, NULL, 'K' },
		{ "exit-on-idle", no_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d;
	const char *path = NULL;
	char *cause = NULL;
	bool test = false, debug = false;
	int ch;

	memset(&d, 0, sizeof d);
	while ((ch = getopt_long(argc, argv, "c:tdVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'V':
			printf("stabild %s\n", STABILD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'K':
			list_keys();
			return 0;
		case 'E':
			d.exit_on_idle = true;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (path == NULL)
		path = STABILD_CONF_DEFAULT;
	log_init(LOG_INFO);
	if (load_config(path, &d.conf, &d.auth, &cause) == -1) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 1;
	}
	if (test) {
		printf("%s: configuration OK\n", path);
		auth_free(d.auth);
		conf_free(d.conf);
		free(d.conf);
		return 0;
	}
	log_set_level(debug ? LOG_DEBUG : d.conf->log_level);
	period_init();
	srandom((unsigned int)time(NULL) ^ (unsigned int)getpid());
	signal(SIGPIPE, SIG_IGN);
	metrics.started_at = (int64_t)time(NULL);

	if ((d.base = event_base_new()) == NULL)
		fatalx("stabild: cannot create the event loop");
	/* Woken by a request, the loop goes before a longer slice. */
	if (slice_request(SLICE_LOOP_NS) == -1)
		log_debug("stabild: scheduler slice: %s", strerror(errno));
	d.reg = explain_create();
	if (explain_setup(d.reg, d.conf, d.conf->state_dir, &cause) == -1)
		fatalx("%s", cause);
	/*
	 * The benchmark's comparison only: with STABILD_DETECTOR_ON_LOOP set
	 * the records are read on the loop, as without a loop.
	 */
	d.mon = monitor_create(d.conf, d.reg, daemon_records_cb, &d,
	    getenv("STABILD_DETECTOR_ON_LOOP") != NULL ? NULL : d.base);
	d.in = ingest_create(d.conf, monitor_detector(d.mon));
	d.silences_path = xasprintf("%s/silences.json", d.conf->state_dir);
	d.silences = silence_create();
	/* HA: before ingest_open, which loads their checkpoint sections. */
	if (d.conf->ha_enabled) {
		if ((d.ha = ha_create(d.base, d.conf, &cause)) == NULL)
			fatalx("%s", cause);
		clock_follow_stream(true);
		d.ha_log = ha_log_create(d.ha, d.in);
		d.ha_registry = ha_registry_create(d.ha, d.ha_log, d.reg,
		    d.silences, d.mon, d.in);
	}
	if (ingest_open(d.in, &cause) == -1)
		fatalx("%s", cause);
	sink_register(sink_log());
	d.deliver = deliver_create(d.base, d.conf, d.conf->state_dir, &cause);
	if (d.deliver == NULL)
		fatalx("%s", cause);
	if (silence_load(d.silences, d.silences_path, (int64_t)time(NULL),
	    &cause) == -1)
		fatalx("%s", cause);
	deliver_set_silences(d.deliver, d.silences);
	sink_register(deliver_sink(d.deliver));
	d.st = stream_create(d.base, d.conf, d.in, daemon_checkpoint_cb, &d);
	if (d.ha != NULL) {
		stream_set_gate(d.st, ha_log_gate(d.ha_log), d.ha_log);
		deliver_set_ha(d.deliver, d.ha);
		d.ha_peers = ha_peers_create(d.ha, d.ha_log, d.in, d.st, d.mon);
		metrics.ha_on = true;
		metrics.ha_peers_render = ha_peers_metrics;
	}
	metrics.sentinels_on = d.conf->redis_sentinels != NULL;
	monitor_set_resume(d.mon, daemon_resume_cb, &d);
	d.fitted_before = monitor_fitted_all(d.mon);
	metrics.busy_ns = daemon_busy_ns;
	metrics.busy_arg = d.mon;
	d.api = api_create(d.base, d.conf, d.auth, d.in, d.st, &cause);
	if (d.api == NULL)
		fatalx("%s", cause);
	daemon_set_url(&d);
	api_set_checkpoint(d.api, daemon_checkpoint_request, &d);
	api_set_explanations(d.api, d.reg,
	    (const char *const *)d.conf->benefits, d.conf->nbenefits,
	    explain_path(d.reg), daemon_explained_cb, &d);
	api_set_monitor(d.api, d.mon, daemon_monitor_changed_cb, &d);
	api_set_deliveries(d.api, daemon_deliveries_json, &d);
	api_set_silences(d.api, d.silences, d.silences_path);
	if (d.ha != NULL) {
		api_set_ha(d.api, daemon_ha_json, &d);
		api_set_ha_registry(d.api, d.ha_registry);
	}

	d.sig_hup = evsignal_new(d.base, SIGHUP, signal_cb, &d);
	d.sig_term = evsignal_new(d.base, SIGTERM, signal_cb, &d);
	d.sig_int = evsignal_new(d.base, SIGINT, signal_cb, &d);
	d.sig_usr2 = evsignal_new(d.base, SIGUSR2, signal_cb, &d);
	d.sig_chld = evsignal_new(d.base, SIGCHLD, signal_cb, &d);
	evsignal_add(d.sig_chld, NULL);
	evsignal_add(d.sig_hup, NULL);
	evsignal_add(d.sig_term, NULL);
	evsignal_add(d.sig_int, NULL);
	evsignal_add(d.sig_usr2, NULL);
	d.exit_ev = evtimer_new(d.base, exit_timer_cb, &d);
	d.checkpoint_ev = daemon_timer(&d, checkpoint_timer_cb,
	    d.conf->checkpoint_interval_ms);
	d.tick_ev = daemon_timer(&d, tick_timer_cb, MAIN_TICK_MS);
	d.stats_ev = daemon_timer(&d, stats_timer_cb, MAIN_STATS_S * 1000);
	d.beat_ev = daemon_timer(&d, beat_timer_cb, MAIN_BEAT_MS);

	if (d.ha != NULL) {
		ha_start(d.ha);
		ha_log_start(d.ha_log);
		ha_registry_start(d.ha_registry);
		ha_peers_start(d.ha_peers);
	}
	stream_start(d.st);
	notify_watchdog_start(d.base);
	notify_ready();
	log_notice("stabild %s: started, state in %s", STABILD_VERSION,
	    d.conf->state_dir);
	event_base_dispatch(d.base);
	log_notice("stabild: stopped");
	daemon_free(&d);
	return d.exit_code;
}
