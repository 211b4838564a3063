/*
 * Allocation that never returns NULL: on failure the daemon exits, and
 * systemd restarts it from its last checkpoint.
 */
#ifndef STABILD_XMALLOC_H
#define STABILD_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* The result is the caller's to free. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);
/*
 * nmemb elements of size in an anonymous mapping of their own, zeroed and
 * taking memory only as pages are touched; NULL for none. Large tables
 * use it to be given a layout or advice of their own (madvise).
 */
void *xmap(size_t nmemb, size_t size);
void xunmap(void *p, size_t nmemb, size_t size);

#endif
