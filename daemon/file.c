/*
 * Durable file writes shared by the checkpoint and the explanation
 * registry: write everything, fsync, rename, fsync the directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "xmalloc.h"

int
file_write_all(int fd, const void *p, size_t len)
{
	const unsigned char *c = p;
	ssize_t n;

	while (len > 0) {
		n = write(fd, c, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

int
file_sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = -1;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd != -1) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

int
file_replace(const char *who, const char *path, const void *data,
    size_t len, char **cause)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *what = "open";
	int fd, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1)
		goto fail;
	what = "write";
	if (file_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		goto fail;
	}
	if (close(fd) == -1)
		goto fail;
	what = "rename";
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	if (file_sync_dir(path) == -1) {
		*cause = xasprintf("%s: sync the directory of %s: %s", who,
		    path, strerror(errno));
		return -1;
	}
	return 0;

fail:
	saved = errno;
	*cause = xasprintf("%s: %s %s: %s", who, what, tmp, strerror(saved));
	unlink(tmp);
	free(tmp);
	return -1;
}
