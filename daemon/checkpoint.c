/*
 * Checkpoint file: "STABILCP", version, tagged sections, SHA-256 trailer.
 * Written to PATH.tmp, fsynced, renamed over PATH, directory fsynced: after
 * a crash the old or the new file is there, whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "checkpoint.h"
#include "file.h"
#include "xmalloc.h"

#define CHECKPOINT_MAGIC	"STABILCP"
#define CHECKPOINT_VERSION_MIN	1	/* the oldest format read */
#define CHECKPOINT_HASH		32

void
checkpoint_init(struct checkpoint *cp)
{
	memset(cp, 0, sizeof *cp);
}

void
checkpoint_free(struct checkpoint *cp)
{
	int i;

	for (i = 0; i < cp->nsections; i++)
		buf_free(&cp->sections[i].data);
	free(cp->raw);
	checkpoint_init(cp);
}

struct buf *
checkpoint_add(struct checkpoint *cp, uint32_t tag)
{
	struct checkpoint_section *s;

	if (cp->nsections == CHECKPOINT_MAX_SECTIONS)
		return NULL;
	s = &cp->sections[cp->nsections++];
	s->tag = tag;
	buf_init(&s->data);
	return &s->data;
}

/* Bytes into the file and the hash alike. */
static int
checkpoint_emit(int fd, EVP_MD_CTX *md, const void *p, size_t len)
{
	if (len == 0)
		return 0;
	EVP_DigestUpdate(md, p, len);
	return file_write_all(fd, p, len);
}

int
checkpoint_write(const struct checkpoint *cp, const char *path, char **cause)
{
	struct buf head;
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hashlen = 0;
	EVP_MD_CTX *md;
	char *tmp;
	int fd = -1, i, rc = -1, err = EIO;

	/* Per process, so that two writers can never share a file. */
	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	md = EVP_MD_CTX_new();
	buf_init(&head);
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		*cause = xasprintf("checkpoint: cannot set up SHA-256");
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1) {
		err = errno;
		*cause = xasprintf("checkpoint: open %s: %s", tmp,
		    strerror(err));
		goto out;
	}
	buf_put(&head, CHECKPOINT_MAGIC, 8);
	buf_put_u32(&head, CHECKPOINT_VERSION);
	buf_put_u32(&head, (uint32_t)cp->nsections);
	if (checkpoint_emit(fd, md, head.data, head.len) == -1)
		goto write_error;
	/* Each section's head, then its data as it is: not copied. */
	for (i = 0; i < cp->nsections; i++) {
		const struct buf *d = &cp->sections[i].data;

		buf_reset(&head);
		buf_put_u32(&head, cp->sections[i].tag);
		buf_put_u64(&head, d->len);
		if (checkpoint_emit(fd, md, head.data, head.len) == -1 ||
		    checkpoint_emit(fd, md, d->data, d->len) == -1)
			goto write_error;
	}
	EVP_DigestFinal_ex(md, hash, &hashlen);
	if (file_write_all(fd, hash, CHECKPOINT_HASH) == -1)
		goto write_error;
	if (fsync(fd) == -1)
		goto write_error;
	if (close(fd) == -1) {
		fd = -1;
		goto write_error;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		err = errno;
		*cause = xasprintf("checkpoint: rename %s: %s", tmp,
		    strerror(err));
		goto out;
	}
	if (file_sync_dir(path) == -1) {
		err = errno;
		*cause = xasprintf("checkpoint: fsync directory of %s: %s",
		    path, strerror(err));
		goto out;
	}
	rc = 0;
	goto out;

write_error:
	err = errno;
	*cause = xasprintf("checkpoint: write %s: %s", tmp, strerror(err));
out:
	if (fd != -1)
		close(fd);
	/* A full disk gets the space of the part written back. */
	if (rc == -1)
		unlink(tmp);
	EVP_MD_CTX_free(md);
	buf_free(&head);
	free(tmp);
	if (rc == -1)
		errno = err;
	return rc;
}

/* Read a whole file into memory. 1 read, 0 absent, -1 error. */
static int
checkpoint_slurp(const char *path, unsigned char **out, size_t *outlen,
    char **cause)
{
	struct stat sb;
	unsigned char *data;
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		*cause = xasprintf("checkpoint: open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		*cause = xasprintf("checkpoint: stat %s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	data = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		n = read(fd, data + off, (size_t)sb.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			*cause = xasprintf("checkpoint: read %s: %s", path,
			    n == 0 ? "short file" : strerror(errno));
			free(data);
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	close(fd);
	*out = data;
	*outlen = off;
	return 1;
}

int
checkpoint_read(struct checkpoint *cp, const char *path, char **cause)
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hashlen = 0;
	struct buf_reader r;
	uint32_t version, n, i, tag;
	uint64_t len;
	const unsigned char *magic, *p;
	int rc;

	checkpoint_free(cp);
	rc = checkpoint_slurp(path, &cp->raw, &cp->rawlen, cause);
	if (rc != 1)
		return rc;
	if (cp->rawlen < 16 + CHECKPOINT_HASH) {
		*cause = xasprintf("checkpoint: %s is truncated", path);
		return -1;
	}
	if (EVP_Digest(cp->raw, cp->rawlen - CHECKPOINT_HASH, hash, &hashlen,
	    EVP_sha256(), NULL) != 1 ||
	    memcmp(hash, cp->raw + cp->rawlen - CHECKPOINT_HASH,
	    CHECKPOINT_HASH) != 0) {
		*cause = xasprintf("checkpoint: %s is damaged (checksum)",
		    path);
		return -1;
	}
	buf_reader_init(&r, cp->raw, cp->rawlen - CHECKPOINT_HASH);
	magic = buf_get_bytes(&r, 8);
	if (magic == NULL || memcmp(magic, CHECKPOINT_MAGIC, 8) != 0) {
		*cause = xasprintf("checkpoint: %s is not a checkpoint", path);
		return -1;
	}
	if (buf_get_u32(&r, &version) == -1 ||
	    version < CHECKPOINT_VERSION_MIN || version > CHECKPOINT_VERSION) {
		*cause = xasprintf("checkpoint: %s has unsupported version %u "
		    "(this stabild reads %d to %d)", path, version,
		    CHECKPOINT_VERSION_MIN, CHECKPOINT_VERSION);
		return -1;
	}
	cp->version = version;
	if (buf_get_u32(&r, &n) == -1 || n > CHECKPOINT_MAX_SECTIONS) {
		*cause = xasprintf("checkpoint: %s has a bad section count",
		    path);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (buf_get_u32(&r, &tag) == -1 || buf_get_u64(&r, &len) == -1 ||
		    len > r.left || (p = buf_get_bytes(&r, len)) == NULL) {
			*cause = xasprintf("checkpoint: %s: section %u is "
			    "truncated", path, i);
			return -1;
		}
		buf_put(checkpoint_add(cp, tag), p, len);
	}
	return 1;
}

int
checkpoint_get(const struct checkpoint *cp, uint32_t tag, struct buf_reader *r)
{
	int i;

	for (i = 0; i < cp->nsections; i++) {
		if (cp->sections[i].tag == tag) {
			buf_reader_init(r, cp->sections[i].data.data,
			    cp->sections[i].data.len);
			return 0;
		}
	}
	return -1;
}
