/*
 * The dashboard's files: the page, its scripts and its style are embedded
 * in the binary at build time, so an installation cannot lose them or pair
 * them with another version of the API; Chart.js is read from the system's
 * libjs-chart.js, so that Debian's updates of it apply.
 */
#ifndef STABILD_UI_H
#define STABILD_UI_H

#include <stddef.h>

struct ui;

/* One file as served; the pointers are borrowed until the next ui_find. */
struct ui_file {
	const char	*type;		/* Content-Type */
	const void	*data;
	size_t		 len;
	const char	*etag;		/* quoted, strong */
};

struct ui *ui_create(void);
void ui_free(struct ui *ui);
/*
 * The file called name under /ui/ ("" is the page itself). "chart.js" is
 * chart.min.js of chartjs_dir, read again when it changes on disk. 0, or
 * -1 when there is no such file or it cannot be read (logged once).
 */
int ui_find(struct ui *ui, const char *name, const char *chartjs_dir,
    struct ui_file *f);

#endif
