/*
 * Durable file writes: all of a buffer, the directory fsync that makes a
 * rename last, and the whole replace-by-rename dance for small files.
 */
#ifndef STABILD_FILE_H
#define STABILD_FILE_H

#include <stddef.h>

/* write(2) all of len bytes, retrying on EINTR; 0 or -1 (errno). */
int file_write_all(int fd, const void *p, size_t len);
/* fsync the directory holding path, so a rename in it is durable. */
int file_sync_dir(const char *path);
/*
 * Replace path by data: a temporary file of this process (PATH.tmp.PID),
 * fsync, rename, fsync of the directory. After a crash the old or the new
 * file is there. -1 with *cause (naming what, prefixed by who).
 */
int file_replace(const char *who, const char *path, const void *data,
    size_t len, char **cause) __attribute__((warn_unused_result));

#endif
