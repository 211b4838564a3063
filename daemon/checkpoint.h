/*
 * Checkpoint file: tagged sections written to a temporary file, fsynced,
 * renamed over the old one, and the directory fsynced; a SHA-256 of the
 * content at the end catches torn or damaged files. Either the old or the
 * new checkpoint is seen after a crash, never a mix.
 */
#ifndef STABILD_CHECKPOINT_H
#define STABILD_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CHECKPOINT_MAX_SECTIONS 32
/*
 * The file format written. From format 2 on, every section's data begins
 * with a u32 version of its own layout; in format 1 the ingest state and
 * the records index had none (they were version 1). Formats 1 and 2 are
 * read.
 */
#define CHECKPOINT_VERSION	2

struct checkpoint_section {
	uint32_t	 tag;		/* four ASCII characters, see CP_TAG */
	struct buf	 data;
};

#define CP_TAG(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

struct checkpoint {
	struct checkpoint_section sections[CHECKPOINT_MAX_SECTIONS];
	int		 nsections;
	/* Reading: the file's bytes, which section data borrow. */
	unsigned char	*raw;
	size_t		 rawlen;
	uint32_t	 version;	/* the file's format */
};

void checkpoint_init(struct checkpoint *cp);
void checkpoint_free(struct checkpoint *cp);
/* A new section to fill; valid until checkpoint_free. */
struct buf *checkpoint_add(struct checkpoint *cp, uint32_t tag);
/* Write atomically to path. 0 or -1 with *cause and errno. */
int checkpoint_write(const struct checkpoint *cp, const char *path,
    char **cause) __attribute__((warn_unused_result));
/*
 * Read path. Returns 1 when read, 0 when there is no file, -1 with *cause
 * when it exists but is damaged.
 */
int checkpoint_read(struct checkpoint *cp, const char *path, char **cause)
    __attribute__((warn_unused_result));
/* Reader over a section's bytes; -1 when the tag is absent. */
int checkpoint_get(const struct checkpoint *cp, uint32_t tag,
    struct buf_reader *r);

#endif
