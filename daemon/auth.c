/*
 * API bearer tokens: loaded from a file of "<role> <token>" lines and
 * compared in constant time. Token text never reaches a log line or an
 * error message, and is wiped when freed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "log.h"
#include "xmalloc.h"

#define AUTH_TOKEN_MIN	16
#define AUTH_TOKEN_MAX	256
#define AUTH_SCHEME	"Bearer "

struct auth_token {
	enum auth_role	 role;
	size_t		 len;
	char		*text;
};

struct auth {
	struct auth_token	*tokens;
	size_t			 ntokens;
};

struct auth *
auth_empty(void)
{
	return xcalloc(1, sizeof (struct auth));
}

void
auth_free(struct auth *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->ntokens; i++) {
		explicit_bzero(a->tokens[i].text, a->tokens[i].len);
		free(a->tokens[i].text);
	}
	free(a->tokens);
	free(a);
}

size_t
auth_count(const struct auth *a)
{
	return a == NULL ? 0 : a->ntokens;
}

/* Blanks between fields: space and tab. */
static bool
auth_is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * Parse one line (without its line ending) into a; blank lines and '#'
 * comments add nothing. *cause must not quote the line: it may be a token.
 */
static int
auth_parse_line(struct auth *a, const char *line, char **cause)
{
	struct auth_token *t;
	enum auth_role role;
	const char *s = line, *word, *tok;
	size_t wlen, tlen, i;

	while (auth_is_blank(*s))
		s++;
	if (*s == '\0' || *s == '#')
		return 0;

	word = s;
	while (*s != '\0' && !auth_is_blank(*s))
		s++;
	wlen = (size_t)(s - word);
	if (wlen == 4 && strncmp(word, "read", 4) == 0)
		role = AUTH_READ;
	else if (wlen == 5 && strncmp(word, "write", 5) == 0)
		role = AUTH_WRITE;
	else {
		*cause = xstrdup("expected \"<role> <token>\" with role read "
		    "or write");
		return -1;
	}

	while (auth_is_blank(*s))
		s++;
	tok = s;
	while (*s != '\0' && !auth_is_blank(*s))
		s++;
	tlen = (size_t)(s - tok);
	while (auth_is_blank(*s))
		s++;
	if (tlen == 0) {
		*cause = xasprintf("missing token after the role");
		return -1;
	}
	if (*s != '\0') {
		*cause = xasprintf("unexpected text after the token");
		return -1;
	}
	for (i = 0; i < tlen; i++) {
		if (tok[i] < '!' || tok[i] > '~') {
			*cause = xasprintf("token has a character that is not "
			    "printable ASCII");
			return -1;
		}
	}
	/* A short token is guessable: refuse to run with it. */
	if (tlen < AUTH_TOKEN_MIN) {
		*cause = xasprintf("token is shorter than %d characters",
		    AUTH_TOKEN_MIN);
		return -1;
	}
	if (tlen > AUTH_TOKEN_MAX) {
		*cause = xasprintf("token is longer than %d characters",
		    AUTH_TOKEN_MAX);
		return -1;
	}

	a->tokens = xreallocarray(a->tokens, a->ntokens + 1,
	    sizeof *a->tokens);
	t = &a->tokens[a->ntokens++];
	t->role = role;
	t->len = tlen;
	t->text = xstrndup(tok, tlen);
	return 0;
}

struct auth *
auth_load(const char *path, char **cause)
{
	struct auth *a;
	struct stat sb;
	FILE *f;
	char *line = NULL, *why;
	size_t linesz = 0, len;
	ssize_t n;
	int lineno = 0, saved;

	if ((f = fopen(path, "re")) == NULL) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077) != 0) {
		log_warnx("auth: %s can be read by group or others; it should "
		    "be mode 0600", path);
	}

	a = auth_empty();
	while ((n = getline(&line, &linesz, f)) != -1) {
		lineno++;
		len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (strlen(line) != len) {
			*cause = xasprintf("%s:%d: line contains a NUL byte",
			    path, lineno);
			goto fail;
		}
		if (auth_parse_line(a, line, &why) != 0) {
			*cause = xasprintf("%s:%d: %s", path, lineno, why);
			free(why);
			goto fail;
		}
	}
	if (ferror(f)) {
		saved = errno;
		*cause = xasprintf("%s: %s", path, strerror(saved));
		goto fail;
	}
	goto out;

fail:
	auth_free(a);
	a = NULL;
out:
	if (line != NULL) {
		explicit_bzero(line, linesz);
		free(line);
	}
	fclose(f);
	return a;
}

/*
 * The role of "Bearer <token>". Every token of the right length is
 * compared in full, with no early exit, so timing does not tell which
 * token nearly matched.
 */
enum auth_role
auth_role_of(const struct auth *a, const char *header)
{
	const struct auth_token *t;
	enum auth_role role = AUTH_NONE;
	const char *tok;
	size_t len, i;
	int match;

	if (a == NULL || header == NULL)
		return AUTH_NONE;
	if (strncasecmp(header, AUTH_SCHEME, sizeof AUTH_SCHEME - 1) != 0)
		return AUTH_NONE;
	tok = header + sizeof AUTH_SCHEME - 1;
	len = strlen(tok);
	for (i = 0; i < a->ntokens; i++) {
		t = &a->tokens[i];
		if (t->len != len)
			continue;
		match = CRYPTO_memcmp(t->text, tok, len) == 0;
		if (match && t->role > role)
			role = t->role;
	}
	return role;
}

const char *
auth_role_name(enum auth_role role)
{
	switch (role) {
	case AUTH_NONE:
		return "none";
	case AUTH_READ:
		return "read";
	case AUTH_WRITE:
		return "write";
	}
	return "none";
}
