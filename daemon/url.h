/*
 * The address of this daemon as its users reach it: the base of the links
 * in alerts (status_url in webhooks and emails).
 */
#ifndef STABILD_URL_H
#define STABILD_URL_H

/*
 * "scheme://host[:port][/path]" without a trailing '/', for appending
 * "/v1/...". public_url (http.public_url) wins when set and not empty;
 * otherwise it is made from bind and port (the port actually bound):
 * an IPv6 address goes in brackets, and a wildcard address (0.0.0.0, ::)
 * becomes hostname, or 127.0.0.1 when hostname is NULL or empty. The
 * caller frees the result.
 */
char *url_base(const char *public_url, const char *bind, int port,
    const char *hostname);

#endif
