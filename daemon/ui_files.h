/*
 * The table of embedded dashboard files, written at build time by
 * daemon/ui/embed.sh; only ui.c reads it.
 */
#ifndef STABILD_UI_FILES_H
#define STABILD_UI_FILES_H

#include <stddef.h>

struct ui_embedded {
	const char		*name;		/* "app.js" */
	const unsigned char	*data;
	size_t			 len;
	const char		*etag;		/* quoted SHA-256 prefix */
};

extern const struct ui_embedded ui_embedded[];
extern const size_t ui_embedded_count;

#endif
