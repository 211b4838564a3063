/*
 * email: headers parsed back and checked (folding, RFC 2047 words decoded
 * again), CRLF and line lengths, template placeholders and errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "email.h"

#define NOW	1683021600	/* Tue, 02 May 2023 10:00:00 +0000 */
#define BASE	"http://127.0.0.1:8080"
#define HOST	"stabild.example"

static const char *const rcpt[] = { "ops@example.org", "duty@example.org" };

static void
sample(struct alert *a, const char *id, const char *office)
{
	memset(a, 0, sizeof *a);
	snprintf(a->id, sizeof a->id, "%s", id);
	a->status = ALERT_FIRING;
	a->classification = ALERT_UNEXPLAINED;
	a->direction = ALERT_UP;
	snprintf(a->office, sizeof a->office, "%s", office);
	strcpy(a->benefit, "sjukpenning");
	strcpy(a->kind, "first");
	a->detected_at = NOW;
	a->raised_at = NOW + 60;
	strcpy(a->onset, "2023-W14");
	a->baseline_rate = 0.081;
	a->current_rate = 0.124;
	a->expected_rate = 0.085;
	a->odds_ratio = 1.62;
	a->odds_ratio_lo = 1.31;
	a->odds_ratio_hi = 2.01;
	a->case_mix_part = 0.004;
	a->practice_part = 0.039;
	a->decisions = 1234;
	a->seq = 1;
	strcpy(a->method, "score-cusum");
	strcpy(a->strata[0].name, "diagnosis=F");
	a->strata[0].share = 0.42;
	a->strata[0].odds_ratio = 1.8;
	a->nstrata = 1;
	strcpy(a->context[0], "reorg-2023");
	a->ncontext = 1;
}

/* Every line ends in CRLF, none is over 998 bytes, headers end blank. */
static void
check_lines(const char *msg)
{
	const char	*p = msg, *eol;

	assert_non_null(strstr(msg, "\r\n\r\n"));
	while (*p != '\0') {
		eol = strchr(p, '\n');
		assert_non_null(eol);
		assert_true(eol > p && eol[-1] == '\r');
		assert_null(memchr(p, '\r', (size_t)(eol - 1 - p)));
		assert_true(eol - 1 - p <= 998);
		p = eol + 1;
	}
}

/* The unfolded value of header name, or NULL; the caller frees. */
static char *
header(const char *msg, const char *name)
{
	const char	*p = msg, *eol;
	size_t		 nlen = strlen(name);
	char		*v = NULL;
	size_t		 vlen = 0;
	int		 found = 0;

	while (strncmp(p, "\r\n", 2) != 0) {
		eol = strstr(p, "\r\n");
		assert_non_null(eol);
		if (*p == ' ' || *p == '\t') {
			if (found == 1) {
				char *nv = realloc(v, vlen + (size_t)(eol - p) +
				    1);

				assert_non_null(nv);
				v = nv;
				memcpy(v + vlen, p, (size_t)(eol - p));
				vlen += (size_t)(eol - p);
				v[vlen] = '\0';
			}
		} else {
			/* Every header line is "Name: value". */
			assert_non_null(memchr(p, ':', (size_t)(eol - p)));
			if (found == 1)
				found = 2;
			if (found == 0 && strncmp(p, name, nlen) == 0 &&
			    p[nlen] == ':' && p[nlen + 1] == ' ') {
				found = 1;
				vlen = (size_t)(eol - p) - nlen - 2;
				v = malloc(vlen + 1);
				memcpy(v, p + nlen + 2, vlen);
				v[vlen] = '\0';
			}
		}
		p = eol + 2;
	}
	return (v);
}

static int
b64val(char c)
{
	const char	*t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/";
	const char	*p = strchr(t, c);

	assert_non_null(p);
	return ((int)(p - t));
}

/* Decode a value of RFC 2047 B words (each <= 75 chars) to UTF-8. */
static char *
decode_words(const char *v)
{
	char		*out = calloc(1, strlen(v) + 1), *copy = strdup(v);
	char		*w, *save = NULL;
	size_t		 o = 0, i, len;
	uint32_t	 x;

	for (w = strtok_r(copy, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		len = strlen(w);
		assert_true(len <= 75);
		assert_true(strncmp(w, "=?UTF-8?B?", 10) == 0);
		assert_true(strcmp(w + len - 2, "?=") == 0);
		w[len - 2] = '\0';
		w += 10;
		assert_int_equal(strlen(w) % 4, 0);
		for (i = 0; w[i] != '\0'; i += 4) {
			x = (uint32_t)b64val(w[i]) << 18 |
			    (uint32_t)b64val(w[i + 1]) << 12;
			out[o++] = (char)(x >> 16);
			if (w[i + 2] != '=') {
				x |= (uint32_t)b64val(w[i + 2]) << 6;
				out[o++] = (char)(x >> 8 & 0xff);
			}
			if (w[i + 3] != '=') {
				x |= (uint32_t)b64val(w[i + 3]);
				out[o++] = (char)(x & 0xff);
			}
		}
	}
	free(copy);
	return (out);
}

static const char *
body(const char *msg)
{
	return (strstr(msg, "\r\n\r\n") + 4);
}

static const char tmpl[] =
    "Alerts: {{count}}\n"
    "{{#alerts}}\n"
    "{{office}} {{benefit}}/{{kind}} {{direction}} since {{onset}}\n"
    "rates {{baseline_rate}} {{current_rate}} {{expected_rate}}\n"
    "OR {{odds_ratio}} [{{odds_ratio_lo}}, {{odds_ratio_hi}}]\n"
    "parts {{case_mix}} {{practice}}\n"
    "strata {{strata}}\n"
    "why {{explanations}} / {{context}} {{classification}} {{status}}\n"
    "at {{detected_at}} {{status_url}}\n"
    "{{/alerts}}\n"
    ".a line starting with a dot\n";

static void
test_one_alert(void **state)
{
	struct alert	 a;
	const struct alert *list[1] = { &a };
	char		*m, *cause = NULL, *v;

	(void)state;
	sample(&a, "a-1", "K017");
	m = email_render(list, 1, tmpl, "stabild <stabild@example.org>",
	    rcpt, 2, NULL, 0, BASE, NOW, HOST, &cause);
	assert_non_null(m);
	check_lines(m);

	v = header(m, "From");
	assert_string_equal(v, "stabild <stabild@example.org>");
	free(v);
	v = header(m, "To");
	assert_string_equal(v, "ops@example.org, duty@example.org");
	free(v);
	assert_null(header(m, "Cc"));
	v = header(m, "Subject");
	assert_string_equal(v, "[stabild] K017 sjukpenning/first: more "
	    "rejections since 2023-W14 (unexplained)");
	free(v);
	v = header(m, "Date");
	assert_string_equal(v, "Tue, 02 May 2023 10:00:00 +0000");
	free(v);
	v = header(m, "Message-ID");
	assert_true(v[0] == '<' && v[strlen(v) - 1] == '>');
	assert_non_null(strstr(v, "@" HOST ">"));
	assert_null(strchr(v, ' '));
	free(v);
	v = header(m, "MIME-Version");
	assert_string_equal(v, "1.0");
	free(v);
	v = header(m, "Content-Type");
	assert_string_equal(v, "text/plain; charset=utf-8");
	free(v);
	v = header(m, "Content-Transfer-Encoding");
	assert_string_equal(v, "8bit");
	free(v);

	assert_string_equal(body(m),
	    "Alerts: 1\r\n"
	    "K017 sjukpenning/first more rejections since 2023-W14\r\n"
	    "rates 8.1% 12.4% 8.5%\r\n"
	    "OR 1.62 [1.31, 2.01]\r\n"
	    "parts +0.4 pp +3.9 pp\r\n"
	    "strata diagnosis=F (42% of the excess, OR 1.8)\r\n"
	    "why none / reorg-2023 unexplained firing\r\n"
	    "at 2023-05-02T10:00:00Z "
	    "http://127.0.0.1:8080/v1/series/K017/sjukpenning/first\r\n"
	    ".a line starting with a dot\r\n");
	free(m);
}

static void
test_two_alerts_utf8(void **state)
{
	struct alert	 a, b;
	const struct alert *list[2] = { &a, &b };
	const char	*cc[] = { "Kontor G\xc3\xb6teborg <gbg@example.org>" };
	char		*m, *m1, *cause = NULL, *v, *d, *id1, *id2;

	(void)state;
	sample(&a, "a-1", "K017");
	sample(&b, "a-2", "G\xc3\xb6teborg");
	b.direction = ALERT_DOWN;
	strcpy(b.explanations[0], "hfd-2023-12");
	b.nexplanations = 1;
	m = email_render(list, 2, tmpl, "stabild@example.org", rcpt, 1, cc, 1,
	    BASE, NOW, HOST, &cause);
	assert_non_null(m);
	check_lines(m);

	v = header(m, "Subject");
	d = decode_words(v);
	assert_string_equal(d, "[stabild] 2 alerts: K017, G\xc3\xb6teborg");
	free(d);
	free(v);
	v = header(m, "Cc");
	assert_non_null(v);
	assert_non_null(strstr(v, " <gbg@example.org>"));
	*strstr(v, " <gbg@example.org>") = '\0';
	d = decode_words(v);
	assert_string_equal(d, "Kontor G\xc3\xb6teborg");
	free(d);
	free(v);

	assert_non_null(strstr(body(m), "Alerts: 2\r\n"));
	assert_non_null(strstr(body(m), "G\xc3\xb6teborg sjukpenning/first "
	    "more approvals since 2023-W14\r\n"));
	assert_non_null(strstr(body(m), "why hfd-2023-12 / reorg-2023"));
	assert_non_null(strstr(body(m), "/v1/series/G\xc3\xb6teborg/"));

	/* Another set of alerts, another Message-ID. */
	m1 = email_render(list, 1, tmpl, "stabild@example.org", rcpt, 1,
	    NULL, 0, BASE, NOW, HOST, &cause);
	assert_non_null(m1);
	id1 = header(m, "Message-ID");
	id2 = header(m1, "Message-ID");
	assert_string_not_equal(id1, id2);
	free(id1);
	free(id2);
	free(m1);
	free(m);
}

/*
 * HA mode: the Message-ID comes from the notification id alone, so that a
 * repeat by another instance (another host, another minute) threads as
 * the same message; another notification gets another one.
 */
static void
test_ha_message_id(void **state)
{
	struct alert	 a;
	const struct alert *list[1] = { &a };
	const char	*nid = "K017.sjukpenning.first.2023-W14.up.1.ops";
	char		*m1, *m2, *m3, *m4, *cause = NULL, *id1, *id2, *id3, *id4;

	(void)state;
	sample(&a, "a-1", "K017");
	m1 = email_render_nid(list, 1, tmpl, "stabild <stabild@example.org>",
	    rcpt, 2, NULL, 0, BASE, NOW, HOST, nid, &cause);
	m2 = email_render_nid(list, 1, tmpl, "stabild <stabild@example.org>",
	    rcpt, 2, NULL, 0, BASE, NOW + 3600, "other.example", nid, &cause);
	m3 = email_render_nid(list, 1, tmpl, "stabild <stabild@example.org>",
	    rcpt, 2, NULL, 0, BASE, NOW, HOST,
	    "K017.sjukpenning.first.2023-W14.up.1.ops.r1", &cause);
	/* Without HA: the time and host name are in it. */
	m4 = email_render_nid(list, 1, tmpl, "stabild <stabild@example.org>",
	    rcpt, 2, NULL, 0, BASE, NOW, HOST, NULL, &cause);
	assert_non_null(m1);
	assert_non_null(m2);
	assert_non_null(m3);
	assert_non_null(m4);
	check_lines(m1);
	id1 = header(m1, "Message-ID");
	id2 = header(m2, "Message-ID");
	id3 = header(m3, "Message-ID");
	id4 = header(m4, "Message-ID");
	assert_string_equal(id1, id2);
	assert_string_not_equal(id1, id3);
	assert_string_not_equal(id1, id4);
	/* The From address's domain, not this host's name, nor the time. */
	assert_true(id1[0] == '<' && id1[strlen(id1) - 1] == '>');
	assert_non_null(strstr(id1, "@example.org>"));
	assert_null(strstr(id1, HOST));
	assert_null(strstr(id1, "1683021600"));
	assert_null(strchr(id1, ' '));
	assert_non_null(strstr(id4, "@" HOST ">"));
	assert_non_null(strstr(id4, ".1683021600@"));
	free(id1);
	free(id2);
	free(id3);
	free(id4);
	free(m1);
	free(m2);
	free(m3);
	free(m4);

	/* A From whose domain is unfit: a fixed right side, still the same. */
	m1 = email_render_nid(list, 1, tmpl, "stabild@bad_domain", rcpt, 1,
	    NULL, 0, BASE, NOW, HOST, nid, &cause);
	m2 = email_render_nid(list, 1, tmpl, "stabild@bad_domain", rcpt, 1,
	    NULL, 0, BASE, NOW + 60, "other.example", nid, &cause);
	assert_non_null(m1);
	assert_non_null(m2);
	id1 = header(m1, "Message-ID");
	id2 = header(m2, "Message-ID");
	assert_string_equal(id1, id2);
	assert_non_null(strstr(id1, "@stabild>"));
	free(id1);
	free(id2);
	free(m1);
	free(m2);
}

/* Long headers fold, long body lines break; nothing passes 998. */
static void
test_long_lines(void **state)
{
	struct alert	 a[8];
	const struct alert *list[8];
	const char	*to[60];
	char		 big[2001], *m, *cause = NULL, *v, *d;
	char		 office[40];
	int		 i;

	(void)state;
	for (i = 0; i < 8; i++) {
		snprintf(office, sizeof office, "%d G\xc3\xb6teborg-%d", i, i);
		sample(&a[i], "x", office);
		list[i] = &a[i];
	}
	for (i = 0; i < 60; i++)
		to[i] = "someone.with.a.long.name@example.org";
	memset(big, 'x', 1500);
	memcpy(big + 1500, "{{count}}", 10);
	m = email_render(list, 8, big, "s@example.org", to, 60, NULL, 0,
	    BASE, NOW, HOST, &cause);
	assert_non_null(m);
	check_lines(m);
	assert_non_null(strstr(m, "\r\nTo: someone"));
	assert_non_null(strstr(m, ",\r\n someone"));
	v = header(m, "Subject");
	d = decode_words(v);
	assert_string_equal(d, "[stabild] 8 alerts: 0 G\xc3\xb6teborg-0, "
	    "1 G\xc3\xb6teborg-1, 2 G\xc3\xb6teborg-2, 3 G\xc3\xb6teborg-3, "
	    "4 G\xc3\xb6teborg-4 and 3 more");
	free(d);
	free(v);
	free(m);
}

static void
test_template_errors(void **state)
{
	static const struct {
		const char	*text;
		const char	*cause;
	} t[] = {
		{ "{{#alerts}}{{ofice}}{{/alerts}}", "unknown placeholder "
		    "{{ofice}}" },
		{ "a\n{{office}}", "line 2: {{office}} outside" },
		{ "{{#alerts}}x", "without {{/alerts}}" },
		{ "{{#alerts}}{{#alerts}}{{/alerts}}", "nested" },
		{ "{{count", "unterminated" },
		{ "{{/alerts}}", "unknown placeholder {{/alerts}}" },
	};
	struct alert	 a;
	const struct alert *list[1] = { &a };
	char		*m, *cause;
	size_t		 i;

	(void)state;
	sample(&a, "a-1", "K017");
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		cause = NULL;
		m = email_render(list, 1, t[i].text, "s@example.org", rcpt, 1,
		    NULL, 0, BASE, NOW, HOST, &cause);
		assert_null(m);
		assert_non_null(cause);
		if (strstr(cause, t[i].cause) == NULL)
			fail_msg("case %zu: %s", i, cause);
		free(cause);
	}
	cause = NULL;
	assert_null(email_render(list, 1, "x", "s@example.org", rcpt, 1,
	    NULL, 0, BASE, NOW, "bad host", &cause));
	free(cause);
	cause = NULL;
	assert_null(email_render(list, 1, "x", "a@b\r\nBcc: c@d", rcpt, 1,
	    NULL, 0, BASE, NOW, HOST, &cause));
	free(cause);
	cause = NULL;
	assert_null(email_load_template("tests/no/such/template", &cause));
	assert_non_null(cause);
	free(cause);
}

static void
test_real_template(void **state)
{
	struct alert	 a, b;
	const struct alert *list[2] = { &a, &b };
	char		*t, *m, *cause = NULL;

	(void)state;
	sample(&a, "a-1", "K017");
	sample(&b, "a-2", "national");
	b.scope = ALERT_NATIONAL;
	t = email_load_template("alerts/templates/alert.txt", &cause);
	if (t == NULL)
		fail_msg("%s", cause);
	m = email_render(list, 2, t, "s@example.org", rcpt, 2, NULL, 0,
	    BASE, NOW, HOST, &cause);
	if (m == NULL)
		fail_msg("%s", cause);
	check_lines(m);
	assert_non_null(strstr(body(m), "K017 sjukpenning/first"));
	assert_non_null(strstr(body(m), "national sjukpenning/first"));
	assert_non_null(strstr(body(m), "1.62"));
	assert_non_null(strstr(body(m), "12.4%"));
	assert_non_null(strstr(body(m), "diagnosis=F (42% of the excess"));
	assert_non_null(strstr(body(m),
	    BASE "/v1/series/K017/sjukpenning/first"));
	assert_null(strstr(m, "{{"));
	free(m);
	free(t);
}

/*
 * A rejection alert in the shipped template reads word for word as
 * before indicators.
 */
static void
test_rejection_text(void **state)
{
	struct alert	 a;
	const struct alert *list[1] = { &a };
	char		*t, *m, *v, *cause = NULL;

	(void)state;
	sample(&a, "K017.sjukpenning.first.2023-W14.up", "K017");
	t = email_load_template("alerts/templates/alert.txt", &cause);
	if (t == NULL)
		fail_msg("%s", cause);
	m = email_render(list, 1, t, "s@example.org", rcpt, 1, NULL, 0,
	    BASE, NOW, HOST, &cause);
	if (m == NULL)
		fail_msg("%s", cause);
	assert_string_equal(body(m),
	    "stabild has 1 alert(s) for you.\r\n"
	    "\r\n"
	    "K017 sjukpenning/first: more rejections since 2023-W14 "
	    "(firing, unexplained)\r\n"
	    "  At detection: rejection rate 12.4%, baseline 8.1%, expected "
	    "for this case mix 8.5%.\r\n"
	    "  Odds ratio 1.62 (95% interval 1.31 to 2.01) over 1234 "
	    "decisions.\r\n"
	    "  Of the change, case mix explains +0.4 pp and practice "
	    "+3.9 pp.\r\n"
	    "  Contributing strata: diagnosis=F (42% of the excess, "
	    "OR 1.8)\r\n"
	    "  Explanations: none\r\n"
	    "  Context: reorg-2023\r\n"
	    "  Detected 2023-05-02T10:00:00Z (alert "
	    "K017.sjukpenning.first.2023-W14.up, change 1).\r\n"
	    "  Details: " BASE "/v1/series/K017/sjukpenning/first\r\n");
	v = header(m, "Subject");
	assert_string_equal(v, "[stabild] K017 sjukpenning/first: more "
	    "rejections since 2023-W14 (unexplained)");
	free(v);
	free(m);
	free(t);
}

/* Another indicator's alert names it, its rate and what it counts. */
static void
test_indicator_text(void **state)
{
	struct alert	 a, b, c;
	const struct alert *list[3] = { &a, &b, &c };
	char		*t, *m, *v, *cause = NULL;
	static const char own[] =
	    "{{#alerts}}{{indicator}}|{{rate_name}}|{{events}}|"
	    "{{direction}}{{/alerts}}\n";

	(void)state;
	sample(&a, "reconsideration:K017.sjukpenning.first.2023-W14.up",
	    "K017");
	strcpy(a.indicator, "reconsideration");
	strcpy(a.indicator_label, "change rate at reconsideration");
	strcpy(a.event, "reconsideration");
	t = email_load_template("alerts/templates/alert.txt", &cause);
	if (t == NULL)
		fail_msg("%s", cause);
	m = email_render(list, 1, t, "s@example.org", rcpt, 1, NULL, 0,
	    BASE, NOW, HOST, &cause);
	if (m == NULL)
		fail_msg("%s", cause);
	check_lines(m);
	assert_non_null(strstr(body(m), "K017 sjukpenning/first: higher "
	    "change rate at reconsideration since 2023-W14 (firing, "
	    "unexplained)\r\n"));
	assert_non_null(strstr(body(m), "  At detection: change rate at "
	    "reconsideration 12.4%, baseline"));
	assert_non_null(strstr(body(m), "over 1234 reconsiderations.\r\n"));
	assert_non_null(strstr(body(m), "  Details: " BASE "/v1/series/K017/"
	    "sjukpenning/first?indicator=reconsideration\r\n"));
	assert_null(strstr(body(m), "rejection"));
	v = header(m, "Subject");
	assert_string_equal(v, "[stabild] [reconsideration] K017 "
	    "sjukpenning/first: higher change rate at reconsideration since "
	    "2023-W14 (unexplained)");
	free(v);
	free(m);

	/* The placeholders themselves; rejection's and an appeal's. */
	sample(&b, "b", "K001");
	sample(&c, "appeal:K002.sjukpenning.first.2023-W14.up", "K002");
	c.direction = ALERT_DOWN;
	strcpy(c.indicator, "appeal");
	strcpy(c.indicator_label, "change rate in court");
	strcpy(c.event, "appeal");
	m = email_render(list, 3, own, "s@example.org", rcpt, 1, NULL, 0,
	    BASE, NOW, HOST, &cause);
	if (m == NULL)
		fail_msg("%s", cause);
	assert_string_equal(body(m), "reconsideration|change rate at "
	    "reconsideration|reconsiderations|higher change rate at "
	    "reconsideration"
	    "rejection|rejection rate|decisions|more rejections"
	    "appeal|change rate in court|court rulings|lower change rate in "
	    "court\r\n");
	/* Mixed indicators: no indicator in the subject. */
	v = header(m, "Subject");
	assert_string_equal(v, "[stabild] 3 alerts: K017, K001, K002");
	free(v);
	free(m);
	/* Several alerts of one indicator: its name. */
	list[1] = &a;
	m = email_render(list, 2, own, "s@example.org", rcpt, 1, NULL, 0,
	    BASE, NOW, HOST, &cause);
	if (m == NULL)
		fail_msg("%s", cause);
	v = header(m, "Subject");
	assert_string_equal(v, "[stabild] [reconsideration] 2 alerts: K017");
	free(v);
	free(m);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_alert),
		cmocka_unit_test(test_two_alerts_utf8),
		cmocka_unit_test(test_ha_message_id),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_template_errors),
		cmocka_unit_test(test_real_template),
		cmocka_unit_test(test_rejection_text),
		cmocka_unit_test(test_indicator_text),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
