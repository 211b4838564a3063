/*
 * stabild-sim: writes simulated decision events to a Redis stream (or as
 * JSON lines) and the ground truth a correct consumer must count. The model
 * lives in simmodel.c; this file is options, output and pacing.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "simmodel.h"

#define SIM_BATCH		1000
#define SIM_MAXARGS		(8 + 2 * SIM_MAXFIELDS)

/* Per (week, office, benefit, kind): what a correct consumer counts. */
struct simcount {
	uint32_t	 n;		/* decisions on the merits */
	uint32_t	 rejected;
	uint32_t	 partial;
	uint32_t	 dismissed;
};

/*
 * Per (target, week, office, benefit, kind, detail): events whose target
 * outcome is yes or no (n), the yeses, and those of neither (other: a
 * dismissed decision, a decision without supplement_requested).
 */
struct simindcount {
	uint32_t	 n;
	uint32_t	 yes;
	uint32_t	 other;
};
#define SIM_NDETAILS		4	/* detail 0 (none or "-") and 1..3 */

/* Per cell: true expected rejections, actual and in control. */
struct simoracle {
	double		 e;
	double		 v;
	double		 e0;
	double		 v0;
};

struct simrun {
	const char		*host;
	int			 port;
	const char		*socket;
	const char		*stream;
	const char		*truth;
	const char		*oracle;
	const char		*truth_ind;	/* --truth-indicators */
	long long		 maxlen;
	double			 rate;
	int			 batch;
	int			 dry_run;

	struct sim		*sim;
	redisContext		*redis;
	char			 maxlen_arg[24];
	int			 pending;	/* commands not yet answered */

	struct simcount		*counts;
	struct simoracle	*oracles;
	struct simindcount	*indcounts;
	uint64_t		 by_event[SIM_NEVENTS];	/* valid, first sent */
	int64_t			 label_hour;	/* cache of the last check */
	int			 label_week;
	int			 supplement;	/* decisions carry it */

	uint64_t		 written;
	uint64_t		 valid;
	uint64_t		 malformed;
	uint64_t		 duplicates;
	double			 t0;
};

static const struct option sim_longopts[] = {
	{ "host",		required_argument,	NULL, 'h' },
	{ "port",		required_argument,	NULL, 'p' },
	{ "socket",		required_argument,	NULL, 'S' },
	{ "stream",		required_argument,	NULL, 'k' },
	{ "seed",		required_argument,	NULL, 's' },
	{ "offices",		required_argument,	NULL, 'K' },
	{ "weeks",		required_argument,	NULL, 'w' },
	{ "start",		required_argument,	NULL, 'd' },
	{ "per-week",		required_argument,	NULL, 'n' },
	{ "tau",		required_argument,	NULL, 't' },
	{ "tau-national",	required_argument,	NULL, 'T' },
	{ "office-sd",		required_argument,	NULL, 'a' },
	{ "drift",		required_argument,	NULL, 'D' },
	{ "casemix-shift",	required_argument,	NULL, 'C' },
	{ "malformed",		required_argument,	NULL, 'm' },
	{ "duplicates",		required_argument,	NULL, 'u' },
	{ "truth",		required_argument,	NULL, 'o' },
	{ "truth-indicators",	required_argument,	NULL, 'I' },
	{ "events",		required_argument,	NULL, 'E' },
	{ "oracle",		required_argument,	NULL, 'O' },
	{ "timestamps",		required_argument,	NULL, 'f' },
	{ "order",		required_argument,	NULL, 'A' },
	{ "benefits",		required_argument,	NULL, 'B' },
	{ "maxlen",		required_argument,	NULL, 'M' },
	{ "rate",		required_argument,	NULL, 'r' },
	{ "batch",		required_argument,	NULL, 'b' },
	{ "dry-run",		no_argument,		NULL, 'x' },
	{ "help",		no_argument,		NULL, 'H' },
	{ NULL,			0,			NULL, 0 },
};

static void usage(FILE *) __attribute__((noreturn));
static void sim_die(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
usage(FILE *f)
{
	fprintf(f,
"usage: stabild-sim [options]\n"
"Write simulated decision events to a Redis stream with XADD.\n"
"\n"
"  --host HOST            Redis host (127.0.0.1)\n"
"  --port PORT            Redis port (6379)\n"
"  --socket PATH          Redis Unix socket instead of host and port\n"
"  --stream KEY           stream key (stabild:decisions)\n"
"  --seed N               random seed (1)\n"
"  --offices K            number of offices K001.. (58)\n"
"  --weeks N              weeks to simulate (1)\n"
"  --start YYYY-MM-DD     first day, a Monday (2015-01-05)\n"
"  --per-week N           national decisions in an ordinary week (60000)\n"
"  --tau SD               sd of weekly log odds per office, benefit, kind (0.1)\n"
"  --tau-national SD      sd of weekly log odds per benefit, kind (0)\n"
"  --office-sd SD         sd of the fixed office effects (0.1)\n"
"  --drift SCOPE:BENEFIT:KIND:FROM_WEEK:ODDS_RATIO[:TO_WEEK][@TARGET]\n"
"                         add log(OR) to logit p from week FROM_WEEK\n"
"                         (0-based) until TO_WEEK; SCOPE is an office or\n"
"                         national, BENEFIT and KIND may be *; TARGET is\n"
"                         rejection (default), supplement, reconsideration,\n"
"                         appeal or assessment; repeatable\n"
"  --events LIST          also send other event kinds: all, or a comma-\n"
"                         separated list of supplement (supplement_requested\n"
"                         on decisions), reconsideration, appeal, assessment\n"
"                         (none: decisions only, the same stream as ever)\n"
"  --casemix-shift FROM_WEEK:FACTOR\n"
"                         from that week multiply the weight of F diagnoses\n"
"                         and of cases past day 180 by FACTOR; repeatable\n"
"  --malformed F          fraction of events replaced by broken ones (0)\n"
"  --duplicates F         fraction of valid events sent again (0)\n"
"  --truth FILE           write what a correct consumer counts (TSV)\n"
"  --truth-indicators FILE\n"
"                         the same per target and detail: target office\n"
"                         benefit kind week detail n yes other (TSV)\n"
"  --oracle FILE          write per cell the true sums of p and p(1-p),\n"
"                         with drift and weekly noise (e, v) and in\n"
"                         control (e0, v0), for an oracle CUSUM (TSV)\n"
"  --timestamps FORM      rfc3339, unix or mixed (mixed)\n"
"  --order ORDER          arrival order: time, shuffled (a seeded\n"
"                         permutation of the whole run), office (office by\n"
"                         office) or benefit (benefit by benefit), each in\n"
"                         time order within; the same events in every order\n"
"                         (time; the others hold the run in memory, about\n"
"                         80 bytes an event, and send a duplicate right\n"
"                         after its first sending)\n"
"  --benefits LIST        comma-separated benefits to send, the others'\n"
"                         decisions are left out (all four)\n"
"  --maxlen N             trim the stream to about N entries (0: never)\n"
"  --rate N               events per second (0: as fast as possible)\n"
"  --batch N              commands per pipelined batch (1000)\n"
"  --dry-run              print events as JSON lines instead\n"
"  --help                 show this help\n");
	exit(f == stdout ? 0 : 1);
}

static void
sim_die(const char *fmt, ...)
{
	va_list	ap;

	fputs("stabild-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double
sim_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* A whole-string integer in min..max, or die naming the option. */
static long long
sim_arg_int(const char *opt, const char *s, long long min, long long max)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		sim_die("--%s: %s: want an integer in %lld..%lld", opt, s, min,
		    max);
	return (v);
}

/* A whole-string number in min..max, or die naming the option. */
static double
sim_arg_double(const char *opt, const char *s, double min, double max)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < min || v > max)
		sim_die("--%s: %s: want a number in %g..%g", opt, s, min, max);
	return (v);
}

static void
sim_connect(struct simrun *run)
{
	if (run->socket != NULL)
		run->redis = redisConnectUnix(run->socket);
	else
		run->redis = redisConnect(run->host, run->port);
	if (run->redis == NULL)
		sim_die("redis: cannot allocate a context");
	if (run->redis->err && run->socket != NULL)
		sim_die("redis: %s: %s", run->socket, run->redis->errstr);
	if (run->redis->err)
		sim_die("redis: %s:%d: %s", run->host, run->port,
		    run->redis->errstr);
}

/* Push the queued commands to the server without waiting for answers. */
static void
sim_send(struct simrun *run)
{
	int	done = 0;

	do {
		if (redisBufferWrite(run->redis, &done) != REDIS_OK)
			sim_die("redis: %s", run->redis->errstr);
	} while (!done);
}

/*
 * Read answers until at most keep commands are unanswered; die on any
 * error. Keeping the latest batch in flight lets the server work on it
 * while the next one is generated.
 */
static void
sim_collect(struct simrun *run, int keep)
{
	redisReply	*reply;
	void		*r;

	for (; run->pending > keep; run->pending--) {
		if (redisGetReply(run->redis, &r) != REDIS_OK || r == NULL)
			sim_die("redis: %s", run->redis->errstr);
		reply = r;
		if (reply->type == REDIS_REPLY_ERROR)
			sim_die("redis: XADD %s: %s", run->stream, reply->str);
		freeReplyObject(reply);
	}
}

/* Queue XADD of ev on the connection. */
static void
sim_append(struct simrun *run, const struct sim_event *ev)
{
	const char	*argv[SIM_MAXARGS];
	size_t		 argvlen[SIM_MAXARGS];
	int		 argc = 0, i;

	argv[argc] = "XADD";
	argvlen[argc++] = 4;
	argv[argc] = run->stream;
	argvlen[argc++] = strlen(run->stream);
	if (run->maxlen > 0) {
		argv[argc] = "MAXLEN";
		argvlen[argc++] = 6;
		argv[argc] = "~";
		argvlen[argc++] = 1;
		argv[argc] = run->maxlen_arg;
		argvlen[argc++] = strlen(run->maxlen_arg);
	}
	argv[argc] = "*";
	argvlen[argc++] = 1;
	for (i = 0; i < ev->nfields; i++) {
		argv[argc] = ev->names[i];
		argvlen[argc++] = strlen(ev->names[i]);
		argv[argc] = ev->values[i];
		argvlen[argc++] = ev->lens[i];
	}
	if (redisAppendCommandArgv(run->redis, argc, argv, argvlen) !=
	    REDIS_OK)
		sim_die("redis: %s", run->redis->errstr);
	run->pending++;
}

/* A JSON string with the escapes JSON requires; bytes >= 0x80 as they are. */
static void
sim_json_string(FILE *f, const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	putc('"', f);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			putc('\\', f);
			putc(c, f);
		} else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			putc(c, f);
	}
	putc('"', f);
}

static void
sim_print(const struct sim_event *ev)
{
	int	i;

	putchar('{');
	for (i = 0; i < ev->nfields; i++) {
		if (i > 0)
			putchar(',');
		sim_json_string(stdout, ev->names[i], strlen(ev->names[i]));
		putchar(':');
		sim_json_string(stdout, ev->values[i], ev->lens[i]);
	}
	fputs("}\n", stdout);
}

/*
 * Check independently with the C library that decided_at falls in the
 * week the model says, in Europe/Stockholm local time. The ISO week is
 * constant within an hour, so one look per hour is enough.
 */
static void
sim_check_week(struct simrun *run, const struct sim_event *ev)
{
	struct tm	tm;
	time_t		t = (time_t)ev->decided_at;
	char		want[32], got[32];
	int		wday, yday, year, days;
	int64_t		hour;

	hour = ev->decided_at >= 0 ? ev->decided_at / 3600 : -1;
	if (hour == run->label_hour && ev->week == run->label_week)
		return;
	if (localtime_r(&t, &tm) == NULL)
		sim_die("localtime_r failed for %lld", (long long)t);
	wday = (tm.tm_wday + 6) % 7;		/* Monday 0 */
	yday = tm.tm_yday - wday + 3;		/* that week's Thursday */
	year = tm.tm_year + 1900;
	if (yday < 0) {
		year--;
		days = (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ?
		    366 : 365;
		yday += days;
	} else {
		days = (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ?
		    366 : 365;
		if (yday >= days) {
			yday -= days;
			year++;
		}
	}
	snprintf(got, sizeof got, "%04d-W%02d", year, yday / 7 + 1);
	sim_week_label(run->sim, ev->week, want, sizeof want);
	if (strcmp(got, want) != 0)
		sim_die("event %llu at %lld: local week %s, model says %s",
		    (unsigned long long)ev->seq, (long long)ev->decided_at, got,
		    want);
	run->label_hour = hour;
	run->label_week = ev->week;
}

/* Count one event of target t into the indicators' truth. */
static void
sim_count_target(struct simrun *run, const struct sim_event *ev, int t,
    int detail, int yes)
{
	struct simindcount	*c;
	size_t			 cell;

	cell = ((((size_t)t * (size_t)sim_nweeks(run->sim) +
	    (size_t)ev->week) * (size_t)sim_noffices(run->sim) +
	    (size_t)ev->office) * SIM_NBENEFITS + (size_t)ev->benefit) *
	    SIM_NKINDS + (size_t)ev->kind;
	c = &run->indcounts[cell * SIM_NDETAILS + (size_t)detail];
	if (yes == -1) {
		c->other++;
		return;
	}
	c->n++;
	c->yes += (uint32_t)yes;
}

/* Count ev into the indicators' truth, by the targets it belongs to. */
static void
sim_count_indicators(struct simrun *run, const struct sim_event *ev)
{
	static const int target_of[SIM_NEVENTS] = { SIM_T_REJECTION,
	    SIM_T_RECONSIDERATION, SIM_T_APPEAL, SIM_T_ASSESSMENT };

	if (ev->event != SIM_EV_DECISION) {
		sim_count_target(run, ev, target_of[ev->event],
		    ev->detail, ev->yes);
		return;
	}
	sim_count_target(run, ev, SIM_T_REJECTION, 0, ev->yes);
	if (run->supplement)
		sim_count_target(run, ev, SIM_T_SUPPLEMENT, 0,
		    ev->detail == 0 ? -1 : ev->detail == 1);
}

/* Count ev into the truth: valid first-seen events only. */
static void
sim_count(struct simrun *run, const struct sim_event *ev)
{
	struct simcount		*c;
	struct simoracle	*o;
	size_t			 cell;

	run->by_event[ev->event]++;
	if (run->counts == NULL && run->indcounts == NULL)
		return;
	sim_check_week(run, ev);
	if (run->indcounts != NULL)
		sim_count_indicators(run, ev);
	/* The decisions' own truth, as it always was. */
	if (ev->event != SIM_EV_DECISION || run->counts == NULL)
		return;
	cell = (((size_t)ev->week * (size_t)sim_noffices(run->sim) +
	    (size_t)ev->office) * SIM_NBENEFITS + (size_t)ev->benefit) *
	    SIM_NKINDS + (size_t)ev->kind;
	c = &run->counts[cell];
	if (ev->outcome == SIM_DISMISSED) {
		c->dismissed++;
		return;
	}
	c->n++;
	if (ev->outcome == SIM_REJECTED)
		c->rejected++;
	else if (ev->outcome == SIM_PARTIAL)
		c->partial++;
	if (run->oracles != NULL) {
		o = &run->oracles[cell];
		o->e += ev->p;
		o->v += ev->p * (1.0 - ev->p);
		o->e0 += ev->p0;
		o->v0 += ev->p0 * (1.0 - ev->p0);
	}
}

/* Write the truth or the oracle table, one row per non-empty cell. */
static void
sim_write_table(struct simrun *run, const char *path, int oracle)
{
	const struct simcount	*c;
	const struct simoracle	*o;
	FILE			*f;
	char			 label[SIM_LABELMAX];
	int			 K, W, office, b, k, w;
	size_t			 cell;

	if ((f = fopen(path, "w")) == NULL)
		sim_die("%s: %s", path, strerror(errno));
	K = sim_noffices(run->sim);
	W = sim_nweeks(run->sim);
	if (oracle)
		fputs("office\tbenefit\tkind\tweek\tn\trejected\te\tv\te0\tv0\n",
		    f);
	else
		fputs("office\tbenefit\tkind\tweek\tn\trejected\tpartial\t"
		    "dismissed\n", f);
	for (office = 0; office < K; office++) {
		for (b = 0; b < SIM_NBENEFITS; b++) {
			for (k = 0; k < SIM_NKINDS; k++) {
				for (w = 0; w < W; w++) {
					cell = (((size_t)w * (size_t)K +
					    (size_t)office) * SIM_NBENEFITS +
					    (size_t)b) * SIM_NKINDS + (size_t)k;
					c = &run->counts[cell];
					if (c->n == 0 && (oracle ||
					    c->dismissed == 0))
						continue;
					sim_week_label(run->sim, w, label,
					    sizeof label);
					fprintf(f, "%s\t%s\t%s\t%s\t%u\t%u",
					    sim_office_name(run->sim, office),
					    sim_benefit_name(b),
					    sim_kind_name(k), label, c->n,
					    c->rejected);
					if (oracle) {
						o = &run->oracles[cell];
						fprintf(f, "\t%.6f\t%.6f\t%.6f"
						    "\t%.6f\n", o->e, o->v,
						    o->e0, o->v0);
					} else
						fprintf(f, "\t%u\t%u\n",
						    c->partial, c->dismissed);
				}
			}
		}
	}
	if (!oracle)
		fprintf(f, "#total\tvalid=%llu\tmalformed=%llu\t"
		    "duplicates=%llu\twritten=%llu\n",
		    (unsigned long long)run->valid,
		    (unsigned long long)run->malformed,
		    (unsigned long long)run->duplicates,
		    (unsigned long long)run->written);
	if (ferror(f) || fclose(f) != 0)
		sim_die("%s: write failed", path);
}

/* Write the indicators' truth, one row per non-empty cell and detail. */
static void
sim_write_indicators(struct simrun *run, const char *path, unsigned events)
{
	static const int event_of[SIM_NTARGETS] = { SIM_EV_DECISION,
	    SIM_EV_DECISION, SIM_EV_RECONSIDERATION, SIM_EV_APPEAL,
	    SIM_EV_ASSESSMENT };
	const struct simindcount	*c;
	FILE				*f;
	char				 label[SIM_LABELMAX];
	int				 K, W, t, office, b, k, w, d;
	size_t				 cell;

	if ((f = fopen(path, "w")) == NULL)
		sim_die("%s: %s", path, strerror(errno));
	K = sim_noffices(run->sim);
	W = sim_nweeks(run->sim);
	fputs("target\toffice\tbenefit\tkind\tweek\tdetail\tn\tyes\t"
	    "other\n", f);
	for (t = 0; t < SIM_NTARGETS; t++) {
		if (t != SIM_T_REJECTION &&
		    (events & SIM_TARGET_BIT(t)) == 0)
			continue;
		for (office = 0; office < K; office++)
		for (b = 0; b < SIM_NBENEFITS; b++)
		for (k = 0; k < SIM_NKINDS; k++)
		for (w = 0; w < W; w++)
		for (d = 0; d < SIM_NDETAILS; d++) {
			cell = ((((size_t)t * (size_t)W + (size_t)w) *
			    (size_t)K + (size_t)office) * SIM_NBENEFITS +
			    (size_t)b) * SIM_NKINDS + (size_t)k;
			c = &run->indcounts[cell * SIM_NDETAILS + (size_t)d];
			if (c->n == 0 && c->other == 0)
				continue;
			sim_week_label(run->sim, w, label, sizeof label);
			fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%u\t%u\t%u\n",
			    sim_target_name(t), sim_office_name(run->sim,
			    office), sim_benefit_name(b), sim_kind_name(k),
			    label, sim_detail_name(event_of[t], d), c->n,
			    c->yes, c->other);
		}
	}
	fprintf(f, "#total");
	for (t = 0; t < SIM_NEVENTS; t++)
		fprintf(f, "\t%s=%llu", sim_event_name(t),
		    (unsigned long long)run->by_event[t]);
	fprintf(f, "\tmalformed=%llu\tduplicates=%llu\twritten=%llu\n",
	    (unsigned long long)run->malformed,
	    (unsigned long long)run->duplicates,
	    (unsigned long long)run->written);
	if (ferror(f) || fclose(f) != 0)
		sim_die("%s: write failed", path);
}

/* Sleep until written events are due at the configured rate. */
static void
sim_pace(struct simrun *run)
{
	struct timespec	ts;
	double		ahead;

	ahead = (double)run->written / run->rate - (sim_now() - run->t0);
	if (ahead <= 0.0)
		return;
	ts.tv_sec = (time_t)ahead;
	ts.tv_nsec = (long)((ahead - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	struct sim_options	 o;
	struct simrun		 run;
	struct sim_event	*ev;
	char			*cause = NULL;
	double			 seconds;
	size_t			 ncells;
	int			 ch, inbatch = 0;
	const char		*name;

	sim_options_default(&o);
	memset(&run, 0, sizeof run);
	run.host = "127.0.0.1";
	run.port = 6379;
	run.stream = "stabild:decisions";
	run.batch = SIM_BATCH;
	run.label_hour = INT64_MIN;
	run.label_week = -1;

	while ((ch = getopt_long(argc, argv, "", sim_longopts, NULL)) != -1) {
		name = NULL;
		if (ch != '?') {
			const struct option	*lo;

			for (lo = sim_longopts; lo->name != NULL; lo++) {
				if (lo->val == ch)
					name = lo->name;
			}
		}
		switch (ch) {
		case 'h':
			run.host = optarg;
			break;
		case 'p':
			run.port = (int)sim_arg_int(name, optarg, 1, 65535);
			break;
		case 'S':
			run.socket = optarg;
			break;
		case 'k':
			if (*optarg == '\0')
				sim_die("--stream: empty key");
			run.stream = optarg;
			break;
		case 's':
			if (*optarg == '-')
				sim_die("--seed: %s: want a non-negative "
				    "integer", optarg);
			{
				char	*end;

				errno = 0;
				o.seed = strtoull(optarg, &end, 10);
				if (*optarg == '\0' || *end != '\0' ||
				    errno != 0)
					sim_die("--seed: %s: want a "
					    "non-negative integer", optarg);
			}
			break;
		case 'K':
			o.offices = (int)sim_arg_int(name, optarg, 1,
			    SIM_MAXOFFICES);
			break;
		case 'w':
			o.weeks = (int)sim_arg_int(name, optarg, 1,
			    SIM_MAXWEEKS);
			break;
		case 'd':
			if (sim_start_parse(&o, optarg, &cause) == -1)
				sim_die("--%s", cause);
			break;
		case 'n':
			o.per_week = (double)sim_arg_int(name, optarg, 0,
			    100000000);
			break;
		case 't':
			o.tau = sim_arg_double(name, optarg, 0.0, 5.0);
			break;
		case 'T':
			o.tau_national = sim_arg_double(name, optarg, 0.0, 5.0);
			break;
		case 'a':
			o.office_sd = sim_arg_double(name, optarg, 0.0, 5.0);
			break;
		case 'D':
			if (sim_drift_parse(&o, optarg, &cause) == -1)
				sim_die("--%s", cause);
			break;
		case 'C':
			if (sim_shift_parse(&o, optarg, &cause) == -1)
				sim_die("--%s", cause);
			break;
		case 'm':
			o.malformed = sim_arg_double(name, optarg, 0.0, 1.0);
			break;
		case 'u':
			o.duplicates = sim_arg_double(name, optarg, 0.0, 1.0);
			break;
		case 'o':
			run.truth = optarg;
			break;
		case 'I':
			run.truth_ind = optarg;
			break;
		case 'E':
			if (sim_events_parse(&o, optarg, &cause) == -1)
				sim_die("--%s", cause);
			break;
		case 'O':
			run.oracle = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "mixed") == 0)
				o.timestamps = SIM_TS_MIXED;
			else if (strcmp(optarg, "rfc3339") == 0)
				o.timestamps = SIM_TS_RFC3339;
			else if (strcmp(optarg, "unix") == 0)
				o.timestamps = SIM_TS_UNIX;
			else
				sim_die("--timestamps: %s: want rfc3339, unix "
				    "or mixed", optarg);
			break;
		case 'A':
			if ((o.order = sim_order_find(optarg)) == -1)
				sim_die("--order: %s: want time, shuffled, "
				    "office or benefit", optarg);
			break;
		case 'B':
			if (sim_benefits_parse(&o, optarg, &cause) == -1)
				sim_die("--%s", cause);
			break;
		case 'M':
			run.maxlen = sim_arg_int(name, optarg, 0, LLONG_MAX);
			break;
		case 'r':
			run.rate = sim_arg_double(name, optarg, 0.0, 1e9);
			break;
		case 'b':
			run.batch = (int)sim_arg_int(name, optarg, 1, 1000000);
			break;
		case 'x':
			run.dry_run = 1;
			break;
		case 'H':
			usage(stdout);
		default:
			usage(stderr);
		}
	}
	if (optind != argc)
		usage(stderr);
	snprintf(run.maxlen_arg, sizeof run.maxlen_arg, "%lld", run.maxlen);
	if (run.rate > 0.0 && run.batch > run.rate / 20.0)
		run.batch = run.rate / 20.0 < 1.0 ? 1 : (int)(run.rate / 20.0);

	if ((run.sim = sim_create(&o, &cause)) == NULL)
		sim_die("%s", cause != NULL ? cause : "out of memory");
	if (run.truth != NULL || run.oracle != NULL) {
		ncells = (size_t)o.weeks * (size_t)o.offices * SIM_NBENEFITS *
		    SIM_NKINDS;
		if ((run.counts = calloc(ncells, sizeof *run.counts)) == NULL)
			sim_die("out of memory for the truth");
		if (run.oracle != NULL && (run.oracles = calloc(ncells,
		    sizeof *run.oracles)) == NULL)
			sim_die("out of memory for the oracle");
	}
	if (run.truth_ind != NULL) {
		ncells = (size_t)SIM_NTARGETS * (size_t)o.weeks *
		    (size_t)o.offices * SIM_NBENEFITS * SIM_NKINDS *
		    SIM_NDETAILS;
		if ((run.indcounts = calloc(ncells, sizeof *run.indcounts)) ==
		    NULL)
			sim_die("out of memory for the indicators' truth");
	}
	run.supplement = (o.events & SIM_TARGET_BIT(SIM_T_SUPPLEMENT)) != 0;
	if ((ev = malloc(sizeof *ev)) == NULL)
		sim_die("out of memory");

	if (run.dry_run) {
		static char	outbuf[1 << 20];

		setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	} else
		sim_connect(&run);

	run.t0 = sim_now();
	while (sim_next(run.sim, ev) == 0) {
		switch (ev->type) {
		case SIM_VALID:
			run.valid++;
			sim_count(&run, ev);
			break;
		case SIM_DUPLICATE:
			run.duplicates++;
			break;
		default:
			run.malformed++;
			break;
		}
		if (run.dry_run)
			sim_print(ev);
		else
			sim_append(&run, ev);
		run.written++;
		if (++inbatch >= run.batch) {
			if (!run.dry_run) {
				sim_send(&run);
				sim_collect(&run, inbatch);
			}
			inbatch = 0;
			if (run.rate > 0.0) {
				if (run.dry_run)
					fflush(stdout);
				sim_pace(&run);
			}
		}
	}
	if (!run.dry_run)
		sim_collect(&run, 0);
	if (run.rate > 0.0)
		sim_pace(&run);
	if (fflush(stdout) != 0 || ferror(stdout))
		sim_die("stdout: write failed");
	seconds = sim_now() - run.t0;

	if (run.truth != NULL)
		sim_write_table(&run, run.truth, 0);
	if (run.oracle != NULL)
		sim_write_table(&run, run.oracle, 1);
	if (run.truth_ind != NULL)
		sim_write_indicators(&run, run.truth_ind, o.events);

	fprintf(stderr, "stabild-sim: written=%llu valid=%llu malformed=%llu "
	    "duplicates=%llu seconds=%.3f rate=%.0f\n",
	    (unsigned long long)run.written, (unsigned long long)run.valid,
	    (unsigned long long)run.malformed,
	    (unsigned long long)run.duplicates, seconds,
	    seconds > 0.0 ? (double)run.written / seconds : 0.0);

	if (run.redis != NULL)
		redisFree(run.redis);
	free(run.counts);
	free(run.oracles);
	free(run.indcounts);
	free(ev);
	free(cause);
	sim_free(run.sim);
	return (0);
}
