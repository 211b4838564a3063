/*
 * The base URL of the links stabild puts in its alerts, made in this one
 * place: the configured public URL (a reverse proxy's address), or the
 * address the API is bound to.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "xmalloc.h"

/* Addresses that mean "every interface": nobody can connect to them. */
static bool
url_is_wildcard(const char *bind)
{
	return *bind == '\0' || strcmp(bind, "0.0.0.0") == 0 ||
	    strcmp(bind, "::") == 0 || strcmp(bind, "[::]") == 0 ||
	    strcmp(bind, "*") == 0;
}

char *
url_base(const char *public_url, const char *bind, int port,
    const char *hostname)
{
	const char *host, *p;
	char *zoned, *q, *url;
	size_t len;

	if (public_url != NULL && *public_url != '\0') {
		/* Drop trailing '/', never those of "scheme://" itself. */
		len = strlen(public_url);
		p = strstr(public_url, "://");
		while (len > 0 && public_url[len - 1] == '/' &&
		    (p == NULL || public_url + len > p + 3))
			len--;
		return xstrndup(public_url, len);
	}

	host = bind != NULL ? bind : "";
	if (url_is_wildcard(host))
		host = hostname != NULL && *hostname != '\0' ? hostname :
		    "127.0.0.1";
	if (strchr(host, ':') == NULL || *host == '[')
		return xasprintf("http://%s:%d", host, port);

	/* An IPv6 address in brackets; its zone's '%' escaped (RFC 6874). */
	zoned = q = xmalloc(strlen(host) * 3 + 1);
	for (p = host; *p != '\0'; p++) {
		if (*p == '%') {
			memcpy(q, "%25", 3);
			q += 3;
		} else
			*q++ = *p;
	}
	*q = '\0';
	url = xasprintf("http://[%s]:%d", zoned, port);
	free(zoned);
	return url;
}
