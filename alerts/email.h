/*
 * Alert email rendering: a complete RFC 5322 message (headers and a body
 * from a {{placeholder}} template) for one or several alerts. Pure apart
 * from email_load_template; sending it over SMTP is libcurl's job.
 */
#ifndef STABILD_EMAIL_H
#define STABILD_EMAIL_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"

#define EMAIL_TEMPLATE_MAX	(64 * 1024)	/* bytes of template file */

/* The template built in from alerts/templates/alert.txt. */
extern const char email_default_template[];

/*
 * The bare address of "a@b" or "Name <a@b>" into out (size bytes), for the
 * SMTP envelope. 0, or -1 when there is none or it does not fit.
 */
int email_addr_spec(const char *addr, char *out, size_t size);

/*
 * Read a template file (at most EMAIL_TEMPLATE_MAX bytes, no NUL bytes).
 * Returns the text, the caller's to free, or NULL with *cause set (the
 * caller frees it).
 */
char *email_load_template(const char *path, char **cause)
    __attribute__((warn_unused_result));

/*
 * Render one message for alerts[0..n-1] (n >= 1), all borrowed for the
 * call only. from is one address, to[0..nto-1] (nto >= 1) and
 * cc[0..ncc-1] are addresses ("a@b" or "Name <a@b>"; a non-ASCII display
 * name is encoded). base_url makes status_url, now (Unix s) gives Date and
 * Message-ID, hostname the Message-ID's right side.
 *
 * The result has CRLF line endings throughout and no line over 998 bytes;
 * the body is UTF-8 sent as Content-Transfer-Encoding 8bit (longer body
 * lines are broken). A line starting with "." is left alone: SMTP
 * dot-stuffing is done by libcurl when it sends the message.
 *
 * Template syntax: {{name}} is replaced by a value; the text between
 * {{#alerts}} and {{/alerts}} is repeated once per alert, and the alert
 * placeholders (see email.c, email_names) are valid only inside it. An
 * unknown or misplaced placeholder is an error, so typos are caught.
 *
 * Returns the message, the caller's to free, or NULL with *cause set (the
 * caller frees it).
 */
char *email_render(const struct alert *const *alerts, int n,
    const char *template_text, const char *from, const char *const *to,
    int nto, const char *const *cc, int ncc, const char *base_url,
    int64_t now, const char *hostname, char **cause)
    __attribute__((warn_unused_result));
/*
 * email_render with the Message-ID made from nid, the notification id,
 * alone (HA mode: every instance sends the same one); nid NULL is
 * email_render.
 */
char *email_render_nid(const struct alert *const *alerts, int n,
    const char *template_text, const char *from, const char *const *to,
    int nto, const char *const *cc, int ncc, const char *base_url,
    int64_t now, const char *hostname, const char *nid, char **cause)
    __attribute__((warn_unused_result));

#endif
