/*
 * Silences: matchers on an alert's fields with an end time. A silenced
 * alert state is recorded but not sent. The registry is saved as JSON
 * (state.dir/silences.json) after every change made through the API.
 */
#ifndef STABILD_SILENCE_H
#define STABILD_SILENCE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct alert;

#define SILENCE_ID_SIZE		19	/* "s-" + 16 hex + NUL */
#define SILENCE_MAX		1000	/* silences in the registry */
#define SILENCE_COMMENT_MAX	1000	/* characters */
#define SILENCE_NAME_MAX	200	/* created_by, in characters */
#define SILENCE_VALUE_MAX	71	/* a matcher value, in bytes */
#define SILENCE_ALERT_ID_MAX	127	/* an alert_id matcher, in bytes */
#define SILENCE_KEEP_S		(7 * 86400)	/* expired ones kept at load */

/* The fields a matcher can name, in this order in the JSON. */
enum silence_key {
	SILENCE_OFFICE,
	SILENCE_BENEFIT,
	SILENCE_KIND,
	SILENCE_SCOPE,		/* "office" or "national" */
	SILENCE_DIRECTION,	/* "up" or "down" */
	SILENCE_CLASSIFICATION,	/* "explained" or "unexplained" */
	SILENCE_ALERT_ID,	/* one alert */
	SILENCE_INDICATOR,	/* "rejection", "reconsideration" */
	SILENCE_NKEYS
};

struct silence {
	char	 id[SILENCE_ID_SIZE];
	char	*match[SILENCE_NKEYS];	/* NULL: any value */
	int64_t	 ends_at;		/* Unix s; matches while now < ends_at */
	int64_t	 created_at;		/* Unix s */
	char	*comment;
	char	*created_by;		/* NULL when not given */
};

struct silence_registry;

struct silence_registry *silence_create(void);
void silence_free(struct silence_registry *reg);
void silence_entry_free(struct silence *s);

/*
 * A silence from a POST body: matchers (at least one, known keys only),
 * ends_at (RFC 3339, after now), comment, created_by. The id is assigned
 * when it is added. -1 with *cause (for the client).
 */
int silence_from_json(const json_t *o, int64_t now, struct silence **out,
    char **cause) __attribute__((warn_unused_result));
/* The stored object with "active" as of now; a new reference. */
json_t *silence_to_json(const struct silence *s, int64_t now);

/*
 * Read path (a missing file is an empty registry), dropping silences that
 * ended more than SILENCE_KEEP_S before now. -1 with *cause.
 */
int silence_load(struct silence_registry *reg, const char *path, int64_t now,
    char **cause) __attribute__((warn_unused_result));
/*
 * Give s an id, add it and save the registry to path (NULL: not saved).
 * The registry takes s; on failure it is freed, the registry is as it
 * was, and -1 comes with *cause. The added entry is borrowed until it is
 * removed.
 */
const struct silence *silence_add_saved(struct silence_registry *reg,
    struct silence *s, const char *path, char **cause);
/* Remove id and save; -1 with *cause (and nothing removed). */
int silence_remove_saved(struct silence_registry *reg, const char *id,
    const char *path, char **cause) __attribute__((warn_unused_result));

/*
 * HA: the registry is shared through Redis (ha_registry.c); silence_load
 * then reads nothing, the file being only a mirror.
 */
void silence_set_shared(struct silence_registry *reg, bool shared);
/* The registry as the file holds it, to path; -1 with *cause. */
int silence_save(const struct silence_registry *reg, const char *path,
    char **cause) __attribute__((warn_unused_result));
/* A new random id not in the registry, into id (SILENCE_ID_SIZE). */
void silence_new_id(struct silence_registry *reg, char *id);
/* A stored silence (id and created_at too, no "active"); -1 with *cause. */
int silence_from_stored_json(const json_t *o, struct silence **out,
    char **cause) __attribute__((warn_unused_result));
/* The stored form of s (without "active"); a new reference. */
json_t *silence_to_stored_json(const struct silence *s);
/*
 * HA: add s (taken over) with its own id, replacing one of the same id;
 * when full, those ended over SILENCE_KEEP_S before now go first. -1 with
 * *cause (s freed) when it stays full.
 */
int silence_put(struct silence_registry *reg, struct silence *s, int64_t now,
    char **cause) __attribute__((warn_unused_result));

int silence_count(const struct silence_registry *reg);
const struct silence *silence_at(const struct silence_registry *reg, int i);
const struct silence *silence_find(const struct silence_registry *reg,
    const char *id);
/* The first silence that matches a as of now, or NULL. */
const struct silence *silence_match(const struct silence_registry *reg,
    const struct alert *a, int64_t now);
/* {"silences": [...]} as of now; a new reference. */
json_t *silence_list_json(const struct silence_registry *reg, int64_t now);

#endif
