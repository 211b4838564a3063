/*
 * The fuzz targets' temporary directory. Each target is one process; the
 * directory lives as long as it and is removed at exit, also when
 * libFuzzer stops on -max_total_time.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzfile.h"
#include "log.h"
#include "period.h"
#include "xmalloc.h"

static char fuzzfile_path[256];

static void
fuzzfile_remove_dir(const char *path)
{
	struct dirent *de;
	struct stat sb;
	char *p;
	DIR *d;

	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", path, de->d_name);
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			fuzzfile_remove_dir(p);
		else
			unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(path);
}

static void
fuzzfile_atexit(void)
{
	if (fuzzfile_path[0] != '\0')
		fuzzfile_remove_dir(fuzzfile_path);
}

void
fuzzfile_init(void)
{
	const char *tmp = getenv("TMPDIR");

	if (fuzzfile_path[0] != '\0')
		return;
	/*
	 * Errors only would still be one line per rejected input; set
	 * STABILD_FUZZ_LOG to see them when running one input by hand.
	 */
	log_init(getenv("STABILD_FUZZ_LOG") != NULL ? LOG_DEBUG : LOG_CRIT);
	period_init();
	snprintf(fuzzfile_path, sizeof fuzzfile_path, "%s/stabild-fuzz-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(fuzzfile_path) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(fuzzfile_atexit);
}

const char *
fuzzfile_dir(void)
{
	return fuzzfile_path;
}

char *
fuzzfile_write(const char *name, const uint8_t *data, size_t size)
{
	char *path = xasprintf("%s/%s", fuzzfile_path, name), *slash;
	size_t off = 0;
	ssize_t n;
	int fd;

	slash = strrchr(path, '/');
	if (slash != NULL && slash - path > (ptrdiff_t)strlen(fuzzfile_path)) {
		*slash = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			perror("fuzz: mkdir");
			abort();
		}
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		perror("fuzz: open");
		abort();
	}
	while (off < size) {
		if ((n = write(fd, data + off, size - off)) <= 0) {
			perror("fuzz: write");
			abort();
		}
		off += (size_t)n;
	}
	close(fd);
	return path;
}

void
fuzzfile_clear(const char *sub)
{
	struct dirent *de;
	struct stat sb;
	char *dir, *p;
	DIR *d;

	dir = sub != NULL ? xasprintf("%s/%s", fuzzfile_path, sub) :
	    xstrdup(fuzzfile_path);
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			p = xasprintf("%s/%s", dir, de->d_name);
			if (lstat(p, &sb) == 0 && !S_ISDIR(sb.st_mode))
				unlink(p);
			free(p);
		}
		closedir(d);
	}
	free(dir);
}
