/*
 * The dashboard's files for the API to serve under /ui/: the embedded
 * page, scripts and style, and Chart.js from the system, kept in memory
 * and read again when its file changes.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "ui.h"
#include "ui_files.h"
#include "xmalloc.h"

#define UI_CHARTJS_NAME		"chart.js"	/* as the page asks for it */
#define UI_CHARTJS_FILE		"chart.min.js"	/* in libjs-chart.js */
#define UI_CHARTJS_MAX		(8 * 1024 * 1024)
#define UI_ETAG_MAX		64

/* Chart.js as last read, with what identifies that version on disk. */
struct ui {
	char		*path;		/* NULL: never read */
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
	char		*data;
	size_t		 len;
	char		 etag[UI_ETAG_MAX];
	int		 failed_errno;	/* logged already; 0: none */
};

static const struct {
	const char	*suffix;
	const char	*type;
} ui_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".png", "image/png" },
	{ ".svg", "image/svg+xml" },
};

static const char *
ui_type(const char *name)
{
	size_t i, n = strlen(name), k;

	for (i = 0; i < sizeof ui_types / sizeof ui_types[0]; i++) {
		k = strlen(ui_types[i].suffix);
		if (n >= k && strcmp(name + n - k, ui_types[i].suffix) == 0)
			return ui_types[i].type;
	}
	return "application/octet-stream";
}

struct ui *
ui_create(void)
{
	return xcalloc(1, sizeof (struct ui));
}

static void
ui_forget(struct ui *ui)
{
	free(ui->path);
	free(ui->data);
	ui->path = NULL;
	ui->data = NULL;
	ui->len = 0;
}

void
ui_free(struct ui *ui)
{
	if (ui == NULL)
		return;
	ui_forget(ui);
	free(ui);
}

/* Log a failure to read Chart.js once, not on every request. */
static int
ui_chartjs_failed(struct ui *ui, const char *path, int error)
{
	if (ui->failed_errno != error)
		log_warnx("ui: cannot read %s: %s; the dashboard shows tables "
		    "only", path, strerror(error));
	ui->failed_errno = error;
	ui_forget(ui);
	return -1;
}

/*
 * Chart.js from dir, from memory while the file on disk is the one read
 * (same inode, size and modification time), else read again.
 */
static int
ui_chartjs(struct ui *ui, const char *dir, struct ui_file *f)
{
	struct stat st;
	char *path, *data;
	ssize_t r;
	size_t got = 0;
	int fd, error;

	path = xasprintf("%s/%s", dir, UI_CHARTJS_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		error = errno;
		if (fd != -1)
			close(fd);
		ui_chartjs_failed(ui, path, error);
		free(path);
		return -1;
	}
	if (ui->path != NULL && strcmp(ui->path, path) == 0 &&
	    ui->dev == st.st_dev && ui->ino == st.st_ino &&
	    ui->size == st.st_size &&
	    ui->mtime.tv_sec == st.st_mtim.tv_sec &&
	    ui->mtime.tv_nsec == st.st_mtim.tv_nsec) {
		close(fd);
		free(path);
		goto found;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > UI_CHARTJS_MAX) {
		close(fd);
		ui_chartjs_failed(ui, path, S_ISREG(st.st_mode) ? EFBIG :
		    EINVAL);
		free(path);
		return -1;
	}
	data = xmalloc((size_t)st.st_size);
	while (got < (size_t)st.st_size) {
		r = read(fd, data + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			error = r == 0 ? EIO : errno;
			close(fd);
			free(data);
			ui_chartjs_failed(ui, path, error);
			free(path);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	ui_forget(ui);
	ui->path = path;
	ui->data = data;
	ui->len = got;
	ui->dev = st.st_dev;
	ui->ino = st.st_ino;
	ui->size = st.st_size;
	ui->mtime = st.st_mtim;
	snprintf(ui->etag, sizeof ui->etag, "\"%jx-%jx-%jx\"",
	    (uintmax_t)st.st_ino, (uintmax_t)st.st_size,
	    (uintmax_t)st.st_mtim.tv_sec * 1000000000u +
	    (uintmax_t)st.st_mtim.tv_nsec);
	if (ui->failed_errno != 0)
		log_notice("ui: %s can be read again", path);
	ui->failed_errno = 0;
	log_debug("ui: read %s, %zu bytes", path, got);
found:
	f->type = ui_type(UI_CHARTJS_NAME);
	f->data = ui->data;
	f->len = ui->len;
	f->etag = ui->etag;
	return 0;
}

int
ui_find(struct ui *ui, const char *name, const char *chartjs_dir,
    struct ui_file *f)
{
	size_t i;

	if (*name == '\0')
		name = "index.html";
	if (strcmp(name, UI_CHARTJS_NAME) == 0) {
		if (chartjs_dir == NULL)
			return -1;
		return ui_chartjs(ui, chartjs_dir, f);
	}
	for (i = 0; i < ui_embedded_count; i++) {
		if (strcmp(ui_embedded[i].name, name) == 0) {
			f->type = ui_type(name);
			f->data = ui_embedded[i].data;
			f->len = ui_embedded[i].len;
			f->etag = ui_embedded[i].etag;
			return 0;
		}
	}
	return -1;
}
