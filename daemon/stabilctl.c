/*
 * stabilctl: the supervision desk's command-line client for the stabild
 * HTTP API. Each command makes a request or a few over one libcurl handle
 * and prints the answer as aligned plain-text tables, its figures rounded
 * for people (rates in per cent, odds ratios to two places), or, with
 * --json, as the API's JSON.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#define CTL_DEFAULT_URL		"http://127.0.0.1:8080"	/* http.port's default */
#define CTL_DEFAULT_TIMEOUT_MS	10000
#define CTL_MAX_TIMEOUT_S	3600
#define CTL_MAX_ANSWER		(256 * 1024 * 1024)	/* bytes of one answer */
#define CTL_PAGE		10000	/* the API's largest page of series */
#define CTL_TEXT_MAX		60	/* characters of free text in a table */
#define CTL_MAX_OPTS		16	/* options of one command */
#define CTL_MAX_POS		4	/* positional arguments of one command */
#define CTL_OPT_BASE		256	/* getopt values of command options */

/*
 * The API writes reals with ten significant digits; dumping them again
 * with the same precision prints them as they came.
 */
#define CTL_JSON_FLAGS	\
	(JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

/* Exit codes; stabilctl(1) and the README list them. */
enum ctl_exit {
	CTL_OK = 0,
	CTL_USAGE = 1,		/* bad usage, unreadable token file, output */
	CTL_CHECK = 2,		/* status --check: unexplained firing alerts */
	CTL_UNREACHABLE = 3,	/* no connection, or no answer in time */
	CTL_AUTH = 4,		/* 401 or 403 */
	CTL_API = 5,		/* any other error answer, or not JSON */
	CTL_STALE = 6,		/* status --check: the stream is down too long */
	CTL_PEER = 7,		/* status --check: a peer down, behind or at odds */
};

struct ctl {
	char		*base;		/* URL without a trailing '/' */
	const char	*token_file;	/* NULL: STABILD_TOKEN */
	char		*token;		/* read at the first request */
	bool		 token_read;
	bool		 json;
	long		 timeout_ms;
	CURL		*curl;		/* one handle, so connections are reused */
	char		 errbuf[CURL_ERROR_SIZE];
	bool		 quiet_404;	/* keep a 404's message in held */
	char		*held;
	const char	*indicator;	/* --indicator; NULL: the default */
};

/* One option of a command; a NULL arg means it takes no value. */
struct ctl_opt {
	const char	*name;
	const char	*arg;
	bool		 list;		/* repeatable; values joined with ',' */
	const char	*help;
};

/* Parsed arguments of a command: values by option index, positionals. */
struct ctl_args {
	char		*val[CTL_MAX_OPTS];	/* NULL: not given; "" flags */
	char		*pos[CTL_MAX_POS];	/* borrowed from argv */
	int		 npos;
};

/* A command's handler; returns an exit code. */
typedef int (*ctl_cmd_cb)(struct ctl *, struct ctl_args *);

struct ctl_cmd {
	const char		*name;
	const char		*action;	/* "list", "add"; NULL: none */
	const char		*synopsis;	/* positionals */
	const struct ctl_opt	*opts;		/* NULL name ends */
	int			 min_pos;
	int			 max_pos;
	ctl_cmd_cb		 fn;
	const char		*help;
	bool			 indicator;	/* takes --indicator */
};

/* getopt values of the long-only global options; the rest use letters. */
enum {
	CTL_OPT_TIMEOUT = 1,
	CTL_OPT_TOKEN,
	CTL_OPT_VERSION,
	CTL_OPT_INDICATOR,
};

static const struct option ctl_global_longopts[] = {
	{ "url", required_argument, NULL, 'u' },
	{ "json", no_argument, NULL, 'j' },
	{ "token-file", required_argument, NULL, 't' },
	{ "timeout", required_argument, NULL, CTL_OPT_TIMEOUT },
	{ "token", required_argument, NULL, CTL_OPT_TOKEN },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, CTL_OPT_VERSION },
	{ "indicator", required_argument, NULL, CTL_OPT_INDICATOR },
	{ NULL, 0, NULL, 0 },
};
#define CTL_NGLOBAL	\
	(sizeof ctl_global_longopts / sizeof ctl_global_longopts[0] - 1)
#define CTL_SHORTOPTS	":u:jt:h"

static const char ctl_global_help[] =
    "  -u, --url URL          stabild's API (STABILCTL_URL, else "
    CTL_DEFAULT_URL ")\n"
    "  -t, --token-file FILE  file whose first line is the API token\n"
    "                         (else the token in STABILD_TOKEN)\n"
    "  -j, --json             print the API's JSON answer\n"
    "      --timeout SECONDS  give up after this long (10)\n"
    "      --indicator NAME   series, alerts and models of this indicator\n"
    "                         (series: rejection, else all; see indicators)\n"
    "  -h, --help             this text\n"
    "      --version          print the version\n";

static const char ctl_exit_help[] =
    "Exit codes: 0 ok, 1 usage or local error, 2 status --check found "
    "unexplained\nfiring alerts, 3 stabild unreachable, 4 token refused "
    "(401/403), 5 other API\nerror, 6 status --check found the stream "
    "down longer than --stale, 7 status\n--check found a peer down, the "
    "peers at odds or this instance behind.\n";

static void __attribute__((format(printf, 1, 2)))
ctl_warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("stabilctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Memory: no caller can do anything sensible without it. */
static void
ctl_nomem(void)
{
	fputs("stabilctl: out of memory\n", stderr);
	exit(CTL_USAGE);
}

static void *
ctl_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		ctl_nomem();
	return p;
}

static char *
ctl_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		ctl_nomem();
	return p;
}

static char * __attribute__((format(printf, 1, 2)))
ctl_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc == -1)
		ctl_nomem();
	return s;
}

/*
 * Text from the daemon or the user, made safe for one line of a terminal:
 * control characters become '?', and with max > 0 it is cut to max
 * characters (UTF-8 sequences count as one) ending in "...".
 */
static char *
ctl_clean(const char *s, size_t max)
{
	size_t len = strlen(s), i, o = 0, chars = 0;
	char *out = ctl_xcalloc(1, len + 4);
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if ((c & 0xc0) != 0x80) {
			if (max > 0 && chars == max) {
				/* Leave room for the dots inside max. */
				while (o > 0 && chars > max - 3) {
					o--;
					if (((unsigned char)out[o] & 0xc0) !=
					    0x80)
						chars--;
				}
				memcpy(out + o, "...", 3);
				o += 3;
				break;
			}
			chars++;
		}
		out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
	return out;
}

/* Columns a cell takes: characters, not bytes. */
static size_t
ctl_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/*
 * An aligned plain-text table. Cells are added row by row; a table
 * without titles prints no header line (key-value listings).
 */
struct ctl_table {
	size_t			 ncols;
	const char *const	*head;	/* NULL: no header */
	const char		*align;	/* 'l' or 'r' per column */
	char			**cells;
	size_t			 ncells;
	size_t			 size;
};

static void
ctl_table_init(struct ctl_table *t, size_t ncols, const char *const *head,
    const char *align)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols;
	t->head = head;
	t->align = align;
}

/* Add one cell, taking an allocated string; "" shows as "-". */
static void
ctl_table_take(struct ctl_table *t, char *s)
{
	char **cells;

	if (*s == '\0') {
		free(s);
		s = ctl_xstrdup("-");
	}
	if (t->ncells == t->size) {
		t->size = t->size == 0 ? 64 : t->size * 2;
		cells = realloc(t->cells, t->size * sizeof *t->cells);
		if (cells == NULL)
			ctl_nomem();
		t->cells = cells;
	}
	t->cells[t->ncells++] = s;
}

/* Add one cell of text, cleaned for the terminal. */
static void
ctl_table_add(struct ctl_table *t, const char *s)
{
	ctl_table_take(t, ctl_clean(s != NULL ? s : "-", 0));
}

static void __attribute__((format(printf, 2, 3)))
ctl_table_addf(struct ctl_table *t, const char *fmt, ...)
{
	va_list ap;
	char *s, *clean;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc == -1)
		ctl_nomem();
	clean = ctl_clean(s, 0);
	free(s);
	ctl_table_take(t, clean);
}

/*
 * How a real is shown: fixed decimals (0 and up), or one of these. People
 * read rates as percentages and odds ratios to two places; the API's full
 * precision is for --json.
 */
#define CTL_FMT_AUTO	(-1)	/* three significant digits */
#define CTL_FMT_PCT	(-2)	/* a rate or share: "11.7 %" */
#define CTL_FMT_PP	(-3)	/* a difference of rates: "+0.4 pp" */

/* A real for people: three significant digits, more before the point. */
static char *
ctl_real(double v)
{
	double a = v < 0 ? -v : v;

	if (a >= 100 || a == 0)
		return ctl_xasprintf("%.0f", v);
	if (a >= 10)
		return ctl_xasprintf("%.1f", v);
	if (a >= 1)
		return ctl_xasprintf("%.2f", v);
	return ctl_xasprintf("%.3g", v);
}

/*
 * A JSON value as a cell: "-" for null, absent or empty, reals as fmt
 * says (decimals after the point, or a CTL_FMT_ form).
 */
static char *
ctl_format(const json_t *v, int fmt)
{
	const char *s;
	size_t i;
	char *out, *item, *joined;

	if (v == NULL || json_is_null(v))
		return ctl_xstrdup("-");
	if (json_is_number(v) && fmt == CTL_FMT_PCT)
		return ctl_xasprintf("%.1f %%", json_number_value(v) * 100);
	if (json_is_number(v) && fmt == CTL_FMT_PP)
		return ctl_xasprintf("%+.1f pp", json_number_value(v) * 100);
	if (json_is_integer(v))
		return ctl_xasprintf("%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	if (json_is_real(v) && fmt < 0)
		return ctl_real(json_real_value(v));
	if (json_is_real(v))
		return ctl_xasprintf("%.*f", fmt, json_real_value(v));
	if (json_is_boolean(v))
		return ctl_xstrdup(json_is_true(v) ? "yes" : "no");
	if ((s = json_string_value(v)) != NULL)
		return ctl_clean(s, 0);
	if (json_is_array(v) && json_array_size(v) == 0)
		return ctl_xstrdup("-");
	if (json_is_array(v)) {
		out = ctl_xstrdup("");
		for (i = 0; i < json_array_size(v); i++) {
			item = ctl_format(json_array_get(v, i), fmt);
			joined = ctl_xasprintf("%s%s%s", out,
			    i > 0 ? "," : "", item);
			free(item);
			free(out);
			out = joined;
		}
		return out;
	}
	return ctl_xstrdup("{...}");
}

/* An interval [lo, hi] of odds ratios; an end without information is "-". */
static char *
ctl_interval(const json_t *v)
{
	char *lo, *hi, *out;

	if (!json_is_array(v) || json_array_size(v) != 2)
		return ctl_format(v, 2);
	lo = ctl_format(json_array_get(v, 0), 2);
	hi = ctl_format(json_array_get(v, 1), 2);
	out = ctl_xasprintf("[%s, %s]", lo, hi);
	free(lo);
	free(hi);
	return out;
}

static void
ctl_table_value(struct ctl_table *t, const json_t *v, int decimals)
{
	ctl_table_take(t, ctl_format(v, decimals));
}

/* Free text, cut so that the table stays readable. */
static void
ctl_table_text(struct ctl_table *t, const json_t *v)
{
	const char *s = json_string_value(v);

	ctl_table_take(t, ctl_clean(s != NULL ? s : "-", CTL_TEXT_MAX));
}

/* The width of each column and of a whole line of the table. */
static size_t
ctl_table_widths(const struct ctl_table *t, size_t *w)
{
	size_t c, i, n, total;

	for (c = 0; c < t->ncols; c++)
		w[c] = t->head != NULL ? ctl_width(t->head[c]) : 0;
	for (i = 0; i < t->ncells; i++) {
		if ((n = ctl_width(t->cells[i])) > w[i % t->ncols])
			w[i % t->ncols] = n;
	}
	for (c = 0, total = 0; c < t->ncols; c++)
		total += w[c] + (c > 0 ? 2 : 0);
	return total;
}

static void
ctl_table_print(const struct ctl_table *t)
{
	size_t *w = ctl_xcalloc(t->ncols, sizeof *w);
	size_t c, i, n;
	const char *s;

	(void)ctl_table_widths(t, w);
	for (i = t->head != NULL ? 0 : t->ncols; i < t->ncells + t->ncols;
	    i++) {
		c = i % t->ncols;
		s = i < t->ncols ? t->head[c] : t->cells[i - t->ncols];
		n = w[c] - ctl_width(s);
		if (t->align[c] == 'r')
			printf("%*s%s", (int)n, "", s);
		else if (c + 1 < t->ncols)
			printf("%s%*s", s, (int)n, "");
		else
			fputs(s, stdout);	/* no trailing blanks */
		fputs(c + 1 < t->ncols ? "  " : "\n", stdout);
	}
	free(w);
}

static void
ctl_table_free(struct ctl_table *t)
{
	size_t i;

	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof *t);
}

/* Print the table, then how many rows it has ("3 alerts"), and free it. */
static void
ctl_table_done(struct ctl_table *t, size_t n, const char *noun)
{
	ctl_table_print(t);
	printf("%zu %s%s\n", n, noun, n == 1 ? "" : "s");
	ctl_table_free(t);
}

/* A member by a dotted path ("rolling.13w.decisions"); NULL if absent. */
static json_t *
ctl_at(const json_t *o, const char *path)
{
	const char *dot;
	char key[64];
	size_t len;

	while (o != NULL && json_is_object(o)) {
		dot = strchr(path, '.');
		len = dot != NULL ? (size_t)(dot - path) : strlen(path);
		if (len >= sizeof key)
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		o = json_object_get(o, key);
		if (dot == NULL)
			return (json_t *)o;
		path = dot + 1;
	}
	return NULL;
}

static const char *
ctl_str(const json_t *o, const char *path)
{
	return json_string_value(ctl_at(o, path));
}

/* Print an answer as the API gave it, indented. */
static int
ctl_print_json(const json_t *o)
{
	if (json_dumpf(o, stdout, CTL_JSON_FLAGS) == -1) {
		ctl_warnx("cannot print the answer");
		return CTL_USAGE;
	}
	putchar('\n');
	return CTL_OK;
}

/* Whether name ends with the member name end ("odds_ratio", "rate"). */
static bool
ctl_ends(const char *name, const char *end)
{
	size_t n = strlen(name), e = strlen(end);

	return n >= e && strcmp(name + n - e, end) == 0;
}

/*
 * A member's value by what its name says it is: rates and shares as
 * percentages, differences of rates in percentage points, odds ratios and
 * their intervals to two places, other reals rounded.
 */
static char *
ctl_member(const char *name, const json_t *v)
{
	if (ctl_ends(name, "_ci"))
		return ctl_interval(v);
	if (ctl_ends(name, "odds_ratio"))
		return ctl_format(v, 2);
	if (ctl_ends(name, "rate") || ctl_ends(name, "share"))
		return ctl_format(v, CTL_FMT_PCT);
	if (strncmp(name, "decomposition.", 14) == 0)
		return ctl_format(v, CTL_FMT_PP);
	return ctl_format(v, CTL_FMT_AUTO);
}

/*
 * Every member of an object as "key  value" lines; nested objects as
 * "key.member", lists of names joined with ','. Members named in skip
 * (NULL-terminated) are left for the caller.
 */
static void
ctl_object_rows(struct ctl_table *t, const json_t *o, const char *prefix,
    const char *const *skip)
{
	const char *key;
	const json_t *v;
	char *name;
	size_t i;

	json_object_foreach((json_t *)o, key, v) {
		for (i = 0; skip != NULL && skip[i] != NULL; i++) {
			if (strcmp(skip[i], key) == 0)
				break;
		}
		if (skip != NULL && skip[i] != NULL)
			continue;
		name = ctl_xasprintf("%s%s", prefix, key);
		if (json_is_object(v) && json_object_size(v) > 0) {
			char *sub = ctl_xasprintf("%s.", name);

			ctl_object_rows(t, v, sub, NULL);
			free(sub);
			free(name);
			continue;
		}
		ctl_table_take(t, ctl_clean(name, 0));
		ctl_table_take(t, ctl_member(name, v));
		free(name);
	}
}

static void
ctl_print_object(const json_t *o, const char *const *skip)
{
	struct ctl_table t;

	ctl_table_init(&t, 2, NULL, "ll");
	ctl_object_rows(&t, o, "", skip);
	ctl_table_print(&t);
	ctl_table_free(&t);
}

/* Collect the response body, up to CTL_MAX_ANSWER bytes. */
struct ctl_answer {
	char	*data;
	size_t	 len;
	size_t	 size;
	bool	 too_big;
};

static size_t
ctl_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct ctl_answer *a = arg;
	size_t n = size * nmemb;
	char *data;

	if (n > CTL_MAX_ANSWER - a->len) {
		a->too_big = true;
		return 0;
	}
	if (a->len + n + 1 > a->size) {
		a->size = a->size == 0 ? 16384 : a->size;
		while (a->size < a->len + n + 1)
			a->size *= 2;
		if ((data = realloc(a->data, a->size)) == NULL)
			ctl_nomem();
		a->data = data;
	}
	memcpy(a->data + a->len, ptr, n);
	a->len += n;
	a->data[a->len] = '\0';
	return n;
}

/*
 * The token: the first line of --token-file, else STABILD_TOKEN, else
 * none. Never from the command line, where ps and shell histories show it.
 */
static int
ctl_read_token(struct ctl *ctl)
{
	const char *env = getenv("STABILD_TOKEN");
	const char *from = "STABILD_TOKEN";
	struct stat sb;
	char *line = NULL, *p, *end;
	size_t size = 0;
	ssize_t len;
	FILE *f;

	ctl->token_read = true;
	if (ctl->token_file != NULL) {
		from = ctl->token_file;
		if ((f = fopen(ctl->token_file, "r")) == NULL) {
			ctl_warnx("cannot read the token file %s: %s",
			    ctl->token_file, strerror(errno));
			return CTL_USAGE;
		}
		if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077) != 0) {
			ctl_warnx("warning: %s can be read by group or "
			    "others; it should be mode 0600", ctl->token_file);
		}
		len = getline(&line, &size, f);
		if (len == -1 && ferror(f)) {
			ctl_warnx("cannot read the token file %s: %s",
			    ctl->token_file, strerror(errno));
			fclose(f);
			free(line);
			return CTL_USAGE;
		}
		fclose(f);
		if (len == -1) {
			ctl_warnx("no token in %s", from);
			free(line);
			return CTL_USAGE;
		}
	} else if (env != NULL && *env != '\0')
		line = ctl_xstrdup(env);
	else
		return CTL_OK;

	p = line + strspn(line, " \t");
	end = p + strlen(p);
	while (end > p && (end[-1] == '\n' || end[-1] == '\r' ||
	    end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	if (*p == '\0') {
		ctl_warnx("no token in %s", from);
		free(line);
		return CTL_USAGE;
	}
	/* It goes into a header: printable ASCII only, no spaces. */
	for (end = p; *end != '\0'; end++) {
		if (*end <= ' ' || *end >= 0x7f) {
			ctl_warnx("the token in %s has characters a token "
			    "cannot have", from);
			explicit_bzero(line, strlen(line));
			free(line);
			return CTL_USAGE;
		}
	}
	ctl->token = ctl_xstrdup(p);
	explicit_bzero(line, strlen(line));
	free(line);
	return CTL_OK;
}

/* One line of the daemon's error message, or NULL. */
static char *
ctl_error_message(const char *data, size_t len)
{
	json_t *o;
	const char *msg;
	char *out = NULL;

	if (len == 0 || (o = json_loadb(data, len, 0, NULL)) == NULL)
		return NULL;
	if ((msg = ctl_str(o, "message")) != NULL && *msg != '\0')
		out = ctl_clean(msg, 0);
	json_decref(o);
	return out;
}

/* Say why the daemon refused; the exit code. */
static int
ctl_refused(struct ctl *ctl, long code, const char *msg)
{
	if (code == 403) {
		ctl_warnx("stabild refused the token (403): %s",
		    msg != NULL ? msg : "the role is too low");
	} else if (ctl->token == NULL) {
		ctl_warnx("stabild needs a token (401): %s; give --token-file "
		    "FILE or set STABILD_TOKEN", msg != NULL ? msg :
		    "no token was sent");
	} else {
		ctl_warnx("stabild refused the token (401): %s",
		    msg != NULL ? msg : "the token is not valid");
	}
	return CTL_AUTH;
}

/*
 * One request: method, path with its query, an optional JSON body. 0 with
 * *out the parsed answer (NULL when there was none, as for 204), or an exit
 * code after one line on stderr saying why.
 */
static int
ctl_request(struct ctl *ctl, const char *method, const char *path,
    const json_t *body, json_t **out)
{
	struct ctl_answer a;
	struct curl_slist *headers = NULL, *h;
	json_error_t jerr;
	CURLcode cc;
	long code = 0, oserr = 0;
	char *url = NULL, *auth = NULL, *text = NULL, *msg;
	int rc;

	*out = NULL;
	memset(&a, 0, sizeof a);
	if (!ctl->token_read && (rc = ctl_read_token(ctl)) != CTL_OK)
		return rc;
	if (ctl->curl == NULL && (ctl->curl = curl_easy_init()) == NULL) {
		ctl_warnx("cannot start libcurl");
		return CTL_USAGE;
	}
	curl_easy_reset(ctl->curl);

	url = ctl_xasprintf("%s%s", ctl->base, path);
	if ((h = curl_slist_append(headers, "Accept: application/json")) ==
	    NULL)
		ctl_nomem();
	headers = h;
	if (ctl->token != NULL) {
		auth = ctl_xasprintf("Authorization: Bearer %s", ctl->token);
		if ((h = curl_slist_append(headers, auth)) == NULL)
			ctl_nomem();
		headers = h;
		explicit_bzero(auth, strlen(auth));
	}
	if (body != NULL) {
		if ((text = json_dumps(body, JSON_COMPACT |
		    JSON_PRESERVE_ORDER)) == NULL)
			ctl_nomem();
		if ((h = curl_slist_append(headers,
		    "Content-Type: application/json")) == NULL)
			ctl_nomem();
		headers = h;
	}

	ctl->errbuf[0] = '\0';
	curl_easy_setopt(ctl->curl, CURLOPT_URL, url);
	curl_easy_setopt(ctl->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(ctl->curl, CURLOPT_ERRORBUFFER, ctl->errbuf);
	curl_easy_setopt(ctl->curl, CURLOPT_WRITEFUNCTION, ctl_write_cb);
	curl_easy_setopt(ctl->curl, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(ctl->curl, CURLOPT_TIMEOUT_MS, ctl->timeout_ms);
	curl_easy_setopt(ctl->curl, CURLOPT_CONNECTTIMEOUT_MS, ctl->timeout_ms);
	curl_easy_setopt(ctl->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ctl->curl, CURLOPT_USERAGENT, "stabilctl/"
	    STABILD_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(ctl->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	if (text != NULL) {
		curl_easy_setopt(ctl->curl, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(ctl->curl, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(text));
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(ctl->curl, CURLOPT_CUSTOMREQUEST, method);

	cc = curl_easy_perform(ctl->curl);
	/* The header list holds the token: wipe it before freeing. */
	for (h = headers; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(headers);
	free(auth);
	free(text);
	free(url);

	if (cc != CURLE_OK) {
		if (a.too_big) {
			ctl_warnx("the answer of stabild is larger than %d MiB",
			    CTL_MAX_ANSWER / (1024 * 1024));
			rc = CTL_API;
		} else {
			curl_easy_getinfo(ctl->curl, CURLINFO_OS_ERRNO, &oserr);
			ctl_warnx("cannot reach stabild at %s: %s", ctl->base,
			    oserr != 0 ? strerror((int)oserr) :
			    ctl->errbuf[0] != '\0' ? ctl->errbuf :
			    curl_easy_strerror(cc));
			rc = CTL_UNREACHABLE;
		}
		free(a.data);
		return rc;
	}
	curl_easy_getinfo(ctl->curl, CURLINFO_RESPONSE_CODE, &code);

	rc = CTL_OK;
	if (code >= 200 && code < 300) {
		if (a.len > 0 && (*out = json_loadb(a.data, a.len, 0,
		    &jerr)) == NULL) {
			ctl_warnx("the answer of stabild is not JSON: %s",
			    jerr.text);
			rc = CTL_API;
		}
	} else {
		msg = ctl_error_message(a.data, a.len);
		if (code == 401 || code == 403)
			rc = ctl_refused(ctl, code, msg);
		else {
			if (code == 404 && ctl->quiet_404) {
				free(ctl->held);
				ctl->held = ctl_xasprintf("stabild answered "
				    "404: %s", msg != NULL ? msg : "not found");
			} else if (msg != NULL)
				ctl_warnx("stabild answered %ld: %s", code,
				    msg);
			else
				ctl_warnx("stabild answered %ld without an "
				    "error message; is %s the stabild API?",
				    code, ctl->base);
			rc = CTL_API;
		}
		free(msg);
	}
	free(a.data);
	return rc;
}

static int
ctl_get(struct ctl *ctl, const char *path, json_t **out)
{
	return ctl_request(ctl, "GET", path, NULL, out);
}

/*
 * GET path for a command that shows a table. With --json the answer is
 * printed here and *out is NULL, as on an error: the caller returns the
 * code. Otherwise *out is the answer to make the table from.
 */
static int
ctl_get_table(struct ctl *ctl, const char *path, json_t **out)
{
	json_t *o;
	int rc;

	*out = NULL;
	if ((rc = ctl_get(ctl, path, &o)) != CTL_OK)
		return rc;
	if (!ctl->json) {
		*out = o;
		return CTL_OK;
	}
	rc = ctl_print_json(o);
	json_decref(o);
	return rc;
}

/* A path segment or query value, percent-encoded. */
static char *
ctl_escape(struct ctl *ctl, const char *s)
{
	char *e, *out;

	if (ctl->curl == NULL && (ctl->curl = curl_easy_init()) == NULL)
		ctl_nomem();
	if ((e = curl_easy_escape(ctl->curl, s, 0)) == NULL)
		ctl_nomem();
	out = ctl_xstrdup(e);
	curl_free(e);
	return out;
}

/* Append "name=value" to a query string being built (*q may be NULL). */
static void
ctl_query_add(struct ctl *ctl, char **q, const char *name, const char *value)
{
	char *e, *n;

	if (value == NULL)
		return;
	e = ctl_escape(ctl, value);
	n = ctl_xasprintf("%s%c%s=%s", *q != NULL ? *q : "",
	    *q != NULL ? '&' : '?', name, e);
	free(e);
	free(*q);
	*q = n;
}

/* A JSON array of the names in a comma-separated list. */
static json_t *
ctl_list_json(const char *list)
{
	json_t *a = json_array();
	const char *p = list, *end;
	size_t len;

	if (a == NULL)
		ctl_nomem();
	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t,");
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len > 0 && json_array_append_new(a,
		    json_stringn(p, len)) == -1)
			ctl_nomem();
		p = end != NULL ? end + 1 : NULL;
	}
	return a;
}

/* status: the daemon's state and its unexplained firing alerts. */
enum {
	STATUS_CHECK, STATUS_STALE, STATUS_COUNT_SILENCED, STATUS_VERBOSE,
	STATUS_BEHIND,
};
static const struct ctl_opt ctl_status_opts[] = {
	[STATUS_CHECK] = { "check", NULL, false,
	    "print only the verdict and why: exit 6 when the stream is\n"
	    "down longer than --stale, 7 when a peer is down, the\n"
	    "peers disagree or this instance is behind more than\n"
	    "--behind, 2 when unexplained alerts are firing, else 0" },
	[STATUS_STALE] = { "stale", "DURATION", false,
	    "with --check: how long the stream may be down (5m)" },
	[STATUS_COUNT_SILENCED] = { "count-silenced", NULL, false,
	    "with --check: count silenced alerts too" },
	[STATUS_VERBOSE] = { "verbose", NULL, false,
	    "with --check: the whole status above the verdict" },
	[STATUS_BEHIND] = { "behind", "DURATION", false,
	    "with --check: how far this instance may be behind its\n"
	    "peers (5m)" },
	{ NULL, NULL, false, NULL },
};

#define CTL_STALE_DEFAULT_S	300
#define CTL_BEHIND_DEFAULT_S	300

static int64_t ctl_parse_duration(const char *);

/* "2h 05m", "5m 03s", "42s": a span for people. */
static void
ctl_span(char *s, size_t len, int64_t secs)
{
	if (secs >= 86400)
		snprintf(s, len, "%dd %02dh", (int)(secs / 86400),
		    (int)(secs / 3600 % 24));
	else if (secs >= 3600)
		snprintf(s, len, "%dh %02dm", (int)(secs / 3600),
		    (int)(secs / 60 % 60));
	else if (secs >= 60)
		snprintf(s, len, "%dm %02ds", (int)(secs / 60),
		    (int)(secs % 60));
	else
		snprintf(s, len, "%ds", (int)secs);
}

/* A figure that is null while the link is down: "unknown", not 0. */
static void
ctl_status_known(struct ctl_table *t, const char *label, const json_t *o,
    const char *path)
{
	const json_t *v = ctl_at(o, path);

	ctl_table_add(t, label);
	if (json_is_null(v) || v == NULL)
		ctl_table_add(t, "unknown");
	else
		ctl_table_value(t, v, 0);
}

static void
ctl_status_row(struct ctl_table *t, const char *label, const json_t *o,
    const char *path)
{
	ctl_table_add(t, label);
	ctl_table_value(t, ctl_at(o, path), 0);
}

/* The rows of HA mode: this instance and a word on each peer. */
static void
ctl_status_ha(struct ctl_table *t, const json_t *ha)
{
	const json_t *peers = ctl_at(ha, "peers"), *p;
	char *line = NULL, *next;
	size_t i;

	ctl_table_add(t, "instance");
	ctl_table_addf(t, "%s (link %s%s)", ctl_str(ha, "instance"),
	    ctl_str(ha, "link") != NULL ? ctl_str(ha, "link") : "?",
	    json_is_false(ctl_at(ha, "agree")) ? ", peers disagree" : "");
	for (i = 0; i < json_array_size(peers); i++) {
		p = json_array_get(peers, i);
		if (json_is_true(ctl_at(p, "self")))
			continue;
		next = ctl_xasprintf("%s%s%s %s, %" JSON_INTEGER_FORMAT " s behind",
		    line != NULL ? line : "", line != NULL ? "; " : "",
		    ctl_str(p, "instance") != NULL ? ctl_str(p, "instance") :
		    "?", json_is_true(ctl_at(p, "up")) ? "up" : "down",
		    json_integer_value(ctl_at(p, "behind_s")));
		free(line);
		line = next;
	}
	ctl_table_add(t, "peers");
	ctl_table_add(t, line != NULL ? line : "none seen");
	free(line);
}

/* The PEERS table. */
static void
ctl_status_peers(const json_t *ha)
{
	static const char *const head[] = { "INSTANCE", "HOST", "STATE",
	    "BEHIND", "APPLIED", "DELIVERED", "BY_PEER" };
	const json_t *peers = ctl_at(ha, "peers"), *p;
	struct ctl_table t;
	size_t i;

	if (json_array_size(peers) == 0)
		return;
	putchar('\n');
	ctl_table_init(&t, 7, head, "lllrlrr");
	for (i = 0; i < json_array_size(peers); i++) {
		p = json_array_get(peers, i);
		ctl_table_addf(&t, "%s%s", ctl_str(p, "instance") != NULL ?
		    ctl_str(p, "instance") : "?",
		    json_is_true(ctl_at(p, "self")) ? " *" : "");
		ctl_table_value(&t, ctl_at(p, "host"), 0);
		ctl_table_addf(&t, "%s%s%s",
		    json_is_true(ctl_at(p, "up")) ? "up" : "down",
		    json_is_false(ctl_at(p, "config_same")) ?
		    ", other config" : "",
		    json_is_true(ctl_at(p, "group_clash")) ?
		    ", our group" : "");
		ctl_table_addf(&t, "%" JSON_INTEGER_FORMAT " s",
		    json_integer_value(ctl_at(p, "behind_s")));
		ctl_table_value(&t, ctl_at(p, "applied"), 0);
		ctl_table_value(&t, ctl_at(p, "delivered"), 0);
		ctl_table_value(&t, ctl_at(p, "by_peer"), 0);
	}
	ctl_table_print(&t);
	ctl_table_free(&t);
}

/*
 * --check in HA mode: print why a peer is a concern. True when one is: a
 * peer down, the peers at odds, or this instance behind more than
 * behind_s.
 */
static bool
ctl_status_peer_check(const json_t *ha, int64_t behind_s)
{
	const json_t *peers = ctl_at(ha, "peers"), *p;
	json_int_t b;
	bool bad = false;
	size_t i;

	for (i = 0; i < json_array_size(peers); i++) {
		p = json_array_get(peers, i);
		b = json_integer_value(ctl_at(p, "behind_s"));
		if (json_is_true(ctl_at(p, "self"))) {
			if (b > behind_s) {
				printf("check: this instance is %"
				    JSON_INTEGER_FORMAT " s behind its peers "
				    "(more than %" PRId64 " s)\n", b,
				    behind_s);
				bad = true;
			}
		} else if (!json_is_true(ctl_at(p, "up"))) {
			printf("check: peer %s on %s is down, last seen %s\n",
			    ctl_str(p, "instance") != NULL ?
			    ctl_str(p, "instance") : "?",
			    ctl_str(p, "host") != NULL ? ctl_str(p, "host") :
			    "?", ctl_str(p, "last_seen") != NULL ?
			    ctl_str(p, "last_seen") : "?");
			bad = true;
		}
	}
	if (json_is_false(ctl_at(ha, "agree"))) {
		printf("check: peers at one position report different "
		    "alerts\n");
		bad = true;
	}
	return bad;
}

static int
ctl_status(struct ctl *ctl, struct ctl_args *a)
{
	static const char unexplained[] =
	    "/v1/alerts?status=firing&classification=unexplained";
	struct ctl_table t;
	json_t *st = NULL, *al = NULL, *list, *v, *x;
	json_int_t up, down_s = -1;
	size_t nsilenced;
	bool silenced;
	char *sid;
	int64_t stale_s = CTL_STALE_DEFAULT_S;
	int64_t behind_s = CTL_BEHIND_DEFAULT_S;
	bool stale = false, peer = false;
	const json_t *ha;
	char *id;
	size_t i, n;
	int rc;

	if (a->val[STATUS_COUNT_SILENCED] != NULL &&
	    a->val[STATUS_CHECK] == NULL) {
		ctl_warnx("status: --count-silenced goes with --check");
		return CTL_USAGE;
	}
	if (a->val[STATUS_VERBOSE] != NULL && a->val[STATUS_CHECK] == NULL) {
		ctl_warnx("status: --verbose goes with --check");
		return CTL_USAGE;
	}
	if (a->val[STATUS_STALE] != NULL) {
		if (a->val[STATUS_CHECK] == NULL) {
			ctl_warnx("status: --stale goes with --check");
			return CTL_USAGE;
		}
		if ((stale_s = ctl_parse_duration(a->val[STATUS_STALE])) < 0) {
			ctl_warnx("status: --stale: expected a duration such "
			    "as 90s, 5m or 1h");
			return CTL_USAGE;
		}
	}
	if (a->val[STATUS_BEHIND] != NULL) {
		if (a->val[STATUS_CHECK] == NULL) {
			ctl_warnx("status: --behind goes with --check");
			return CTL_USAGE;
		}
		if ((behind_s = ctl_parse_duration(a->val[STATUS_BEHIND])) <
		    0) {
			ctl_warnx("status: --behind: expected a duration such "
			    "as 90s, 5m or 1h");
			return CTL_USAGE;
		}
	}
	if ((rc = ctl_get(ctl, "/v1/status", &st)) != CTL_OK)
		return rc;
	ha = ctl_at(st, "ha");
	if (!json_is_object(ha))
		ha = NULL;
	v = ctl_at(st, "stream.down_s");
	if (json_is_integer(v)) {
		down_s = json_integer_value(v);
		stale = down_s > stale_s;
	}
	if (ctl->json && a->val[STATUS_CHECK] == NULL) {
		rc = ctl_print_json(st);
		json_decref(st);
		return rc;
	}
	if ((rc = ctl_get(ctl, unexplained, &al)) != CTL_OK) {
		json_decref(st);
		return rc;
	}
	list = ctl_at(al, "alerts");
	/* A silenced alert is known and set aside: not counted unless asked. */
	nsilenced = 0;
	for (i = 0; i < json_array_size(list); i++) {
		if (json_is_string(ctl_at(json_array_get(list, i),
		    "silenced_by")))
			nsilenced++;
	}
	n = json_array_size(list);
	if (a->val[STATUS_COUNT_SILENCED] == NULL)
		n -= nsilenced;
	if (ctl->json) {
		rc = ctl_print_json(st);
		goto done;
	}
	/* A check says its verdict and why; the figures only when asked. */
	if (a->val[STATUS_CHECK] != NULL && a->val[STATUS_VERBOSE] == NULL)
		goto verdict;

	ctl_table_init(&t, 2, NULL, "ll");
	ctl_status_row(&t, "version", st, "version");
	if (ha != NULL)
		ctl_status_ha(&t, ha);
	up = json_integer_value(ctl_at(st, "uptime_s"));
	ctl_table_add(&t, "uptime");
	if (up >= 86400)
		ctl_table_addf(&t, "%" JSON_INTEGER_FORMAT "d %02d:%02d:%02d",
		    up / 86400, (int)(up / 3600 % 24), (int)(up / 60 % 60),
		    (int)(up % 60));
	else
		ctl_table_addf(&t, "%02d:%02d:%02d", (int)(up / 3600),
		    (int)(up / 60 % 60), (int)(up % 60));
	ctl_table_add(&t, "stream");
	if (down_s >= 0) {
		char span[32];

		ctl_span(span, sizeof span, down_s);
		ctl_table_addf(&t, "%s since %s (%s)",
		    json_string_value(ctl_at(st, "stream.state")),
		    json_string_value(ctl_at(st, "stream.down_since")), span);
		ctl_table_add(&t, "stream error");
		ctl_table_text(&t, ctl_at(st, "stream.last_error"));
		ctl_status_row(&t, "next attempt", st, "stream.retry_at");
	} else
		ctl_table_value(&t, ctl_at(st, "stream.state"), 0);
	/* Only while reading waits for a write that failed (disk full). */
	if (ctl_str(st, "backpressure.reason") != NULL) {
		ctl_table_add(&t, "backpressure");
		ctl_table_addf(&t, "%s, since %s",
		    ctl_str(st, "backpressure.reason"),
		    ctl_str(st, "backpressure.since") != NULL ?
		    ctl_str(st, "backpressure.since") : "?");
	}
	ctl_status_row(&t, "stream key", st, "stream.key");
	ctl_status_row(&t, "group", st, "stream.group");
	ctl_status_row(&t, "consumer", st, "stream.consumer");
	ctl_status_known(&t, "lag", st, "stream.lag");
	ctl_status_known(&t, "pending", st, "stream.pending");
	ctl_status_known(&t, "stream length", st, "stream.length");
	ctl_status_row(&t, "last applied", st, "stream.last_applied");
	ctl_status_row(&t, "last entry at", st, "stream.last_entry_at");
	ctl_status_row(&t, "checkpointed", st, "stream.checkpointed");
	ctl_status_row(&t, "counted", st, "events.counted");
	ctl_status_row(&t, "dead-lettered", st, "events.deadlettered");
	ctl_status_row(&t, "duplicates", st, "events.duplicates");
	ctl_status_row(&t, "late", st, "events.late");
	ctl_status_row(&t, "watermark", st, "watermark");
	ctl_status_row(&t, "latest decided_at", st, "latest_decided_at");
	ctl_status_row(&t, "closed through", st, "closed_through");
	ctl_status_row(&t, "series", st, "series");
	ctl_status_row(&t, "offices", st, "offices");
	ctl_table_add(&t, "memory");
	v = ctl_at(st, "memory_bytes");
	ctl_table_addf(&t, "%.1f MiB", json_number_value(v) / 1048576.0);
	ctl_status_row(&t, "firing alerts", st, "firing_alerts");
	ctl_table_add(&t, "unexplained firing");
	ctl_table_addf(&t, "%zu", json_array_size(list));
	ctl_table_add(&t, "of them silenced");
	ctl_table_addf(&t, "%zu", nsilenced);
	ctl_table_print(&t);
	ctl_table_free(&t);
	if (ha != NULL)
		ctl_status_peers(ha);
	if (a->val[STATUS_CHECK] != NULL)
		putchar('\n');

verdict:
	if (stale && a->val[STATUS_CHECK] != NULL)
		printf("check: the stream has been down for %" PRId64 " s "
		    "(more than %" PRId64 " s), since %s: the figures are "
		    "stale\n", (int64_t)down_s, stale_s,
		    ctl_str(st, "stream.down_since") != NULL ?
		    ctl_str(st, "stream.down_since") : "?");
	if (ha != NULL && a->val[STATUS_CHECK] != NULL)
		peer = ctl_status_peer_check(ha, behind_s);
	if (n > 0 && a->val[STATUS_CHECK] != NULL) {
		printf("check: %zu unexplained firing alert%s:\n", n,
		    n == 1 ? "" : "s");
		for (i = 0; i < json_array_size(list); i++) {
			x = json_array_get(list, i);
			silenced = json_is_string(ctl_at(x, "silenced_by"));
			if (silenced &&
			    a->val[STATUS_COUNT_SILENCED] == NULL)
				continue;
			id = ctl_format(ctl_at(x, "alert_id"), 0);
			if (silenced) {
				sid = ctl_format(ctl_at(x, "silenced_by"), 0);
				printf("  %s (silenced by %s)\n", id, sid);
				free(sid);
			} else
				printf("  %s\n", id);
			free(id);
		}
	} else if (a->val[STATUS_CHECK] != NULL)
		printf("check: no unexplained firing alerts\n");
	if (nsilenced > 0 && a->val[STATUS_CHECK] != NULL &&
	    a->val[STATUS_COUNT_SILENCED] == NULL)
		printf("check: %zu more silenced, not counted "
		    "(--count-silenced counts them)\n", nsilenced);

done:
	/* Stale figures first: the alerts shown may be out of date. */
	if (rc == CTL_OK && a->val[STATUS_CHECK] != NULL && stale)
		rc = CTL_STALE;
	else if (rc == CTL_OK && a->val[STATUS_CHECK] != NULL && peer)
		rc = CTL_PEER;
	else if (rc == CTL_OK && a->val[STATUS_CHECK] != NULL && n > 0)
		rc = CTL_CHECK;
	json_decref(st);
	json_decref(al);
	return rc;
}

/* series: the list with its filters, or one series' history. */
enum {
	SERIES_OFFICE, SERIES_BENEFIT, SERIES_KIND, SERIES_STATE,
	SERIES_LIMIT, SERIES_OFFSET, SERIES_PERIOD, SERIES_FROM, SERIES_TO,
};
static const struct ctl_opt ctl_series_opts[] = {
	[SERIES_OFFICE] = { "office", "OFFICE", false,
	    "only this office (national: the nation)" },
	[SERIES_BENEFIT] = { "benefit", "BENEFIT", false,
	    "only this benefit" },
	[SERIES_KIND] = { "kind", "KIND", false, "only first or ongoing" },
	[SERIES_STATE] = { "state", "STATE", false,
	    "only learning, stable, drifting or explained" },
	[SERIES_LIMIT] = { "limit", "N", false,
	    "at most N series (default: all)" },
	[SERIES_OFFSET] = { "offset", "N", false, "skip the first N series" },
	[SERIES_PERIOD] = { "period", "week|month", false,
	    "history by week (default) or month" },
	[SERIES_FROM] = { "from", "PERIOD", false,
	    "history from this week (2023-W14) or month (2023-04)" },
	[SERIES_TO] = { "to", "PERIOD", false,
	    "history up to this week or month" },
	{ NULL, NULL, false, NULL },
};

/* One page of GET /v1/series into the table. */
static void
ctl_series_rows(struct ctl_table *t, const json_t *body)
{
	const json_t *s, *list = ctl_at(body, "series");
	size_t i;

	for (i = 0; i < json_array_size(list); i++) {
		s = json_array_get(list, i);
		ctl_table_value(t, ctl_at(s, "office"), 0);
		ctl_table_value(t, ctl_at(s, "benefit"), 0);
		ctl_table_value(t, ctl_at(s, "kind"), 0);
		ctl_table_value(t, ctl_at(s, "state"), 0);
		ctl_table_value(t, ctl_at(s, "last_week"), 0);
		ctl_table_value(t, ctl_at(s, "total.decisions"), 0);
		ctl_table_value(t, ctl_at(s, "total.rejection_rate"),
		    CTL_FMT_PCT);
		ctl_table_value(t, ctl_at(s, "rolling.13w.decisions"), 0);
		ctl_table_value(t, ctl_at(s, "rolling.13w.rejection_rate"),
		    CTL_FMT_PCT);
		ctl_table_value(t, ctl_at(s, "rolling.13w.expected_rate"),
		    CTL_FMT_PCT);
		ctl_table_value(t, ctl_at(s, "detector.cusum_up"), 2);
		ctl_table_value(t, ctl_at(s, "detector.cusum_down"), 2);
		ctl_table_value(t, ctl_at(s, "detector.threshold"), 2);
		ctl_table_value(t, ctl_at(s, "detector.flags"), 0);
	}
}

static int
ctl_series_list(struct ctl *ctl, struct ctl_args *a)
{
	static const char *const head[] = { "OFFICE", "BENEFIT", "KIND",
	    "STATE", "LAST_WEEK", "DECISIONS", "RATE", "DECISIONS_13W",
	    "RATE_13W", "EXPECTED_13W", "CUSUM_UP", "CUSUM_DOWN",
	    "THRESHOLD", "FLAGS" };
	struct ctl_table t;
	json_t *body, *all = NULL;
	char *base = NULL, *path, *page;
	bool paging = a->val[SERIES_LIMIT] == NULL &&
	    a->val[SERIES_OFFSET] == NULL;
	json_int_t total = 0, offset = 0;
	size_t got;
	int rc = CTL_OK;

	ctl_query_add(ctl, &base, "office", a->val[SERIES_OFFICE]);
	ctl_query_add(ctl, &base, "benefit", a->val[SERIES_BENEFIT]);
	ctl_query_add(ctl, &base, "kind", a->val[SERIES_KIND]);
	ctl_query_add(ctl, &base, "state", a->val[SERIES_STATE]);
	ctl_query_add(ctl, &base, "limit", a->val[SERIES_LIMIT]);
	ctl_query_add(ctl, &base, "offset", a->val[SERIES_OFFSET]);
	ctl_query_add(ctl, &base, "indicator", ctl->indicator);

	/*
	 * Without --limit or --offset the list is every series: read page
	 * after page. --json then prints them as one answer.
	 */
	ctl_table_init(&t, sizeof head / sizeof head[0], head,
	    "lllllrrrrrrrrl");
	for (;;) {
		page = NULL;
		if (paging) {
			page = ctl_xasprintf("%climit=%d&offset=%"
			    JSON_INTEGER_FORMAT, base != NULL ? '&' : '?',
			    CTL_PAGE, offset);
		}
		path = ctl_xasprintf("/v1/series%s%s", base != NULL ? base :
		    "", page != NULL ? page : "");
		free(page);
		rc = ctl_get(ctl, path, &body);
		free(path);
		if (rc != CTL_OK)
			break;
		got = json_array_size(ctl_at(body, "series"));
		total = json_integer_value(ctl_at(body, "total"));
		offset += (json_int_t)got;
		if (!ctl->json)
			ctl_series_rows(&t, body);
		if (all == NULL)
			all = body;
		else {
			json_array_extend(ctl_at(all, "series"),
			    ctl_at(body, "series"));
			json_decref(body);
		}
		if (!paging || got == 0 || offset >= total)
			break;
	}
	if (rc == CTL_OK && ctl->json)
		rc = ctl_print_json(all);
	else if (rc == CTL_OK) {
		ctl_table_print(&t);
		printf("%zu of %" JSON_INTEGER_FORMAT " series\n",
		    t.ncells / t.ncols, total);
	}
	json_decref(all);
	ctl_table_free(&t);
	free(base);
	return rc;
}

/* The detector's state of one series, above its history. */
static void
ctl_series_header(const json_t *s)
{
	static const struct {
		const char	*label;
		const char	*path;
		int		 decimals;
	} rows[] = {
		{ "state", "state", 0 },
		{ "last week", "last_week", 0 },
		{ "cusum up", "detector.cusum_up", 2 },
		{ "cusum down", "detector.cusum_down", 2 },
		{ "threshold", "detector.threshold", 2 },
		{ "detectable odds ratio", "detector.detectable_odds_ratio",
		    2 },
		{ "alert", "detector.alert", 0 },
		{ "onset", "detector.change.onset", 0 },
		{ "odds ratio", "detector.change.odds_ratio", 2 },
	};
	struct ctl_table t;
	const json_t *flags = ctl_at(s, "detector.flags");
	size_t i;

	ctl_table_init(&t, 2, NULL, "ll");
	ctl_table_add(&t, "series");
	ctl_table_addf(&t, "%s/%s/%s", ctl_str(s, "office"),
	    ctl_str(s, "benefit"), ctl_str(s, "kind"));
	/* Another indicator's series says whose it is. */
	if (ctl_str(s, "indicator") != NULL) {
		ctl_table_add(&t, "indicator");
		ctl_table_add(&t, ctl_str(s, "indicator"));
	}
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		/* A learning series has no detector values yet. */
		if (ctl_at(s, rows[i].path) == NULL)
			continue;
		ctl_table_add(&t, rows[i].label);
		ctl_table_value(&t, ctl_at(s, rows[i].path), rows[i].decimals);
		if (i == 1 && flags != NULL) {
			ctl_table_add(&t, "flags");
			if (json_array_size(flags) > 0)
				ctl_table_value(&t, flags, 0);
			else
				ctl_table_add(&t, "none");
		}
	}
	ctl_table_print(&t);
	ctl_table_free(&t);
}

static int
ctl_series_one(struct ctl *ctl, struct ctl_args *a)
{
	static const char *const head_week[] = { "WEEK", "DECISIONS",
	    "REJECTED", "PARTIAL", "DISMISSED", "RATE", "EXPECTED",
	    "EXPECTED_RATE", "CLOSED" };
	static const char *const head_month[] = { "MONTH", "DECISIONS",
	    "REJECTED", "PARTIAL", "DISMISSED", "RATE", "EXPECTED",
	    "EXPECTED_RATE", "CLOSED" };
	struct ctl_table t;
	const json_t *h, *hist;
	json_t *body;
	char *seg[3], *q = NULL, *path;
	bool months;
	size_t i;
	int rc;

	for (i = 0; i < 3; i++)
		seg[i] = ctl_escape(ctl, a->pos[i]);
	ctl_query_add(ctl, &q, "period", a->val[SERIES_PERIOD]);
	ctl_query_add(ctl, &q, "from", a->val[SERIES_FROM]);
	ctl_query_add(ctl, &q, "to", a->val[SERIES_TO]);
	ctl_query_add(ctl, &q, "indicator", ctl->indicator);
	path = ctl_xasprintf("/v1/series/%s/%s/%s%s", seg[0], seg[1], seg[2],
	    q != NULL ? q : "");
	for (i = 0; i < 3; i++)
		free(seg[i]);
	free(q);
	rc = ctl_get_table(ctl, path, &body);
	free(path);
	if (body == NULL)
		return rc;

	ctl_series_header(body);
	putchar('\n');
	hist = ctl_at(body, "history");
	months = ctl_str(body, "period") != NULL &&
	    strcmp(ctl_str(body, "period"), "month") == 0;
	ctl_table_init(&t, 9, months ? head_month : head_week, "lrrrrrrrl");
	for (i = 0; i < json_array_size(hist); i++) {
		h = json_array_get(hist, i);
		ctl_table_value(&t, ctl_at(h, "period"), 0);
		ctl_table_value(&t, ctl_at(h, "decisions"), 0);
		ctl_table_value(&t, ctl_at(h, "rejected"), 0);
		ctl_table_value(&t, ctl_at(h, "partial"), 0);
		ctl_table_value(&t, ctl_at(h, "dismissed"), 0);
		ctl_table_value(&t, ctl_at(h, "rejection_rate"), CTL_FMT_PCT);
		ctl_table_value(&t, ctl_at(h, "expected"), 1);
		ctl_table_value(&t, ctl_at(h, "expected_rate"), CTL_FMT_PCT);
		ctl_table_value(&t, ctl_at(h, "closed"), 0);
	}
	ctl_table_print(&t);
	ctl_table_free(&t);
	json_decref(body);
	return CTL_OK;
}

static int
ctl_series(struct ctl *ctl, struct ctl_args *a)
{
	if (a->npos == 0) {
		if (a->val[SERIES_PERIOD] != NULL ||
		    a->val[SERIES_FROM] != NULL || a->val[SERIES_TO] != NULL) {
			ctl_warnx("series: --period, --from and --to need "
			    "OFFICE BENEFIT KIND");
			return CTL_USAGE;
		}
		return ctl_series_list(ctl, a);
	}
	if (a->npos != 3) {
		ctl_warnx("series: give OFFICE BENEFIT KIND, or none for the "
		    "list");
		return CTL_USAGE;
	}
	if (a->val[SERIES_OFFICE] != NULL || a->val[SERIES_BENEFIT] != NULL ||
	    a->val[SERIES_KIND] != NULL || a->val[SERIES_STATE] != NULL ||
	    a->val[SERIES_LIMIT] != NULL || a->val[SERIES_OFFSET] != NULL) {
		ctl_warnx("series: the list's filters do not go with OFFICE "
		    "BENEFIT KIND");
		return CTL_USAGE;
	}
	return ctl_series_one(ctl, a);
}

/* alerts: the history with its filters, or one alert in full. */
enum {
	ALERTS_STATUS, ALERTS_CLASSIFICATION, ALERTS_SCOPE, ALERTS_DIRECTION,
	ALERTS_OFFICE, ALERTS_NFILTERS,
	ALERTS_WIDE = ALERTS_NFILTERS,
};
static const struct ctl_opt ctl_alerts_opts[] = {
	[ALERTS_STATUS] = { "status", "STATUS", false, "firing or resolved" },
	[ALERTS_CLASSIFICATION] = { "classification", "CLASS", false,
	    "explained or unexplained" },
	[ALERTS_SCOPE] = { "scope", "SCOPE", false, "office or national" },
	[ALERTS_DIRECTION] = { "direction", "DIR", false, "up or down" },
	[ALERTS_OFFICE] = { "office", "OFFICE", false, "only this office" },
	[ALERTS_WIDE] = { "wide", NULL, false,
	    "every column and the ids whole, in more than 100 columns" },
	{ NULL, NULL, false, NULL },
};

#define CTL_COLUMNS		100	/* width the alerts table keeps to */
#define CTL_BENEFIT_SHORT	5	/* letters a cut benefit keeps */

/*
 * The four dots of an alert id OFFICE.BENEFIT.KIND.ONSET.SUFFIX, found from
 * the right: an office name may hold dots, the other parts cannot.
 */
static int
ctl_id_split(const char *id, size_t dot[4])
{
	size_t n = strlen(id), k = 4;

	while (n > 0 && k > 0) {
		n--;
		if (id[n] == '.')
			dot[--k] = n;
	}
	return k == 0 && dot[0] > 0 && dot[1] > dot[0] + 1 ? 0 : -1;
}

/*
 * Whether given names the alert id: the same but for a benefit cut short
 * to a prefix of the alert's, as the alerts table prints a long id.
 */
static bool
ctl_id_matches(const char *given, const char *id)
{
	size_t g[4], a[4];

	if (ctl_id_split(given, g) == -1 || ctl_id_split(id, a) == -1)
		return false;
	return g[0] == a[0] && strncmp(given, id, g[0]) == 0 &&
	    g[1] - g[0] <= a[1] - a[0] &&
	    strncmp(given + g[0], id + a[0], g[1] - g[0]) == 0 &&
	    strcmp(given + g[1], id + a[1]) == 0;
}

/*
 * id with its benefit cut so that the id takes at most width columns, but
 * to no fewer letters than CTL_BENEFIT_SHORT and than it takes to tell it
 * from every other benefit in names: ctl_alert_get then finds the alert
 * from the cut id. NULL when it is not longer than width or cannot be cut.
 */
static char *
ctl_alert_short(const char *id, size_t width, const json_t *names)
{
	const char *b, *u;
	size_t dot[4], bl, need = CTL_BENEFIT_SHORT, keep, cp, i, len;

	len = strlen(id);
	if (len <= width || ctl_id_split(id, dot) == -1)
		return NULL;
	b = id + dot[0] + 1;
	bl = dot[1] - dot[0] - 1;
	for (i = 0; i < json_array_size(names); i++) {
		u = json_string_value(json_array_get(names, i));
		if (u == NULL || (strlen(u) == bl && strncmp(u, b, bl) == 0))
			continue;
		for (cp = 0; cp < bl && u[cp] == b[cp]; cp++)
			;
		if (cp + 1 > need)
			need = cp + 1;
	}
	keep = bl > len - width ? bl - (len - width) : 0;
	if (keep < need)
		keep = need;
	if (keep >= bl)
		return NULL;
	return ctl_xasprintf("%.*s%.*s%s", (int)(dot[0] + 1), id, (int)keep,
	    b, id + dot[1]);
}

/*
 * GET one alert by its id or by an id the alerts table cut short. 0 with
 * *body the alert, or with *body NULL and the 404's message in ctl->held
 * when no alert matches; else an exit code after a line on stderr.
 */
static int
ctl_alert_get(struct ctl *ctl, const char *id, json_t **body)
{
	const json_t *list, *x;
	const char *full = NULL, *xid;
	json_t *all = NULL;
	char *e, *path, *held;
	size_t i, n = 0;
	int rc;

	*body = NULL;
	e = ctl_escape(ctl, id);
	path = ctl_xasprintf("/v1/alerts/%s", e);
	free(e);
	free(ctl->held);
	ctl->held = NULL;
	ctl->quiet_404 = true;
	rc = ctl_get(ctl, path, body);
	ctl->quiet_404 = false;
	free(path);
	if (rc != CTL_API || ctl->held == NULL)
		return rc;

	/* Not an id as such: perhaps one the table cut short. */
	held = ctl->held;
	ctl->held = NULL;
	if ((rc = ctl_get(ctl, "/v1/alerts", &all)) != CTL_OK) {
		free(held);
		return rc;
	}
	list = ctl_at(all, "alerts");
	for (i = 0; i < json_array_size(list); i++) {
		x = json_array_get(list, i);
		if ((xid = ctl_str(x, "alert_id")) != NULL &&
		    ctl_id_matches(id, xid)) {
			full = xid;
			n++;
		}
	}
	if (n == 0) {
		ctl->held = held;
		json_decref(all);
		return CTL_OK;
	}
	free(held);
	if (n > 1) {
		e = ctl_clean(id, 0);
		ctl_warnx("%s names %zu alerts; give the whole id "
		    "(stabilctl alerts --wide shows it)", e, n);
		free(e);
		json_decref(all);
		return CTL_API;
	}
	e = ctl_escape(ctl, full);
	path = ctl_xasprintf("/v1/alerts/%s", e);
	free(e);
	json_decref(all);
	rc = ctl_get(ctl, path, body);
	free(path);
	return rc;
}

/*
 * The dashboard's page of an alert: its series with the alert chosen. The
 * base is the daemon's own (http.public_url), taken from status_url,
 * which is BASE/v1/series/OFFICE/BENEFIT/KIND; else the API's URL here.
 */
static char *
ctl_alert_link(struct ctl *ctl, const json_t *x)
{
	const char *url = ctl_str(x, "status_url");
	const char *parts[3], *ind;
	char *seg[3], *id, *tail, *link;
	size_t i, len;

	parts[0] = ctl_str(x, "series.office");
	parts[1] = ctl_str(x, "series.benefit");
	parts[2] = ctl_str(x, "series.kind");
	if (parts[0] == NULL || parts[1] == NULL || parts[2] == NULL ||
	    ctl_str(x, "alert_id") == NULL)
		return NULL;
	tail = ctl_xasprintf("/v1/series/%s/%s/%s", parts[0], parts[1],
	    parts[2]);
	/* Another indicator's status_url ends in ?indicator=NAME. */
	len = url != NULL ? strcspn(url, "?") : 0;
	if (len > strlen(tail) &&
	    strncmp(url + len - strlen(tail), tail, strlen(tail)) == 0)
		len -= strlen(tail);
	else {
		url = ctl->base;
		len = strlen(url);
	}
	free(tail);
	for (i = 0; i < 3; i++)
		seg[i] = ctl_escape(ctl, parts[i]);
	id = ctl_escape(ctl, ctl_str(x, "alert_id"));
	ind = ctl_str(x, "indicator");
	link = ctl_xasprintf("%.*s/ui/#/series/%s/%s/%s?%s%s%salert=%s",
	    (int)len, url, seg[0], seg[1], seg[2], ind != NULL ?
	    "indicator=" : "", ind != NULL ? ind : "", ind != NULL ? "&" : "",
	    id);
	for (i = 0; i < 3; i++)
		free(seg[i]);
	free(id);
	return link;
}

static int
ctl_alert_show(struct ctl *ctl, const char *id)
{
	static const char *const skip[] = { "strata", NULL };
	static const char *const head[] = { "STRATUM", "SHARE", "ODDS_RATIO",
	    "EXCESS" };
	struct ctl_table t;
	const json_t *strata, *s;
	json_t *body;
	char *link;
	size_t i;
	int rc;

	if ((rc = ctl_alert_get(ctl, id, &body)) != CTL_OK)
		return rc;
	if (body == NULL) {
		ctl_warnx("%s", ctl->held);
		return CTL_API;
	}
	if (ctl->json) {
		rc = ctl_print_json(body);
		json_decref(body);
		return rc;
	}
	ctl_table_init(&t, 2, NULL, "ll");
	ctl_object_rows(&t, body, "", skip);
	if ((link = ctl_alert_link(ctl, body)) != NULL) {
		ctl_table_add(&t, "dashboard");
		ctl_table_take(&t, ctl_clean(link, 0));
		free(link);
	}
	ctl_table_print(&t);
	ctl_table_free(&t);
	strata = ctl_at(body, "strata");
	if (json_array_size(strata) > 0) {
		putchar('\n');
		ctl_table_init(&t, 4, head, "lrrr");
		for (i = 0; i < json_array_size(strata); i++) {
			s = json_array_get(strata, i);
			ctl_table_value(&t, ctl_at(s, "stratum"), 0);
			ctl_table_value(&t, ctl_at(s, "share"), CTL_FMT_PCT);
			ctl_table_value(&t, ctl_at(s, "odds_ratio"), 2);
			ctl_table_value(&t, ctl_at(s, "excess"), 0);
		}
		ctl_table_print(&t);
		ctl_table_free(&t);
		printf("SHARE is the stratum's part of the excess rejections "
		    "since onset (EXCESS).\nThe strata overlap: a decision "
		    "is in one stratum of each characteristic\n(care=, sex=, "
		    "...), so the shares do not add up to 100 %%.\n");
	}
	printf("\nThe rates, odds ratio and strata are as at detection; "
	    "series_now is the\nseries' last 13 closed weeks as they are "
	    "now.\n");
	json_decref(body);
	return CTL_OK;
}

/* Every benefit an id in the table may need telling apart from. */
static int
ctl_alert_benefits(struct ctl *ctl, const json_t *list, json_t **names)
{
	const json_t *models;
	json_t *body;
	size_t i;
	int rc;

	if ((*names = json_array()) == NULL)
		ctl_nomem();
	for (i = 0; i < json_array_size(list); i++)
		json_array_append(*names, ctl_at(json_array_get(list, i),
		    "series.benefit"));
	/* The configured ones: a filtered table does not show them all. */
	if ((rc = ctl_get(ctl, "/v1/model", &body)) != CTL_OK)
		return rc;
	models = ctl_at(body, "models");
	for (i = 0; i < json_array_size(models); i++)
		json_array_append(*names, ctl_at(json_array_get(models, i),
		    "benefit"));
	json_decref(body);
	return CTL_OK;
}

/*
 * The ids of the table's first column, cut where the table is wider than
 * CTL_COLUMNS. -1 when none was cut, else the exit code of asking for the
 * benefits (0 when all went well).
 */
static int
ctl_alert_fit(struct ctl *ctl, struct ctl_table *t, const json_t *list)
{
	json_t *names = NULL;
	size_t *w = ctl_xcalloc(t->ncols, sizeof *w);
	size_t total, room, i;
	char *cut;
	int rc = -1, asked;

	total = ctl_table_widths(t, w);
	if (total > CTL_COLUMNS && total - w[0] < CTL_COLUMNS) {
		room = CTL_COLUMNS - (total - w[0]);
		for (i = 0; i < t->ncells; i += t->ncols) {
			if (ctl_width(t->cells[i]) <= room)
				continue;
			if (names == NULL &&
			    (asked = ctl_alert_benefits(ctl, list, &names)) !=
			    CTL_OK) {
				rc = asked;
				break;
			}
			if ((cut = ctl_alert_short(t->cells[i], room,
			    names)) == NULL)
				continue;
			free(t->cells[i]);
			t->cells[i] = cut;
			rc = CTL_OK;
		}
	}
	json_decref(names);
	free(w);
	return rc;
}

/* One alert as a row of the table that fits CTL_COLUMNS. */
static void
ctl_alert_row(struct ctl_table *t, const json_t *x)
{
	const char *status = ctl_str(x, "status");
	const char *detected = ctl_str(x, "detected_at");

	ctl_table_value(t, ctl_at(x, "alert_id"), 0);
	/* Silenced: firing, its notifications held back. */
	if (status != NULL && strcmp(status, "firing") == 0 &&
	    json_is_string(ctl_at(x, "silenced_by")))
		ctl_table_add(t, "silenced");
	else
		ctl_table_value(t, ctl_at(x, "status"), 0);
	ctl_table_value(t, ctl_at(x, "classification"), 0);
	ctl_table_value(t, ctl_at(x, "odds_ratio"), 2);
	ctl_table_value(t, ctl_at(x, "current_rate"), CTL_FMT_PCT);
	ctl_table_value(t, ctl_at(x, "series_now.rejection_rate"),
	    CTL_FMT_PCT);
	/* The day says how long it has been; --wide has the time. */
	if (detected != NULL && strlen(detected) >= 10)
		ctl_table_addf(t, "%.10s", detected);
	else
		ctl_table_add(t, "-");
}

/* One alert as a row of the --wide table: every column. */
static void
ctl_alert_row_wide(struct ctl_table *t, const json_t *x)
{
	ctl_table_value(t, ctl_at(x, "alert_id"), 0);
	ctl_table_value(t, ctl_at(x, "status"), 0);
	ctl_table_value(t, ctl_at(x, "classification"), 0);
	ctl_table_value(t, ctl_at(x, "scope"), 0);
	ctl_table_value(t, ctl_at(x, "direction"), 0);
	ctl_table_value(t, ctl_at(x, "onset"), 0);
	ctl_table_value(t, ctl_at(x, "detected_at"), 0);
	ctl_table_value(t, ctl_at(x, "odds_ratio"), 2);
	ctl_table_take(t, ctl_interval(ctl_at(x, "odds_ratio_ci")));
	ctl_table_value(t, ctl_at(x, "baseline_rate"), CTL_FMT_PCT);
	ctl_table_value(t, ctl_at(x, "current_rate"), CTL_FMT_PCT);
	ctl_table_value(t, ctl_at(x, "expected_rate"), CTL_FMT_PCT);
	ctl_table_value(t, ctl_at(x, "series_now.rejection_rate"),
	    CTL_FMT_PCT);
	ctl_table_value(t, ctl_at(x, "explanations"), 0);
	ctl_table_value(t, ctl_at(x, "silenced_by"), 0);
}

static int
ctl_alerts(struct ctl *ctl, struct ctl_args *a)
{
	static const char *const head[] = { "ALERT", "STATUS", "CLASS",
	    "ODDS", "RATE", "NOW_13W", "DETECTED" };
	static const char *const whead[] = { "ALERT", "STATUS",
	    "CLASSIFICATION", "SCOPE", "DIRECTION", "ONSET", "DETECTED_AT",
	    "ODDS_RATIO", "INTERVAL", "BASELINE", "AT_DETECTION", "EXPECTED",
	    "NOW_13W", "EXPLANATIONS", "SILENCED_BY" };
	static const char *const names[ALERTS_NFILTERS] = { "status",
	    "classification", "scope", "direction", "office" };
	bool wide = a->val[ALERTS_WIDE] != NULL;
	struct ctl_table t;
	const json_t *list;
	json_t *body;
	char *q = NULL, *path;
	size_t i;
	int rc, cut = -1;

	if (a->npos == 1) {
		for (i = 0; i < ALERTS_NFILTERS; i++) {
			if (a->val[i] != NULL) {
				ctl_warnx("alerts: filters do not go with an "
				    "alert id");
				return CTL_USAGE;
			}
		}
		if (wide || ctl->indicator != NULL) {
			ctl_warnx("alerts: --%s is for the list", wide ?
			    "wide" : "indicator");
			return CTL_USAGE;
		}
		return ctl_alert_show(ctl, a->pos[0]);
	}
	for (i = 0; i < ALERTS_NFILTERS; i++)
		ctl_query_add(ctl, &q, names[i], a->val[i]);
	ctl_query_add(ctl, &q, "indicator", ctl->indicator);
	path = ctl_xasprintf("/v1/alerts%s", q != NULL ? q : "");
	free(q);
	rc = ctl_get_table(ctl, path, &body);
	free(path);
	if (body == NULL)
		return rc;
	list = ctl_at(body, "alerts");
	if (wide)
		ctl_table_init(&t, sizeof whead / sizeof whead[0], whead,
		    "lllllllrrrrrrll");
	else
		ctl_table_init(&t, sizeof head / sizeof head[0], head,
		    "lllrrrl");
	for (i = 0; i < json_array_size(list); i++) {
		if (wide)
			ctl_alert_row_wide(&t, json_array_get(list, i));
		else
			ctl_alert_row(&t, json_array_get(list, i));
	}
	if (!wide && (cut = ctl_alert_fit(ctl, &t, list)) > 0) {
		ctl_table_free(&t);
		json_decref(body);
		return cut;
	}
	ctl_table_done(&t, json_array_size(list), "alert");
	if (!wide && json_array_size(list) > 0) {
		printf("ODDS (the odds ratio) and RATE are as at detection, "
		    "NOW_13W is the rate of\nthe last 13 closed weeks; "
		    "silenced: firing, its notifications held back.\n");
		if (cut == CTL_OK)
			printf("Ids with a benefit cut short are taken as "
			    "they are by stabilctl alerts ID\nand silence "
			    "add --alert; --wide shows them whole.\n");
		else
			printf("--wide shows every column.\n");
	}
	json_decref(body);
	return CTL_OK;
}

/* Print a one-item answer (explanation, silence) or its JSON. */
static int
ctl_show(struct ctl *ctl, const char *what, const char *id)
{
	static const char *const all[] = { "benefits", "kinds", "offices" };
	json_t *body, *v;
	char *e, *path;
	size_t i;
	int rc;

	e = ctl_escape(ctl, id);
	path = ctl_xasprintf("/v1/%s/%s", what, e);
	free(e);
	rc = ctl_get_table(ctl, path, &body);
	free(path);
	if (body == NULL)
		return rc;
	/* An explanation's empty list means all, not none. */
	for (i = 0; i < sizeof all / sizeof all[0]; i++) {
		v = json_object_get(body, all[i]);
		if (json_is_array(v) && json_array_size(v) == 0)
			json_object_set_new(body, all[i], json_string("all"));
	}
	ctl_print_object(body, NULL);
	json_decref(body);
	return rc;
}

/* DELETE one item; "what id deleted" on stdout. */
static int
ctl_delete(struct ctl *ctl, const char *what, const char *noun,
    const char *id)
{
	json_t *body;
	char *e, *path, *clean;
	int rc;

	e = ctl_escape(ctl, id);
	path = ctl_xasprintf("/v1/%s/%s", what, e);
	free(e);
	rc = ctl_request(ctl, "DELETE", path, NULL, &body);
	free(path);
	json_decref(body);
	if (rc == CTL_OK && !ctl->json) {
		clean = ctl_clean(id, 0);
		printf("%s %s deleted\n", noun, clean);
		free(clean);
	}
	return rc;
}

/* explain list|show|add|rm: the registry of legitimate explanations. */
static const struct ctl_opt ctl_no_opts[] = {
	{ NULL, NULL, false, NULL },
};

static int
ctl_explain_list(struct ctl *ctl, struct ctl_args *a)
{
	static const char *const head[] = { "ID", "KIND", "EFFECTIVE_FROM",
	    "EFFECTIVE_TO", "BENEFITS", "KINDS", "OFFICES", "SOURCE",
	    "REFERENCE", "DESCRIPTION" };
	static const char *const lists[] = { "benefits", "kinds", "offices" };
	struct ctl_table t;
	const json_t *list, *x, *v;
	json_t *body;
	size_t i, j;
	int rc;

	(void)a;
	rc = ctl_get_table(ctl, "/v1/explanations", &body);
	if (body == NULL)
		return rc;
	list = ctl_at(body, "explanations");
	ctl_table_init(&t, sizeof head / sizeof head[0], head, "llllllllll");
	for (i = 0; i < json_array_size(list); i++) {
		x = json_array_get(list, i);
		ctl_table_value(&t, ctl_at(x, "id"), 0);
		ctl_table_value(&t, ctl_at(x, "kind"), 0);
		ctl_table_value(&t, ctl_at(x, "effective_from"), 0);
		ctl_table_value(&t, ctl_at(x, "effective_to"), 0);
		for (j = 0; j < sizeof lists / sizeof lists[0]; j++) {
			v = ctl_at(x, lists[j]);
			if (json_array_size(v) == 0)
				ctl_table_add(&t, "all");
			else
				ctl_table_value(&t, v, 0);
		}
		ctl_table_value(&t, ctl_at(x, "source"), 0);
		ctl_table_text(&t, ctl_at(x, "reference"));
		ctl_table_text(&t, ctl_at(x, "description"));
	}
	ctl_table_done(&t, json_array_size(list), "explanation");
	json_decref(body);
	return CTL_OK;
}

static int
ctl_explain_show(struct ctl *ctl, struct ctl_args *a)
{
	return ctl_show(ctl, "explanations", a->pos[0]);
}

enum {
	EXPLAIN_KIND, EXPLAIN_FROM, EXPLAIN_TO, EXPLAIN_BENEFITS,
	EXPLAIN_KINDS, EXPLAIN_OFFICES, EXPLAIN_REFERENCE, EXPLAIN_DESCRIPTION,
	EXPLAIN_FORCE, EXPLAIN_INDICATORS,
};
static const struct ctl_opt ctl_explain_add_opts[] = {
	[EXPLAIN_KIND] = { "kind", "KIND", false,
	    "legislation, legal_position, court_ruling, case_mix,\n"
	    "data_correction or context (required)" },
	[EXPLAIN_FROM] = { "effective-from", "YYYY-MM-DD", false,
	    "first day the cause applies (required)" },
	[EXPLAIN_TO] = { "effective-to", "YYYY-MM-DD", false,
	    "last day it applies (default: open)" },
	[EXPLAIN_BENEFITS] = { "benefits", "LIST", true,
	    "benefits it covers, comma-separated (default: all)" },
	[EXPLAIN_KINDS] = { "kinds", "LIST", true,
	    "decision kinds it covers: first, ongoing (default: both)" },
	[EXPLAIN_OFFICES] = { "offices", "LIST", true,
	    "offices it covers (default: all and the nation)" },
	[EXPLAIN_REFERENCE] = { "reference", "TEXT", false,
	    "where the cause is documented" },
	[EXPLAIN_DESCRIPTION] = { "description", "TEXT", false,
	    "what changed" },
	[EXPLAIN_FORCE] = { "force", NULL, false,
	    "register it for offices stabild has not seen yet" },
	[EXPLAIN_INDICATORS] = { "indicators", "LIST", true,
	    "indicators it covers, rejection among them (default: all)" },
	{ NULL, NULL, false, NULL },
};

static int
ctl_explain_add(struct ctl *ctl, struct ctl_args *a)
{
	json_t *o, *body = NULL;
	char *id;
	int rc;

	if (a->val[EXPLAIN_KIND] == NULL || a->val[EXPLAIN_FROM] == NULL) {
		ctl_warnx("explain add: --kind and --effective-from are "
		    "required");
		return CTL_USAGE;
	}
	/* Contract §2 members, in its order; the daemon checks values. */
	o = json_pack("{s:s, s:s, s:s, s:s?, s:o, s:o, s:o, s:s?, s:s?}",
	    "id", a->pos[0],
	    "kind", a->val[EXPLAIN_KIND],
	    "effective_from", a->val[EXPLAIN_FROM],
	    "effective_to", a->val[EXPLAIN_TO],
	    "benefits", ctl_list_json(a->val[EXPLAIN_BENEFITS]),
	    "kinds", ctl_list_json(a->val[EXPLAIN_KINDS]),
	    "offices", ctl_list_json(a->val[EXPLAIN_OFFICES]),
	    "reference", a->val[EXPLAIN_REFERENCE],
	    "description", a->val[EXPLAIN_DESCRIPTION]);
	/* Only when given, so that a request of before stays as it was. */
	if (o != NULL && a->val[EXPLAIN_INDICATORS] != NULL &&
	    json_object_set_new(o, "indicators",
	    ctl_list_json(a->val[EXPLAIN_INDICATORS])) == -1) {
		json_decref(o);
		o = NULL;
	}
	if (o == NULL) {
		ctl_warnx("explain add: arguments must be UTF-8");
		return CTL_USAGE;
	}
	rc = ctl_request(ctl, "POST", a->val[EXPLAIN_FORCE] != NULL ?
	    "/v1/explanations?force=true" : "/v1/explanations", o, &body);
	json_decref(o);
	if (rc == CTL_OK && ctl->json)
		rc = ctl_print_json(body);
	else if (rc == CTL_OK) {
		id = ctl_clean(ctl_str(body, "id") != NULL ?
		    ctl_str(body, "id") : a->pos[0], 0);
		printf("explanation %s registered\n", id);
		free(id);
	}
	json_decref(body);
	return rc;
}

static int
ctl_explain_rm(struct ctl *ctl, struct ctl_args *a)
{
	return ctl_delete(ctl, "explanations", "explanation", a->pos[0]);
}

/* silence list|show|add|rm: hold back notifications of matching alerts. */
static int
ctl_silence_list(struct ctl *ctl, struct ctl_args *a)
{
	static const char *const head[] = { "ID", "ACTIVE", "ENDS_AT",
	    "MATCHERS", "CREATED_BY", "CREATED_AT", "COMMENT" };
	struct ctl_table t;
	const json_t *list, *x, *v;
	const char *key;
	json_t *body;
	char *m, *n, *val;
	size_t i;
	int rc;

	(void)a;
	rc = ctl_get_table(ctl, "/v1/silences", &body);
	if (body == NULL)
		return rc;
	list = ctl_at(body, "silences");
	ctl_table_init(&t, sizeof head / sizeof head[0], head, "lllllll");
	for (i = 0; i < json_array_size(list); i++) {
		x = json_array_get(list, i);
		ctl_table_value(&t, ctl_at(x, "id"), 0);
		ctl_table_value(&t, ctl_at(x, "active"), 0);
		ctl_table_value(&t, ctl_at(x, "ends_at"), 0);
		m = ctl_xstrdup("");
		json_object_foreach(ctl_at(x, "matchers"), key, v) {
			val = ctl_format(v, 0);
			n = ctl_xasprintf("%s%s%s=%s", m, *m != '\0' ? "," : "",
			    key, val);
			free(val);
			free(m);
			m = n;
		}
		ctl_table_take(&t, ctl_clean(m, 0));
		free(m);
		ctl_table_value(&t, ctl_at(x, "created_by"), 0);
		ctl_table_value(&t, ctl_at(x, "created_at"), 0);
		ctl_table_text(&t, ctl_at(x, "comment"));
	}
	ctl_table_done(&t, json_array_size(list), "silence");
	json_decref(body);
	return CTL_OK;
}

static int
ctl_silence_show(struct ctl *ctl, struct ctl_args *a)
{
	return ctl_show(ctl, "silences", a->pos[0]);
}

enum {
	SILENCE_OFFICE, SILENCE_BENEFIT, SILENCE_KIND, SILENCE_SCOPE,
	SILENCE_DIRECTION, SILENCE_CLASSIFICATION, SILENCE_ALERT,
	SILENCE_INDICATOR, SILENCE_NMATCHERS,
	SILENCE_ENDS = SILENCE_NMATCHERS, SILENCE_DURATION, SILENCE_COMMENT,
	SILENCE_CREATED_BY, SILENCE_FORCE,
};
static const struct ctl_opt ctl_silence_add_opts[] = {
	[SILENCE_OFFICE] = { "office", "OFFICE", false,
	    "match alerts of this office (national: the nation)" },
	[SILENCE_BENEFIT] = { "benefit", "BENEFIT", false,
	    "match alerts of this benefit" },
	[SILENCE_KIND] = { "kind", "KIND", false,
	    "match alerts of this decision kind: first or ongoing" },
	[SILENCE_SCOPE] = { "scope", "SCOPE", false,
	    "match office or national alerts" },
	[SILENCE_DIRECTION] = { "direction", "DIR", false,
	    "match up or down alerts" },
	[SILENCE_CLASSIFICATION] = { "classification", "CLASS", false,
	    "match explained or unexplained alerts" },
	[SILENCE_ALERT] = { "alert", "ID", false, "match this one alert" },
	[SILENCE_INDICATOR] = { "indicator", "NAME", false,
	    "match alerts of this indicator (rejection, ...)" },
	[SILENCE_ENDS] = { "ends", "TIME", false,
	    "end, RFC 3339 (2024-06-01T00:00:00Z)" },
	[SILENCE_DURATION] = { "duration", "DURATION", false,
	    "or end this long from now: 90m, 8h, 3d, 2w" },
	[SILENCE_COMMENT] = { "comment", "TEXT", false, "why (required)" },
	[SILENCE_CREATED_BY] = { "created-by", "NAME", false,
	    "who (default: the login name)" },
	[SILENCE_FORCE] = { "force", NULL, false,
	    "match an office or alert stabild has not seen yet" },
	{ NULL, NULL, false, NULL },
};

/* "90m", "8h", "1d12h", bare seconds: seconds, or -1. */
static int64_t
ctl_parse_duration(const char *s)
{
	int64_t total = 0, v, unit;
	char *end;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return -1;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0 || v > INT32_MAX)
			return -1;
		switch (*end) {
		case 's':
		case '\0':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		case 'w':
			unit = 7 * 86400;
			break;
		default:
			return -1;
		}
		total += v * unit;
		/* Ten years will do. */
		if (total > (int64_t)3650 * 86400)
			return -1;
		s = *end != '\0' ? end + 1 : end;
	}
	return total;
}

/*
 * --alert ID: the whole id of the alert it names (the alerts table may cut
 * ids short). An id no alert has is refused unless --force: a silence for
 * it would hold nothing back.
 */
static int
ctl_silence_alert(struct ctl *ctl, struct ctl_args *a)
{
	json_t *body;
	const char *full;
	char *clean;
	int rc;

	if ((rc = ctl_alert_get(ctl, a->val[SILENCE_ALERT], &body)) !=
	    CTL_OK)
		return rc;
	if (body == NULL && a->val[SILENCE_FORCE] != NULL)
		return CTL_OK;
	if (body == NULL) {
		clean = ctl_clean(a->val[SILENCE_ALERT], 0);
		ctl_warnx("silence add: no alert %s (stabilctl alerts lists "
		    "them); --force silences that id anyway", clean);
		free(clean);
		return CTL_API;
	}
	if ((full = ctl_str(body, "alert_id")) != NULL &&
	    strcmp(full, a->val[SILENCE_ALERT]) != 0) {
		free(a->val[SILENCE_ALERT]);
		a->val[SILENCE_ALERT] = ctl_xstrdup(full);
	}
	json_decref(body);
	return CTL_OK;
}

static int
ctl_silence_add(struct ctl *ctl, struct ctl_args *a)
{
	static const char *const keys[SILENCE_NMATCHERS] = { "office",
	    "benefit", "kind", "scope", "direction", "classification",
	    "alert_id", "indicator" };
	const struct passwd *pw;
	json_t *o, *m, *body = NULL;
	char ends[32], *id, *end_at;
	const char *by = a->val[SILENCE_CREATED_BY];
	int64_t secs;
	time_t t;
	struct tm tm;
	int i, rc;

	if ((a->val[SILENCE_ENDS] == NULL) ==
	    (a->val[SILENCE_DURATION] == NULL)) {
		ctl_warnx("silence add: give one of --ends and --duration");
		return CTL_USAGE;
	}
	if (a->val[SILENCE_COMMENT] == NULL) {
		ctl_warnx("silence add: --comment is required");
		return CTL_USAGE;
	}
	if ((m = json_object()) == NULL)
		ctl_nomem();
	for (i = 0; i < SILENCE_NMATCHERS; i++) {
		if (a->val[i] != NULL && json_object_set_new(m, keys[i],
		    json_string(a->val[i])) == -1) {
			json_decref(m);
			ctl_warnx("silence add: --%s must be UTF-8", ctl_silence_add_opts[i].name);
			return CTL_USAGE;
		}
	}
	if (json_object_size(m) == 0) {
		json_decref(m);
		ctl_warnx("silence add: give at least one matcher (--office, "
		    "--benefit, --kind, --scope, --direction, "
		    "--classification, --alert, --indicator)");
		return CTL_USAGE;
	}
	if (a->val[SILENCE_DURATION] != NULL) {
		secs = ctl_parse_duration(a->val[SILENCE_DURATION]);
		if (secs <= 0) {
			json_decref(m);
			ctl_warnx("silence add: --duration: expected a time "
			    "like 90m, 8h, 3d or 2w");
			return CTL_USAGE;
		}
		t = time(NULL) + (time_t)secs;
		if (gmtime_r(&t, &tm) == NULL || strftime(ends, sizeof ends,
		    "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
			json_decref(m);
			ctl_warnx("silence add: cannot compute the end");
			return CTL_USAGE;
		}
		end_at = ends;
	} else
		end_at = a->val[SILENCE_ENDS];
	if (by == NULL && (pw = getpwuid(getuid())) != NULL)
		by = pw->pw_name;
	/* The usage is sound: now the alert may be asked for. */
	if (a->val[SILENCE_ALERT] != NULL) {
		if ((rc = ctl_silence_alert(ctl, a)) != CTL_OK) {
			json_decref(m);
			return rc;
		}
		json_object_set_new(m, "alert_id",
		    json_string(a->val[SILENCE_ALERT]));
	}

	o = json_pack("{s:o, s:s, s:s, s:s?}", "matchers", m,
	    "ends_at", end_at, "comment", a->val[SILENCE_COMMENT],
	    "created_by", by);
	if (o == NULL) {
		ctl_warnx("silence add: arguments must be UTF-8");
		return CTL_USAGE;
	}
	rc = ctl_request(ctl, "POST", a->val[SILENCE_FORCE] != NULL ?
	    "/v1/silences?force=true" : "/v1/silences", o, &body);
	json_decref(o);
	if (rc == CTL_OK && ctl->json)
		rc = ctl_print_json(body);
	else if (rc == CTL_OK) {
		id = ctl_format(ctl_at(body, "id"), 0);
		end_at = ctl_format(ctl_at(body, "ends_at"), 0);
		printf("silence %s created, until %s\n", id, end_at);
		free(id);
		free(end_at);
	}
	json_decref(body);
	return rc;
}

static int
ctl_silence_rm(struct ctl *ctl, struct ctl_args *a)
{
	return ctl_delete(ctl, "silences", "silence", a->pos[0]);
}

/* model show [BENEFIT KIND]: the case-mix models, or one with its terms. */
static int
ctl_model_show(struct ctl *ctl, struct ctl_args *a)
{
	static const char *const head[] = { "BENEFIT", "KIND", "FITTED",
	    "VERSION", "REFERENCE_FROM", "REFERENCE_TO", "DECISIONS",
	    "REJECTED", "EXPECTED", "ITERATIONS", "CONVERGED", "TAU2_NATIONAL",
	    "TAU2_OFFICE" };
	static const char *const ihead[] = { "INDICATOR", "BENEFIT", "KIND",
	    "FITTED", "VERSION", "REFERENCE_FROM", "REFERENCE_TO", "EVENTS",
	    "YES", "EXPECTED", "ITERATIONS", "CONVERGED", "TAU2_NATIONAL",
	    "TAU2_OFFICE" };
	static const char *const chead[] = { "COEFFICIENT", "VALUE", "SE" };
	static const char *const skip[] = { "coefficients", NULL };
	struct ctl_table t;
	const json_t *list, *m, *coef, *c;
	json_t *body;
	char *q = NULL, *path;
	bool others = false;
	size_t i;
	int rc;

	if (a->npos == 1) {
		ctl_warnx("model show: give BENEFIT and KIND, or neither");
		return CTL_USAGE;
	}
	ctl_query_add(ctl, &q, "indicator", ctl->indicator);
	path = ctl_xasprintf("/v1/model%s", q != NULL ? q : "");
	free(q);
	rc = ctl_get(ctl, path, &body);
	free(path);
	if (rc != CTL_OK)
		return rc;
	list = ctl_at(body, "models");
	if (a->npos == 0) {
		if (ctl->json) {
			rc = ctl_print_json(body);
			json_decref(body);
			return rc;
		}
		/* Another indicator's models: a column says whose. */
		for (i = 0; i < json_array_size(list); i++)
			if (ctl_at(json_array_get(list, i), "indicator") != NULL)
				others = true;
		if (others)
			ctl_table_init(&t, sizeof ihead / sizeof ihead[0],
			    ihead, "llllrllrrrrlrr");
		else
			ctl_table_init(&t, sizeof head / sizeof head[0], head,
			    "lllrllrrrrlrr");
		for (i = 0; i < json_array_size(list); i++) {
			m = json_array_get(list, i);
			if (others)
				ctl_table_add(&t, ctl_str(m, "indicator") !=
				    NULL ? ctl_str(m, "indicator") :
				    "rejection");
			ctl_table_value(&t, ctl_at(m, "benefit"), 0);
			ctl_table_value(&t, ctl_at(m, "kind"), 0);
			ctl_table_value(&t, ctl_at(m, "fitted"), 0);
			ctl_table_value(&t, ctl_at(m, "version"), 0);
			ctl_table_value(&t, ctl_at(m, "reference_window.from"),
			    0);
			ctl_table_value(&t, ctl_at(m, "reference_window.to"),
			    0);
			ctl_table_value(&t, ctl_at(m, "fit.decisions"), 0);
			ctl_table_value(&t, ctl_at(m, "fit.rejected"), 0);
			ctl_table_value(&t, ctl_at(m, "fit.expected"), 1);
			ctl_table_value(&t, ctl_at(m, "fit.iterations"), 0);
			ctl_table_value(&t, ctl_at(m, "fit.converged"), 0);
			ctl_table_value(&t, ctl_at(m, "tau2_national"), 5);
			ctl_table_value(&t, ctl_at(m, "tau2_office"), 5);
		}
		ctl_table_print(&t);
		ctl_table_free(&t);
		json_decref(body);
		return CTL_OK;
	}

	/*
	 * The API has no path for one model: pick it from the list, of the
	 * indicator asked for, else rejection's (no "indicator" member).
	 */
	for (i = 0, m = NULL; m == NULL && i < json_array_size(list); i++) {
		c = json_array_get(list, i);
		if (ctl->indicator == NULL && ctl_at(c, "indicator") != NULL)
			continue;
		if (ctl_str(c, "benefit") != NULL &&
		    ctl_str(c, "kind") != NULL &&
		    strcmp(ctl_str(c, "benefit"), a->pos[0]) == 0 &&
		    strcmp(ctl_str(c, "kind"), a->pos[1]) == 0)
			m = c;
	}
	if (m == NULL) {
		ctl_warnx("model show: no model for %s/%s", a->pos[0],
		    a->pos[1]);
		json_decref(body);
		return CTL_API;
	}
	if (ctl->json) {
		rc = ctl_print_json(m);
		json_decref(body);
		return rc;
	}
	ctl_print_object(m, skip);
	coef = ctl_at(m, "coefficients");
	if (json_array_size(coef) > 0) {
		putchar('\n');
		ctl_table_init(&t, 3, chead, "lrr");
		for (i = 0; i < json_array_size(coef); i++) {
			c = json_array_get(coef, i);
			ctl_table_value(&t, ctl_at(c, "name"), 0);
			ctl_table_value(&t, ctl_at(c, "value"), 4);
			ctl_table_value(&t, ctl_at(c, "se"), 4);
		}
		ctl_table_print(&t);
		ctl_table_free(&t);
	}
	json_decref(body);
	return CTL_OK;
}

/*
 * indicators: the configured indicators, rejection first, with their
 * national states as "benefit/kind state" per national series.
 */
static int
ctl_indicators(struct ctl *ctl, struct ctl_args *a)
{
	static const char *const head[] = { "NAME", "EVENT", "YES", "NO",
	    "LABEL", "ALERTS", "SERIES", "FIRING", "UNEXPLAINED", "NATIONAL" };
	struct ctl_table t;
	const json_t *list, *x, *nat, *n;
	json_t *body;
	char *states, *more;
	size_t i, j;
	int rc;

	(void)a;
	if ((rc = ctl_get_table(ctl, "/v1/indicators", &body)) != CTL_OK ||
	    body == NULL)
		return rc;
	list = ctl_at(body, "indicators");
	ctl_table_init(&t, sizeof head / sizeof head[0], head, "lllllrrrrl");
	for (i = 0; i < json_array_size(list); i++) {
		x = json_array_get(list, i);
		ctl_table_value(&t, ctl_at(x, "name"), 0);
		ctl_table_value(&t, ctl_at(x, "event"), 0);
		ctl_table_value(&t, ctl_at(x, "yes"), 0);
		ctl_table_value(&t, ctl_at(x, "no"), 0);
		ctl_table_value(&t, ctl_at(x, "label"), 0);
		ctl_table_add(&t, json_is_true(ctl_at(x, "alerts")) ? "on" :
		    "off");
		ctl_table_value(&t, ctl_at(x, "series"), 0);
		ctl_table_value(&t, ctl_at(x, "firing"), 0);
		ctl_table_value(&t, ctl_at(x, "firing_unexplained"), 0);
		nat = ctl_at(x, "national");
		states = ctl_xstrdup("");
		for (j = 0; j < json_array_size(nat); j++) {
			n = json_array_get(nat, j);
			more = ctl_xasprintf("%s%s%s/%s %s", states,
			    j > 0 ? ", " : "",
			    ctl_str(n, "benefit") != NULL ?
			    ctl_str(n, "benefit") : "-",
			    ctl_str(n, "kind") != NULL ? ctl_str(n, "kind") :
			    "-", ctl_str(n, "state") != NULL ?
			    ctl_str(n, "state") : "none");
			free(states);
			states = more;
		}
		ctl_table_take(&t, states);
	}
	ctl_table_done(&t, json_array_size(list), "indicator");
	json_decref(body);
	return CTL_OK;
}

/*
 * checkpoint: have stabild write a checkpoint now (before maintenance) and
 * say what it covers; the answer comes once it is on disk.
 */
static int
ctl_checkpoint(struct ctl *ctl, struct ctl_args *a)
{
	json_t *req, *body;
	const char *id;
	int rc;

	(void)a;
	if ((req = json_object()) == NULL)
		ctl_nomem();
	rc = ctl_request(ctl, "POST", "/v1/checkpoint", req, &body);
	json_decref(req);
	if (rc == CTL_OK && body != NULL) {
		if (ctl->json)
			rc = ctl_print_json(body);
		else {
			id = json_string_value(json_object_get(body,
			    "checkpointed"));
			printf("checkpointed %s, %" JSON_INTEGER_FORMAT
			    " counted\n", id != NULL ? id : "-",
			    json_integer_value(json_object_get(body,
			    "counted")));
		}
	}
	json_decref(body);
	return rc;
}

/* The commands, like a show_map: name, action, positionals, handler. */
static const struct ctl_cmd ctl_cmds[] = {
	{ "status", NULL, "", ctl_status_opts, 0, 0, ctl_status,
	    "Show the daemon's state: stream, counts, watermark, alerts." , false },
	{ "series", NULL, "[OFFICE BENEFIT KIND]", ctl_series_opts, 0, 3,
	    ctl_series,
	    "List the series with their drift state, or show one series'\n"
	    "history (--period, --from, --to) and detector state.", true },
	{ "alerts", NULL, "[ID]", ctl_alerts_opts, 0, 1, ctl_alerts,
	    "List alerts, newest first, in 100 columns (--wide: all), or\n"
	    "show one alert in full with a link to its dashboard page.", true },
	{ "indicators", NULL, "", ctl_no_opts, 0, 0, ctl_indicators,
	    "List the indicators: what each counts, its label, whether it\n"
	    "alerts, its series, firing alerts and national states.", false },
	{ "explain", "list", "", ctl_no_opts, 0, 0, ctl_explain_list,
	    "List the registered explanations." , false },
	{ "explain", "show", "ID", ctl_no_opts, 1, 1, ctl_explain_show,
	    "Show one explanation." , false },
	{ "explain", "add", "ID", ctl_explain_add_opts, 1, 1,
	    ctl_explain_add,
	    "Register a legitimate explanation (write role)." , false },
	{ "explain", "rm", "ID", ctl_no_opts, 1, 1, ctl_explain_rm,
	    "Delete an explanation registered through the API (write role)." , false },
	{ "silence", "list", "", ctl_no_opts, 0, 0, ctl_silence_list,
	    "List the silences." , false },
	{ "silence", "show", "ID", ctl_no_opts, 1, 1, ctl_silence_show,
	    "Show one silence." , false },
	{ "silence", "add", "", ctl_silence_add_opts, 0, 0, ctl_silence_add,
	    "Silence notifications of matching alerts (write role)." , false },
	{ "silence", "rm", "ID", ctl_no_opts, 1, 1, ctl_silence_rm,
	    "Delete a silence (write role)." , false },
	{ "model", "show", "[BENEFIT KIND]", ctl_no_opts, 0, 2,
	    ctl_model_show,
	    "Show the case-mix models, or one model's coefficients.", true },
	{ "checkpoint", NULL, "", ctl_no_opts, 0, 0, ctl_checkpoint,
	    "Write a checkpoint now and show the entry it covers (write\n"
	    "role); waits until it is on disk (see --timeout)." , false },
};
#define CTL_NCMDS	(sizeof ctl_cmds / sizeof ctl_cmds[0])

static void
ctl_usage(FILE *f)
{
	const struct ctl_cmd *c;
	size_t i;

	fputs("usage: stabilctl [options] COMMAND [arguments]\n\n"
	    "Commands:\n", f);
	for (i = 0; i < CTL_NCMDS; i++) {
		c = &ctl_cmds[i];
		fprintf(f, "  %s%s%s%s%s\n", c->name,
		    c->action != NULL ? " " : "",
		    c->action != NULL ? c->action : "",
		    *c->synopsis != '\0' ? " " : "", c->synopsis);
	}
	fprintf(f, "\nOptions (also after the command):\n%s\n%s"
	    "'stabilctl COMMAND --help' lists a command's options; "
	    "stabilctl(1) has the rest.\n", ctl_global_help, ctl_exit_help);
}

static void
ctl_cmd_usage(FILE *f, const struct ctl_cmd *c)
{
	const struct ctl_opt *o;
	const char *p;
	char *left;

	fprintf(f, "usage: stabilctl %s%s%s [options]%s%s\n\n%s\n",
	    c->name, c->action != NULL ? " " : "",
	    c->action != NULL ? c->action : "",
	    *c->synopsis != '\0' ? " " : "", c->synopsis, c->help);
	if (c->opts[0].name != NULL)
		fputs("\nOptions:\n", f);
	for (o = c->opts; o->name != NULL; o++) {
		left = ctl_xasprintf("--%s%s%s", o->name, o->arg != NULL ?
		    " " : "", o->arg != NULL ? o->arg : "");
		fprintf(f, "  %-26s ", left);
		free(left);
		/* Continuation lines of the help line up under it. */
		for (p = o->help; *p != '\0'; p++) {
			fputc(*p, f);
			if (*p == '\n')
				fprintf(f, "  %-26s ", "");
		}
		fprintf(f, "%s\n", o->list ? "; repeatable" : "");
	}
	fprintf(f, "\nGlobal options:\n%s", ctl_global_help);
}

/* --timeout SECONDS, fractions allowed. */
static int
ctl_parse_timeout(struct ctl *ctl, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) ||
	    v > CTL_MAX_TIMEOUT_S) {
		ctl_warnx("--timeout: expected seconds, more than 0 and at "
		    "most %d", CTL_MAX_TIMEOUT_S);
		return -1;
	}
	ctl->timeout_ms = (long)(v * 1000);
	if (ctl->timeout_ms < 1)
		ctl->timeout_ms = 1;
	return 0;
}

/* The API's base URL; from names where it came from, for the error. */
static int
ctl_set_url(struct ctl *ctl, const char *url, const char *from)
{
	size_t len = strlen(url);

	if (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0) {
		ctl_warnx("%s: expected http://HOST:PORT or "
		    "https://HOST:PORT", from);
		return -1;
	}
	while (len > 0 && url[len - 1] == '/')
		len--;
	free(ctl->base);
	if ((ctl->base = strndup(url, len)) == NULL)
		ctl_nomem();
	return 0;
}

/* What a global option asks for. */
enum ctl_optres {
	CTL_OPT_DONE,		/* handled */
	CTL_OPT_EXIT_OK,	/* help or version printed */
	CTL_OPT_ERROR,		/* message printed: usage error */
	CTL_OPT_NOT_GLOBAL,
};

static enum ctl_optres
ctl_global_option(struct ctl *ctl, int ch, char **argv,
    const struct ctl_cmd *cmd)
{
	switch (ch) {
	case 'u':
		return ctl_set_url(ctl, optarg, "--url") == 0 ? CTL_OPT_DONE :
		    CTL_OPT_ERROR;
	case 'j':
		ctl->json = true;
		return CTL_OPT_DONE;
	case 't':
		ctl->token_file = optarg;
		return CTL_OPT_DONE;
	case CTL_OPT_TIMEOUT:
		return ctl_parse_timeout(ctl, optarg) == 0 ? CTL_OPT_DONE :
		    CTL_OPT_ERROR;
	case CTL_OPT_TOKEN:
		ctl_warnx("the token is not taken on the command line, where "
		    "others can see it; use --token-file FILE or "
		    "STABILD_TOKEN");
		return CTL_OPT_ERROR;
	case 'h':
		if (cmd != NULL)
			ctl_cmd_usage(stdout, cmd);
		else
			ctl_usage(stdout);
		return CTL_OPT_EXIT_OK;
	case CTL_OPT_VERSION:
		printf("stabilctl %s\n", STABILD_VERSION);
		return CTL_OPT_EXIT_OK;
	case CTL_OPT_INDICATOR:
		ctl->indicator = optarg;
		return CTL_OPT_DONE;
	case ':':
		ctl_warnx("option %s needs a value", argv[optind - 1]);
		return CTL_OPT_ERROR;
	case '?':
		/*
		 * optopt is 0 for an unknown long option, the letter for an
		 * unknown short one, and the option's value for a long
		 * option given a value it does not take.
		 */
		if (optopt == 0)
			ctl_warnx("unknown option %s", argv[optind - 1]);
		else if (optopt > ' ' && optopt < 0x7f &&
		    strchr(CTL_SHORTOPTS, optopt) == NULL)
			ctl_warnx("unknown option -%c", optopt);
		else
			ctl_warnx("option %s takes no value",
			    argv[optind - 1]);
		return CTL_OPT_ERROR;
	default:
		return CTL_OPT_NOT_GLOBAL;
	}
}

/*
 * A command's options and positionals. Global options are taken here too,
 * so that they may follow the command. -1 for a usage error, 1 when help
 * was printed, else 0.
 */
static int
ctl_parse(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv,
    struct ctl_args *a)
{
	struct option longopts[CTL_NGLOBAL + CTL_MAX_OPTS + 1];
	const struct ctl_opt *o;
	char *joined;
	size_t n = 0, i;
	int ch, idx;

	/*
	 * The command's options first: getopt_long takes the first of equal
	 * names, so silence add's --indicator (a matcher) is not the global
	 * --indicator.
	 */
	for (o = cmd->opts, idx = 0; o->name != NULL; o++, idx++) {
		longopts[n].name = o->name;
		longopts[n].has_arg = o->arg != NULL ? required_argument :
		    no_argument;
		longopts[n].flag = NULL;
		longopts[n].val = CTL_OPT_BASE + idx;
		n++;
	}
	for (i = 0; i < CTL_NGLOBAL; i++)
		longopts[n++] = ctl_global_longopts[i];
	memset(&longopts[n], 0, sizeof longopts[n]);

	/* 0, not 1: glibc then starts a fresh scan of this vector. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, CTL_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch >= CTL_OPT_BASE) {
			idx = ch - CTL_OPT_BASE;
			o = &cmd->opts[idx];
			if (o->arg == NULL)
				joined = ctl_xstrdup("");
			else if (o->list && a->val[idx] != NULL)
				joined = ctl_xasprintf("%s,%s", a->val[idx],
				    optarg);
			else
				joined = ctl_xstrdup(optarg);
			free(a->val[idx]);
			a->val[idx] = joined;
			continue;
		}
		switch (ctl_global_option(ctl, ch, argv, cmd)) {
		case CTL_OPT_DONE:
			break;
		case CTL_OPT_EXIT_OK:
			return 1;
		default:
			return -1;
		}
	}
	for (; optind < argc; optind++) {
		if (a->npos == cmd->max_pos) {
			ctl_warnx("%s%s%s: unexpected argument '%s'", cmd->name,
			    cmd->action != NULL ? " " : "",
			    cmd->action != NULL ? cmd->action : "",
			    argv[optind]);
			return -1;
		}
		a->pos[a->npos++] = argv[optind];
	}
	if (a->npos < cmd->min_pos) {
		ctl_warnx("%s%s%s: missing %s", cmd->name,
		    cmd->action != NULL ? " " : "",
		    cmd->action != NULL ? cmd->action : "", cmd->synopsis);
		return -1;
	}
	return 0;
}

/* The command named by argv[0] (and argv[1] for one with actions). */
static const struct ctl_cmd *
ctl_find(int argc, char **argv, int *used)
{
	const struct ctl_cmd *c;
	bool known = false;
	size_t i;

	for (i = 0; i < CTL_NCMDS; i++) {
		c = &ctl_cmds[i];
		if (strcmp(c->name, argv[0]) != 0)
			continue;
		known = true;
		if (c->action == NULL) {
			*used = 1;
			return c;
		}
		if (argc > 1 && strcmp(c->action, argv[1]) == 0) {
			*used = 2;
			return c;
		}
	}
	if (!known) {
		ctl_warnx("unknown command '%s'; try stabilctl --help",
		    argv[0]);
		return NULL;
	}
	fprintf(stderr, "stabilctl: %s needs one of:", argv[0]);
	for (i = 0; i < CTL_NCMDS; i++) {
		if (strcmp(ctl_cmds[i].name, argv[0]) == 0)
			fprintf(stderr, " %s", ctl_cmds[i].action);
	}
	fputc('\n', stderr);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct ctl ctl;
	struct ctl_args args;
	const struct ctl_cmd *cmd;
	const char *env;
	int ch, used, rc, i;

	memset(&ctl, 0, sizeof ctl);
	memset(&args, 0, sizeof args);
	ctl.timeout_ms = CTL_DEFAULT_TIMEOUT_MS;

	/* Global options up to the command: '+' stops at the first word. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+" CTL_SHORTOPTS,
	    ctl_global_longopts, NULL)) != -1) {
		switch (ctl_global_option(&ctl, ch, argv, NULL)) {
		case CTL_OPT_DONE:
			break;
		case CTL_OPT_EXIT_OK:
			rc = CTL_OK;
			goto out;
		default:
			rc = CTL_USAGE;
			goto out;
		}
	}
	if (optind == argc) {
		ctl_usage(stderr);
		rc = CTL_USAGE;
		goto out;
	}
	if ((cmd = ctl_find(argc - optind, argv + optind, &used)) == NULL) {
		rc = CTL_USAGE;
		goto out;
	}

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		ctl_warnx("cannot start libcurl");
		rc = CTL_USAGE;
		goto out;
	}
	/* The last word of the command stands in for argv[0]. */
	i = optind + used - 1;
	switch (ctl_parse(&ctl, cmd, argc - i, argv + i, &args)) {
	case 0:
		if (ctl.indicator != NULL && !cmd->indicator) {
			ctl_warnx("--indicator does not go with %s%s%s",
			    cmd->name, cmd->action != NULL ? " " : "",
			    cmd->action != NULL ? cmd->action : "");
			rc = CTL_USAGE;
			break;
		}
		/* --url, else STABILCTL_URL, else the default. */
		env = getenv("STABILCTL_URL");
		if (ctl.base == NULL && env != NULL && *env != '\0' &&
		    ctl_set_url(&ctl, env, "STABILCTL_URL") == -1) {
			rc = CTL_USAGE;
			break;
		}
		if (ctl.base == NULL)
			(void)ctl_set_url(&ctl, CTL_DEFAULT_URL, "default");
		rc = cmd->fn(&ctl, &args);
		break;
	case 1:
		rc = CTL_OK;
		break;
	default:
		rc = CTL_USAGE;
		break;
	}
	if (ctl.curl != NULL)
		curl_easy_cleanup(ctl.curl);
	curl_global_cleanup();

out:
	for (i = 0; i < CTL_MAX_OPTS; i++)
		free(args.val[i]);
	if (ctl.token != NULL) {
		explicit_bzero(ctl.token, strlen(ctl.token));
		free(ctl.token);
	}
	free(ctl.base);
	free(ctl.held);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		ctl_warnx("cannot write the output: %s", strerror(errno));
		if (rc == CTL_OK)
			rc = CTL_USAGE;
	}
	return rc;
}
