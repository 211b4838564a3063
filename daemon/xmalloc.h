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
/* What a mapping of its own is advised (madvise) to be. */
#define XMAP_NOFORK	0x1	/* left out of a fork (MADV_DONTFORK) */
#define XMAP_HUGE	0x2	/* in huge pages (MADV_HUGEPAGE) */
/*
 * A mapping of nmemb elements of size: p's of n elements grown, its pages
 * moved rather than copied (mremap), or with p NULL a new one. The XMAP_*
 * flags are given for the whole of it before new pages are touched; only
 * an optimisation, so a refusal is ignored.
 */
void *xmap_grow(void *p, size_t n, size_t nmemb, size_t size, int flags);

#endif
