/*
 * url: the base of the links in alerts, from the public URL or the bound
 * address: IPv6 in brackets, wildcards replaced, the port as bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "url.h"

static void
test_base(void **state)
{
	static const struct {
		const char	*public_url;
		const char	*bind;
		int		 port;
		const char	*hostname;
		const char	*want;
	} cases[] = {
		/* The public URL wins, without its trailing slashes. */
		{ "https://stabild.example.se/", "127.0.0.1", 8080, "h",
		  "https://stabild.example.se" },
		{ "https://stabild.example.se", "::", 0, "h",
		  "https://stabild.example.se" },
		{ "https://proxy.example.se/stabild//", "127.0.0.1", 8080, "h",
		  "https://proxy.example.se/stabild" },
		{ "http://[2001:db8::5]:8443/", "0.0.0.0", 1, NULL,
		  "http://[2001:db8::5]:8443" },
		/* An empty one is unset. */
		{ "", "127.0.0.1", 8080, "h", "http://127.0.0.1:8080" },
		/* The bound address. */
		{ NULL, "127.0.0.1", 8080, "h", "http://127.0.0.1:8080" },
		{ NULL, "192.0.2.7", 443, "h", "http://192.0.2.7:443" },
		{ NULL, "localhost", 9000, "h", "http://localhost:9000" },
		{ NULL, "::1", 8080, "h", "http://[::1]:8080" },
		{ NULL, "2001:db8::1", 39017, NULL, "http://[2001:db8::1]:39017" },
		{ NULL, "fe80::1%eth0", 8080, "h", "http://[fe80::1%25eth0]:8080" },
		/* Wildcards: the host name, else loopback. */
		{ NULL, "0.0.0.0", 8080, "stabild-1.example.se",
		  "http://stabild-1.example.se:8080" },
		{ NULL, "::", 41234, "stabild-1", "http://stabild-1:41234" },
		{ NULL, "0.0.0.0", 8080, NULL, "http://127.0.0.1:8080" },
		{ NULL, "::", 8080, "", "http://127.0.0.1:8080" },
		{ NULL, "", 8080, "h", "http://h:8080" },
		{ NULL, NULL, 8080, NULL, "http://127.0.0.1:8080" },
	};
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = url_base(cases[i].public_url, cases[i].bind,
		    cases[i].port, cases[i].hostname);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, got,
			    cases[i].want);
		free(got);
	}
}

/* A link is the base and a path: never two slashes, never none. */
static void
test_link(void **state)
{
	char *base, *link;

	(void)state;
	base = url_base("https://x.example/a/", NULL, 0, NULL);
	assert_true(asprintf(&link, "%s/v1/series/K001/sjukpenning/first",
	    base) > 0);
	assert_string_equal(link,
	    "https://x.example/a/v1/series/K001/sjukpenning/first");
	free(link);
	free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base),
		cmocka_unit_test(test_link),
	};

	log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
