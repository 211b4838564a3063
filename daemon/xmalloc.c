/*
 * Allocation wrappers: die on failure instead of half-coping.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"

void *
xmalloc(size_t size)
{
	void *p = malloc(size == 0 ? 1 : size);

	if (p == NULL)
		fatal("xmalloc: %zu bytes", size);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);

	if (p == NULL)
		fatal("xcalloc: %zu x %zu bytes", nmemb, size);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		fatalx("xreallocarray: %zu x %zu overflows", nmemb, size);
	p = realloc(ptr, nmemb * size == 0 ? 1 : nmemb * size);
	if (p == NULL)
		fatal("xreallocarray: %zu x %zu bytes", nmemb, size);
	return p;
}

void *
xmap(size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		fatalx("xmap: %zu x %zu overflows", nmemb, size);
	if (nmemb * size == 0)
		return NULL;
	p = mmap(NULL, nmemb * size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("xmap: %zu x %zu bytes", nmemb, size);
	return p;
}

void *
xmap_grow(void *p, size_t n, size_t nmemb, size_t size, int flags)
{
	void *q;

	if (p == NULL)
		q = xmap(nmemb, size);
	else {
		if (size != 0 && nmemb > SIZE_MAX / size)
			fatalx("xmap_grow: %zu x %zu overflows", nmemb, size);
		q = mremap(p, n * size, nmemb * size, MREMAP_MAYMOVE);
		if (q == MAP_FAILED)
			fatal("xmap_grow: %zu x %zu bytes", nmemb, size);
	}
	if (q != NULL && (flags & XMAP_NOFORK))
		(void)madvise(q, nmemb * size, MADV_DONTFORK);
	if (q != NULL && (flags & XMAP_HUGE))
		(void)madvise(q, nmemb * size, MADV_HUGEPAGE);
	return q;
}

void
xunmap(void *p, size_t nmemb, size_t size)
{
	if (p != NULL)
		munmap(p, nmemb * size);
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("xstrdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		fatal("xstrndup");
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char *p;

	if (vasprintf(&p, fmt, ap) == -1)
		fatal("xvasprintf");
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}
