/*
 * Alert email rendering: RFC 5322 headers (RFC 2047 encoded words for
 * non-ASCII, folded lines) and a body from a small {{placeholder}}
 * template. Pure functions except email_load_template.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "decision.h"
#include "email.h"
#include "utc.h"
#include "xmalloc.h"

#define EMAIL_FOLD	78	/* preferred header line length */
#define EMAIL_LINE_MAX	998	/* hard limit of RFC 5322, without CRLF */
#define EMAIL_WORD_RAW	45	/* bytes per encoded word: 60 base64 chars */
#define EMAIL_TOKEN_MAX	900	/* longest unbroken ASCII run in a header */
#define EMAIL_OFFICES	5	/* offices named in a multi-alert subject */

/* A growing byte string. */
struct email_buf {
	char	*p;
	size_t	 len;
	size_t	 size;
};

/* What a template placeholder stands for. */
enum email_field {
	EF_COUNT,		/* number of alerts in the message */
	EF_ID,
	EF_OFFICE,
	EF_BENEFIT,
	EF_KIND,
	EF_SCOPE,
	EF_DIRECTION,		/* "more rejections" / "more approvals" */
	EF_ONSET,
	EF_DETECTED_AT,
	EF_RAISED_AT,
	EF_ODDS_RATIO,
	EF_ODDS_RATIO_LO,
	EF_ODDS_RATIO_HI,
	EF_BASELINE_RATE,
	EF_CURRENT_RATE,
	EF_EXPECTED_RATE,
	EF_CASE_MIX_PART,
	EF_PRACTICE_PART,
	EF_DECISIONS,
	EF_STRATA,
	EF_EXPLANATIONS,
	EF_CONTEXT,
	EF_CLASSIFICATION,
	EF_STATUS,
	EF_METHOD,
	EF_SEQ,
	EF_NOTE,
	EF_STATUS_URL,
	EF_INDICATOR,		/* "rejection", "reconsideration" */
	EF_RATE_NAME,		/* "rejection rate", the indicator's label */
	EF_EVENTS,		/* "decisions", "reconsiderations" */
};

/* Placeholder names; per_alert ones are valid only inside {{#alerts}}. */
static const struct {
	const char	*name;
	enum email_field field;
	bool		 per_alert;
} email_names[] = {
	{ "count", EF_COUNT, false },
	{ "id", EF_ID, true },
	{ "office", EF_OFFICE, true },
	{ "benefit", EF_BENEFIT, true },
	{ "kind", EF_KIND, true },
	{ "scope", EF_SCOPE, true },
	{ "direction", EF_DIRECTION, true },
	{ "onset", EF_ONSET, true },
	{ "detected_at", EF_DETECTED_AT, true },
	{ "raised_at", EF_RAISED_AT, true },
	{ "odds_ratio", EF_ODDS_RATIO, true },
	{ "odds_ratio_lo", EF_ODDS_RATIO_LO, true },
	{ "odds_ratio_hi", EF_ODDS_RATIO_HI, true },
	{ "baseline_rate", EF_BASELINE_RATE, true },
	{ "current_rate", EF_CURRENT_RATE, true },
	{ "expected_rate", EF_EXPECTED_RATE, true },
	{ "case_mix", EF_CASE_MIX_PART, true },
	{ "practice", EF_PRACTICE_PART, true },
	{ "decisions", EF_DECISIONS, true },
	{ "strata", EF_STRATA, true },
	{ "explanations", EF_EXPLANATIONS, true },
	{ "context", EF_CONTEXT, true },
	{ "classification", EF_CLASSIFICATION, true },
	{ "status", EF_STATUS, true },
	{ "method", EF_METHOD, true },
	{ "seq", EF_SEQ, true },
	{ "note", EF_NOTE, true },
	{ "status_url", EF_STATUS_URL, true },
	{ "indicator", EF_INDICATOR, true },
	{ "rate_name", EF_RATE_NAME, true },
	{ "events", EF_EVENTS, true },
};

/* What every placeholder may draw on besides the alert. */
struct email_ctx {
	int		 n;
	const char	*base_url;
	const char	*tmpl;		/* start of the template, for line numbers */
};

static const char email_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char *const email_days[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const email_months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"
};

static void
email_add(struct email_buf *b, const char *s, size_t n)
{
	size_t	 want;

	if (b->len + n + 1 > b->size) {
		want = b->size == 0 ? 256 : b->size;
		while (want < b->len + n + 1)
			want *= 2;
		b->p = xreallocarray(b->p, want, 1);
		b->size = want;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
email_adds(struct email_buf *b, const char *s)
{
	email_add(b, s, strlen(s));
}

static void email_addf(struct email_buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
email_addf(struct email_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	email_adds(b, s);
	free(s);
}

/* Hand the buffer's string to the caller (never NULL). */
static char *
email_take(struct email_buf *b)
{
	char	*s;

	if (b->p == NULL)
		return (xstrdup(""));
	s = b->p;
	b->p = NULL;
	b->len = b->size = 0;
	return (s);
}

static bool
email_is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return (false);
	return (true);
}

/* Whether s holds a control character (CR and LF included). */
static bool
email_has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return (true);
	return (false);
}

/* Length of the longest run of non-space bytes in s. */
static size_t
email_longest_token(const char *s)
{
	size_t	 run = 0, best = 0;

	for (; *s != '\0'; s++) {
		run = *s == ' ' ? 0 : run + 1;
		if (run > best)
			best = run;
	}
	return (best);
}

static void
email_base64(struct email_buf *b, const unsigned char *in, size_t n)
{
	char	 out[4];
	uint32_t v;
	size_t	 i;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[0] = email_b64[(v >> 18) & 63];
		out[1] = email_b64[(v >> 12) & 63];
		out[2] = i + 1 < n ? email_b64[(v >> 6) & 63] : '=';
		out[3] = i + 2 < n ? email_b64[v & 63] : '=';
		email_add(b, out, 4);
	}
}

/*
 * s as RFC 2047 "B" encoded words separated by spaces, each at most 75
 * characters and never splitting a UTF-8 sequence.
 */
static void
email_encode_words(struct email_buf *b, const char *s)
{
	size_t	 len = strlen(s), off = 0, chunk;

	while (off < len) {
		chunk = len - off;
		if (chunk > EMAIL_WORD_RAW) {
			chunk = EMAIL_WORD_RAW;
			while (chunk > 1 &&
			    ((unsigned char)s[off + chunk] & 0xc0) == 0x80)
				chunk--;
		}
		if (off != 0)
			email_adds(b, " ");
		email_adds(b, "=?UTF-8?B?");
		email_base64(b, (const unsigned char *)s + off, chunk);
		email_adds(b, "?=");
		off += chunk;
	}
}

/*
 * One header field, folded before a space when a line would pass
 * EMAIL_FOLD. value must be ASCII without runs longer than
 * EMAIL_TOKEN_MAX, so no line reaches EMAIL_LINE_MAX.
 */
static void
email_header(struct email_buf *b, const char *name, const char *value)
{
	const char	*p = value, *q;
	size_t		 line, tok;

	email_addf(b, "%s:", name);
	line = strlen(name) + 1;
	if (*p != ' ') {
		email_adds(b, " ");
		line++;
	}
	while (*p != '\0') {
		q = p;
		while (*q == ' ')
			q++;
		while (*q != '\0' && *q != ' ')
			q++;
		tok = (size_t)(q - p);
		if (line + tok > EMAIL_FOLD && *p == ' ' &&
		    line > strlen(name) + 2) {
			email_adds(b, "\r\n");
			line = 0;
		}
		email_add(b, p, tok);
		line += tok;
		p = q;
	}
	email_adds(b, "\r\n");
}

/* A header value: ASCII as it is, otherwise encoded words. */
static void
email_text_value(struct email_buf *b, const char *s)
{
	if (email_is_ascii(s) && email_longest_token(s) <= EMAIL_TOKEN_MAX)
		email_adds(b, s);
	else
		email_encode_words(b, s);
}

/*
 * One address for a header: "a@b" or "Name <a@b>", a non-ASCII name
 * encoded. Returns 0, or -1 with *cause set.
 */
static int
email_address(struct email_buf *b, const char *addr, char **cause)
{
	const char	*lt;
	char		*name;
	size_t		 start, end;

	if (addr == NULL || *addr == '\0') {
		*cause = xstrdup("email: empty address");
		return (-1);
	}
	if (email_has_ctl(addr) || strlen(addr) > EMAIL_TOKEN_MAX) {
		*cause = xstrdup("email: address has control characters or "
		    "is too long");
		return (-1);
	}
	if (email_is_ascii(addr)) {
		email_adds(b, addr);
		return (0);
	}
	lt = strrchr(addr, '<');
	if (lt == NULL || !email_is_ascii(lt) || strchr(lt, '>') == NULL) {
		*cause = xasprintf("email: non-ASCII address %s", addr);
		return (-1);
	}
	start = 0;
	end = (size_t)(lt - addr);
	while (start < end && addr[start] == ' ')
		start++;
	while (end > start && addr[end - 1] == ' ')
		end--;
	if (end - start >= 2 && addr[start] == '"' && addr[end - 1] == '"') {
		start++;
		end--;
	}
	name = xstrndup(addr + start, end - start);
	email_encode_words(b, name);
	free(name);
	email_adds(b, " ");
	email_adds(b, lt);
	return (0);
}

int
email_addr_spec(const char *addr, char *out, size_t size)
{
	const char *start = addr, *end, *lt;
	size_t len;

	end = addr + strlen(addr);
	if ((lt = strrchr(addr, '<')) != NULL) {
		start = lt + 1;
		if ((end = strchr(start, '>')) == NULL)
			return -1;
	}
	while (start < end && *start == ' ')
		start++;
	while (end > start && end[-1] == ' ')
		end--;
	len = (size_t)(end - start);
	if (len == 0 || len >= size || memchr(start, '@', len) == NULL ||
	    memchr(start, ' ', len) != NULL || email_has_ctl(start))
		return -1;
	memcpy(out, start, len);
	out[len] = '\0';
	return 0;
}

/* A list of addresses as one folded header. */
static int
email_address_header(struct email_buf *out, const char *name,
    const char *const *list, int n, char **cause)
{
	struct email_buf v = { NULL, 0, 0 };
	int		 i;

	for (i = 0; i < n; i++) {
		if (i != 0)
			email_adds(&v, ", ");
		if (email_address(&v, list[i], cause) != 0) {
			free(v.p);
			return (-1);
		}
	}
	email_header(out, name, v.p);
	free(v.p);
	return (0);
}

static void	email_value_text(struct email_buf *, const char *);

/* What the alert's rate is called: its indicator's label. */
static const char *
email_rate_name(const struct alert *a)
{
	if (a->indicator[0] == '\0')
		return ("rejection rate");
	return (a->indicator_label[0] != '\0' ? a->indicator_label :
	    a->indicator);
}

/* What the alert counts, in the plural: "decisions" for rejection. */
static const char *
email_events(const struct alert *a)
{
	if (a->event[0] == '\0')
		return ("decisions");
	return (decision_event_noun(decision_event_parse(a->event)));
}

/* Rejection's words as before; another indicator's rate by its label. */
static void
email_direction(struct email_buf *b, const struct alert *a)
{
	if (a->indicator[0] == '\0') {
		email_adds(b, a->direction == ALERT_UP ? "more rejections" :
		    "more approvals");
		return;
	}
	email_adds(b, a->direction == ALERT_UP ? "higher " : "lower ");
	email_value_text(b, email_rate_name(a));
}

/* Unix seconds as "2023-05-02T10:00:00Z". */
static void
email_iso_time(struct email_buf *b, int64_t t)
{
	char		 s[UTC_TIME_SIZE];

	if (utc_format(t, s) == -1)
		snprintf(s, sizeof s, "%" PRId64, t);
	email_adds(b, s);
}

/* The Subject text, before any encoding. */
static char *
email_subject(const struct alert *const *alerts, int n)
{
	struct email_buf b = { NULL, 0, 0 };
	const struct alert *a = alerts[0];
	const char	*seen[EMAIL_OFFICES];
	int		 i, j, nseen = 0, more = 0;

	email_adds(&b, "[stabild] ");
	/* Another indicator's name first, when all the alerts are of it. */
	for (i = 1; i < n; i++)
		if (strcmp(alerts[i]->indicator, a->indicator) != 0)
			break;
	if (i == n && a->indicator[0] != '\0')
		email_addf(&b, "[%s] ", a->indicator);
	if (n == 1) {
		email_addf(&b, "%s %s/%s: ", a->office, a->benefit, a->kind);
		email_direction(&b, a);
		email_addf(&b, " since %s (%s%s)", a->onset,
		    alert_classification_name(a->classification),
		    a->status == ALERT_RESOLVED ? ", resolved" : "");
		return (email_take(&b));
	}
	email_addf(&b, "%d alerts: ", n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < nseen; j++)
			if (strcmp(seen[j], alerts[i]->office) == 0)
				break;
		if (j < nseen)
			continue;
		if (nseen == EMAIL_OFFICES) {
			more++;
			continue;
		}
		if (nseen != 0)
			email_adds(&b, ", ");
		email_adds(&b, alerts[i]->office);
		seen[nseen++] = alerts[i]->office;
	}
	if (more != 0)
		email_addf(&b, " and %d more", more);
	return (email_take(&b));
}

/* "<hash.now@hostname>": FNV-1a over the alert ids and seqs. */
static char *
email_message_id(const struct alert *const *alerts, int n, int64_t now,
    const char *hostname)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	const char	*p;
	char		 seq[16];
	int		 i;

	for (i = 0; i < n; i++) {
		snprintf(seq, sizeof seq, ":%" PRIu32 ";", alerts[i]->seq);
		for (p = alerts[i]->id; *p != '\0'; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
		for (p = seq; *p != '\0'; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	}
	return (xasprintf("<stabild.%016" PRIx64 ".%" PRId64 "@%s>", h, now,
	    hostname));
}

/* Whether hostname is a plain DNS name fit for a Message-ID. */
static bool
email_hostname_ok(const char *s)
{
	size_t	 len = strlen(s);

	if (len == 0 || len > 253)
		return (false);
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '-'))
			return (false);
	return (true);
}

/* Append a value, control characters turned into spaces. */
static void
email_value_text(struct email_buf *b, const char *s)
{
	char	 c;

	for (; *s != '\0'; s++) {
		c = *s;
		if ((unsigned char)c < 0x20 || c == 0x7f)
			c = ' ';
		email_add(b, &c, 1);
	}
}

/* Names joined by ", ", or "none". */
static void
email_names_list(struct email_buf *b, const char names[][ALERT_NAME_MAX],
    int n)
{
	int	 i;

	if (n <= 0) {
		email_adds(b, "none");
		return;
	}
	for (i = 0; i < n && i < ALERT_MAX_EXPLANATIONS; i++) {
		if (i != 0)
			email_adds(b, ", ");
		email_value_text(b, names[i]);
	}
}

/* The value of one placeholder; a is NULL outside {{#alerts}}. */
static void
email_field(struct email_buf *b, enum email_field f, const struct alert *a,
    const struct email_ctx *ctx)
{
	int	 i;

	switch (f) {
	case EF_COUNT:
		email_addf(b, "%d", ctx->n);
		break;
	case EF_ID:
		email_value_text(b, a->id);
		break;
	case EF_OFFICE:
		email_value_text(b, a->office);
		break;
	case EF_BENEFIT:
		email_value_text(b, a->benefit);
		break;
	case EF_KIND:
		email_value_text(b, a->kind);
		break;
	case EF_SCOPE:
		email_adds(b, alert_scope_name(a->scope));
		break;
	case EF_DIRECTION:
		email_direction(b, a);
		break;
	case EF_ONSET:
		email_value_text(b, a->onset);
		break;
	case EF_DETECTED_AT:
		email_iso_time(b, a->detected_at);
		break;
	case EF_RAISED_AT:
		email_iso_time(b, a->raised_at);
		break;
	case EF_ODDS_RATIO:
		email_addf(b, "%.2f", a->odds_ratio);
		break;
	case EF_ODDS_RATIO_LO:
		email_addf(b, "%.2f", a->odds_ratio_lo);
		break;
	case EF_ODDS_RATIO_HI:
		email_addf(b, "%.2f", a->odds_ratio_hi);
		break;
	case EF_BASELINE_RATE:
		email_addf(b, "%.1f%%", a->baseline_rate * 100.0);
		break;
	case EF_CURRENT_RATE:
		email_addf(b, "%.1f%%", a->current_rate * 100.0);
		break;
	case EF_EXPECTED_RATE:
		email_addf(b, "%.1f%%", a->expected_rate * 100.0);
		break;
	case EF_CASE_MIX_PART:
		email_addf(b, "%+.1f pp", a->case_mix_part * 100.0);
		break;
	case EF_PRACTICE_PART:
		email_addf(b, "%+.1f pp", a->practice_part * 100.0);
		break;
	case EF_DECISIONS:
		email_addf(b, "%" PRIu64, a->decisions);
		break;
	case EF_STRATA:
		if (a->nstrata <= 0)
			email_adds(b, "none");
		for (i = 0; i < a->nstrata && i < ALERT_MAX_STRATA; i++) {
			if (i != 0)
				email_adds(b, "; ");
			email_value_text(b, a->strata[i].name);
			email_addf(b, " (%.0f%% of the excess, OR %.1f)",
			    a->strata[i].share * 100.0,
			    a->strata[i].odds_ratio);
		}
		break;
	case EF_EXPLANATIONS:
		email_names_list(b, a->explanations, a->nexplanations);
		break;
	case EF_CONTEXT:
		email_names_list(b, a->context, a->ncontext);
		break;
	case EF_CLASSIFICATION:
		email_adds(b, alert_classification_name(a->classification));
		break;
	case EF_STATUS:
		email_adds(b, alert_status_name(a->status));
		break;
	case EF_METHOD:
		email_value_text(b, a->method);
		break;
	case EF_SEQ:
		email_addf(b, "%" PRIu32, a->seq);
		break;
	case EF_NOTE:
		email_value_text(b, a->note[0] != '\0' ? a->note : "none");
		break;
	case EF_STATUS_URL:
		email_value_text(b, ctx->base_url);
		email_adds(b, "/v1/series/");
		email_value_text(b, a->office);
		email_adds(b, "/");
		email_value_text(b, a->benefit);
		email_adds(b, "/");
		email_value_text(b, a->kind);
		if (a->indicator[0] != '\0') {
			email_adds(b, "?indicator=");
			email_value_text(b, a->indicator);
		}
		break;
	case EF_INDICATOR:
		email_value_text(b, alert_indicator(a));
		break;
	case EF_RATE_NAME:
		email_value_text(b, email_rate_name(a));
		break;
	case EF_EVENTS:
		email_adds(b, email_events(a));
		break;
	}
}

/* Line number (from 1) of p in the template. */
static int
email_lineno(const struct email_ctx *ctx, const char *p)
{
	const char	*s;
	int		 line = 1;

	for (s = ctx->tmpl; s < p; s++)
		if (*s == '\n')
			line++;
	return (line);
}

/* After a section tag alone on its line, skip the line's end. */
static const char *
email_skip_eol(const char *start, const char *tag, const char *after,
    const char *end)
{
	if (tag != start && tag[-1] != '\n')
		return (after);
	if (after < end && *after == '\r')
		after++;
	if (after < end && *after == '\n')
		after++;
	return (after);
}

/*
 * Render template text [p, end) into b; a is the current alert inside
 * {{#alerts}}, NULL outside. Returns 0, or -1 with *cause set.
 */
static int
email_expand(struct email_buf *b, const char *p, const char *end,
    const struct alert *const *alerts, const struct alert *a,
    const struct email_ctx *ctx, char **cause)
{
	const char	*start = p, *open, *close, *inner, *after;
	size_t		 len, i;
	int		 k;

	while (p < end) {
		open = memmem(p, (size_t)(end - p), "{{", 2);
		if (open == NULL) {
			email_add(b, p, (size_t)(end - p));
			break;
		}
		email_add(b, p, (size_t)(open - p));
		close = memmem(open + 2, (size_t)(end - open - 2), "}}", 2);
		if (close == NULL) {
			*cause = xasprintf("email: template line %d: "
			    "unterminated {{", email_lineno(ctx, open));
			return (-1);
		}
		len = (size_t)(close - open - 2);
		after = close + 2;
		if (len == 7 && memcmp(open + 2, "#alerts", 7) == 0) {
			if (a != NULL) {
				*cause = xasprintf("email: template line %d: "
				    "nested {{#alerts}}",
				    email_lineno(ctx, open));
				return (-1);
			}
			inner = email_skip_eol(start, open, after, end);
			close = memmem(inner, (size_t)(end - inner),
			    "{{/alerts}}", 11);
			if (close == NULL) {
				*cause = xasprintf("email: template line %d: "
				    "{{#alerts}} without {{/alerts}}",
				    email_lineno(ctx, open));
				return (-1);
			}
			for (k = 0; k < ctx->n; k++)
				if (email_expand(b, inner, close, alerts,
				    alerts[k], ctx, cause) != 0)
					return (-1);
			p = email_skip_eol(start, close, close + 11, end);
			continue;
		}
		for (i = 0; i < sizeof email_names / sizeof email_names[0];
		    i++) {
			if (strlen(email_names[i].name) == len &&
			    memcmp(email_names[i].name, open + 2, len) == 0)
				break;
		}
		if (i == sizeof email_names / sizeof email_names[0]) {
			*cause = xasprintf("email: template line %d: unknown "
			    "placeholder {{%.*s}}", email_lineno(ctx, open),
			    (int)(len > 64 ? 64 : len), open + 2);
			return (-1);
		}
		if (email_names[i].per_alert && a == NULL) {
			*cause = xasprintf("email: template line %d: "
			    "{{%s}} outside {{#alerts}}",
			    email_lineno(ctx, open), email_names[i].name);
			return (-1);
		}
		email_field(b, email_names[i].field, a, ctx);
		p = after;
	}
	return (0);
}

/*
 * Copy body text to out with CRLF line ends, breaking lines longer than
 * EMAIL_LINE_MAX at a UTF-8 boundary, ending with CRLF.
 */
static void
email_body_lines(struct email_buf *out, const char *s, size_t len)
{
	size_t	 i = 0, line, cut;

	while (i < len) {
		line = 0;
		while (i + line < len && s[i + line] != '\n' &&
		    s[i + line] != '\r')
			line++;
		while (line > EMAIL_LINE_MAX) {
			cut = EMAIL_LINE_MAX;
			while (cut > 1 &&
			    ((unsigned char)s[i + cut] & 0xc0) == 0x80)
				cut--;
			email_add(out, s + i, cut);
			email_adds(out, "\r\n");
			i += cut;
			line -= cut;
		}
		email_add(out, s + i, line);
		email_adds(out, "\r\n");
		i += line;
		if (i < len && s[i] == '\r') {
			i++;
			if (i < len && s[i] == '\n')
				i++;
		} else if (i < len && s[i] == '\n')
			i++;
	}
}

char *
email_load_template(const char *path, char **cause)
{
	FILE	*f;
	char	*text;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL) {
		*cause = xasprintf("email: open %s: %s", path,
		    strerror(errno));
		return (NULL);
	}
	text = xmalloc(EMAIL_TEMPLATE_MAX + 1);
	n = fread(text, 1, EMAIL_TEMPLATE_MAX + 1, f);
	if (ferror(f)) {
		*cause = xasprintf("email: read %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (n > EMAIL_TEMPLATE_MAX) {
		*cause = xasprintf("email: %s: longer than %d bytes", path,
		    EMAIL_TEMPLATE_MAX);
		goto fail;
	}
	if (memchr(text, '\0', n) != NULL) {
		*cause = xasprintf("email: %s: NUL byte in template", path);
		goto fail;
	}
	text[n] = '\0';
	fclose(f);
	return (text);

fail:
	fclose(f);
	free(text);
	return (NULL);
}

/*
 * "<stabild.hash@domain>" from the notification id alone, domain that of
 * the From address (the same on every instance), so that a message sent
 * again by another instance threads as the same message.
 */
static char *
email_nid_message_id(const char *nid, const char *from)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	const char	*p, *at = strrchr(from, '@');
	char		 domain[254];
	size_t		 len = 0;

	for (p = nid; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	if (at != NULL)
		len = strcspn(at + 1, "> \t");
	if (len == 0 || len >= sizeof domain)
		snprintf(domain, sizeof domain, "stabild");
	else {
		memcpy(domain, at + 1, len);
		domain[len] = '\0';
		if (!email_hostname_ok(domain))
			snprintf(domain, sizeof domain, "stabild");
	}
	return (xasprintf("<stabild.%016" PRIx64 "@%s>", h, domain));
}

char *
email_render(const struct alert *const *alerts, int n,
    const char *template_text, const char *from, const char *const *to,
    int nto, const char *const *cc, int ncc, const char *base_url,
    int64_t now, const char *hostname, char **cause)
{
	return (email_render_nid(alerts, n, template_text, from, to, nto, cc,
	    ncc, base_url, now, hostname, NULL, cause));
}

char *
email_render_nid(const struct alert *const *alerts, int n,
    const char *template_text, const char *from, const char *const *to,
    int nto, const char *const *cc, int ncc, const char *base_url,
    int64_t now, const char *hostname, const char *nid, char **cause)
{
	struct email_buf out = { NULL, 0, 0 }, body = { NULL, 0, 0 };
	struct email_buf v = { NULL, 0, 0 };
	struct email_ctx ctx;
	struct tm	 tm;
	time_t		 tt = (time_t)now;
	char		*s;
	int		 i;

	if (n < 1 || alerts == NULL) {
		*cause = xstrdup("email: no alerts to render");
		return (NULL);
	}
	for (i = 0; i < n; i++) {
		if (alerts[i] == NULL) {
			*cause = xstrdup("email: NULL alert");
			return (NULL);
		}
	}
	if (nto < 1 || to == NULL) {
		*cause = xstrdup("email: no recipients");
		return (NULL);
	}
	if (hostname == NULL || !email_hostname_ok(hostname)) {
		*cause = xstrdup("email: hostname unfit for a Message-ID");
		return (NULL);
	}
	if (template_text == NULL || base_url == NULL) {
		*cause = xstrdup("email: no template or base URL");
		return (NULL);
	}
	if (gmtime_r(&tt, &tm) == NULL) {
		*cause = xstrdup("email: bad time");
		return (NULL);
	}

	/* Body first: a template error needs no header work. */
	ctx.n = n;
	ctx.base_url = base_url;
	ctx.tmpl = template_text;
	if (email_expand(&body, template_text,
	    template_text + strlen(template_text), alerts, NULL, &ctx,
	    cause) != 0)
		goto fail;

	if (email_address_header(&out, "From", &from, 1, cause) != 0)
		goto fail;
	if (email_address_header(&out, "To", to, nto, cause) != 0)
		goto fail;
	if (ncc > 0 && cc != NULL &&
	    email_address_header(&out, "Cc", cc, ncc, cause) != 0)
		goto fail;

	s = email_subject(alerts, n);
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
	email_text_value(&v, s);
	free(s);
	email_header(&out, "Subject", v.p);
	free(v.p);

	email_addf(&out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    email_days[tm.tm_wday], tm.tm_mday, email_months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	s = nid != NULL ? email_nid_message_id(nid, from) :
	    email_message_id(alerts, n, now, hostname);
	email_header(&out, "Message-ID", s);
	free(s);
	email_adds(&out, "MIME-Version: 1.0\r\n");
	email_adds(&out, "Content-Type: text/plain; charset=utf-8\r\n");
	email_adds(&out, "Content-Transfer-Encoding: 8bit\r\n");
	email_adds(&out, "\r\n");
	email_body_lines(&out, body.p != NULL ? body.p : "", body.len);
	free(body.p);
	return (email_take(&out));

fail:
	free(body.p);
	free(out.p);
	return (NULL);
}
