/*
 * Shared by the fuzz targets: a private temporary directory for the
 * loaders that want a path, removed when the process exits, and the
 * daemon's logging turned down so that rejected inputs stay quiet.
 */
#ifndef STABILD_FUZZFILE_H
#define STABILD_FUZZFILE_H

#include <stddef.h>
#include <stdint.h>

/* Once per process: quiet logs, period tables, the directory. */
void fuzzfile_init(void);
/* The directory; fuzzfile_init first. */
const char *fuzzfile_dir(void);
/*
 * Write data to DIR/name (name may hold one subdirectory, made on
 * demand) and return the path, the caller's to free.
 */
char *fuzzfile_write(const char *name, const uint8_t *data, size_t size);
/* Remove every file in DIR/sub (sub NULL: DIR itself), not directories. */
void fuzzfile_clear(const char *sub);

#endif
