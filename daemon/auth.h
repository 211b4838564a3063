/*
 * Bearer tokens with roles, from a file of lines "<role> <token>".
 * Tokens are compared in constant time and never logged.
 */
#ifndef STABILD_AUTH_H
#define STABILD_AUTH_H

#include <stddef.h>

enum auth_role {
	AUTH_NONE = 0,		/* no or unknown token */
	AUTH_READ = 1,
	AUTH_WRITE = 2,		/* implies read */
};

struct auth;

/*
 * Load a tokens file. Blank lines and lines starting with '#' are skipped.
 * On error NULL, *cause = "FILE:LINE: message" (caller frees).
 */
struct auth *auth_load(const char *path, char **cause);
/* An empty set (no tokens file configured). */
struct auth *auth_empty(void);
void auth_free(struct auth *a);
size_t auth_count(const struct auth *a);
/* The role of an Authorization header value ("Bearer xyz"); NULL → NONE. */
enum auth_role auth_role_of(const struct auth *a, const char *header);
const char *auth_role_name(enum auth_role role);

#endif
