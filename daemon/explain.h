/*
 * The registry of legitimate explanations (contract §2): entries from the
 * config file and from the API, their JSON form, the state file that keeps
 * the API's entries across restarts, and the pure matching rules of
 * detection.md §7 that say whether an explanation covers a change.
 */
#ifndef STABILD_EXPLAIN_H
#define STABILD_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct conf;
struct conf_explanation;
struct explain_registry;

#define EXPLAIN_ID_MAX		64	/* characters of an id */
#define EXPLAIN_OFFICE_MAX	32	/* characters of an office name */
#define EXPLAIN_TEXT_MAX	1000	/* characters of a text */
#define EXPLAIN_MAX		10000	/* entries in one registry */
#define EXPLAIN_NATIONAL	"national"	/* office name of the nation */
#define EXPLAIN_STATE_FILE	"explanations.json"	/* in state.dir */

enum explain_kind {
	EXPLAIN_LEGISLATION,	/* a new or changed law */
	EXPLAIN_LEGAL_POSITION,	/* the agency's own legal position */
	EXPLAIN_COURT_RULING,	/* a precedent of a court */
	EXPLAIN_CASE_MIX,	/* who applies changed, not how they fare */
	EXPLAIN_DATA_CORRECTION, /* the data were wrong, then corrected */
	EXPLAIN_CONTEXT,	/* shown beside alerts, explains nothing */
};

/*
 * One explanation. A registry owns the entries added to it; const pointers
 * it hands out stay valid until that entry is removed or replaced.
 */
struct explanation {
	char		 id[EXPLAIN_ID_MAX + 1];
	enum explain_kind kind;
	int32_t		 from_day;	/* local day numbers of period.h */
	int32_t		 to_day;	/* INT32_MAX when open */
	/* The scope: an empty benefits, kinds or offices matches all. */
	uint32_t	 benefits;	/* bit i: configured benefit i */
	uint8_t		 kinds;
#define EXPLAIN_KIND_FIRST	0x1	/* bit 1 << DECISION_FIRST */
#define EXPLAIN_KIND_ONGOING	0x2	/* bit 1 << DECISION_ONGOING */
	char		**offices;	/* empty: all, and the nation */
	int		 noffices;
	char		*reference;	/* NULL when not given */
	char		*description;	/* NULL when not given */
	int64_t		 created_at;	/* Unix seconds it was registered */
	bool		 from_config;	/* else registered through the API */
	/* Indicator names; empty: all. */
	char		**indicators;
	int		 nindicators;
};

/* "legislation" ... "context", and back (-1 when unknown). */
const char *explain_kind_name(enum explain_kind kind);
int explain_kind_parse(const char *name);

/* Free one explanation that no registry holds; NULL does nothing. */
void explain_entry_free(struct explanation *e);

struct explain_registry *explain_create(void);
void explain_free(struct explain_registry *reg);
/*
 * Add e, which the registry takes over (and frees at once on failure).
 * -1 with *cause when the id is taken or the registry is full. A
 * created_at of 0 becomes the current time.
 */
int explain_add(struct explain_registry *reg, struct explanation *e,
    char **cause) __attribute__((warn_unused_result));
/* Remove and free the entry id; -1 when there is none. */
int explain_remove(struct explain_registry *reg, const char *id);
/* Remove every entry that came from the config file. */
void explain_remove_config(struct explain_registry *reg);
const struct explanation *explain_find(const struct explain_registry *reg,
    const char *id);
/* Entries in order of effective_from, then id: explain_at(0 .. count-1). */
int explain_count(const struct explain_registry *reg);
const struct explanation *explain_at(const struct explain_registry *reg,
    int i);
/* Moves on with every change, so that users can tell when to look again. */
uint64_t explain_generation(const struct explain_registry *reg);

/*
 * Validate a contract §2 object (the API's POST body) into *out, which
 * the caller owns. benefits are the configured names, in order. -1 with
 * *cause naming the member and the rule it breaks.
 */
int explain_from_json(const json_t *o, const char *const *benefits,
    int nbenefits, struct explanation **out, char **cause)
    __attribute__((warn_unused_result));
/*
 * The contract §2 object with "source" ("config" or "api") and
 * "created_at" (RFC 3339, UTC) added; a new reference, NULL on failure.
 */
json_t *explain_to_json(const struct explanation *e,
    const char *const *benefits);
/* An [explanation "ID"] section (checked by conf_load) into *out. */
int explain_from_conf(const struct conf_explanation *ce, const struct conf *c,
    struct explanation **out, char **cause)
    __attribute__((warn_unused_result));
/*
 * Replace the config entries by those of c, keeping created_at of ids
 * that stay. All or nothing: -1 with *cause, changing nothing, when an
 * entry is invalid or its id is registered through the API.
 */
int explain_set_config(struct explain_registry *reg, const struct conf *c,
    char **cause) __attribute__((warn_unused_result));

/*
 * Write the API's entries to path as a JSON array, atomically (a
 * temporary file, fsync, rename, fsync of the directory).
 */
int explain_save(const struct explain_registry *reg, const char *path,
    const char *const *benefits, char **cause)
    __attribute__((warn_unused_result));
/*
 * Add the entries saved in path. A missing file adds nothing; a damaged
 * one is an error, and then nothing is added.
 */
int explain_load(struct explain_registry *reg, const char *path,
    const char *const *benefits, int nbenefits, char **cause)
    __attribute__((warn_unused_result));
/*
 * The API's changes: save the registry as it will be, to path (NULL: no
 * saving), and only then change it. On failure the registry is unchanged;
 * explain_add_saved frees e then too.
 */
int explain_add_saved(struct explain_registry *reg, struct explanation *e,
    const char *path, const char *const *benefits, char **cause)
    __attribute__((warn_unused_result));
int explain_remove_saved(struct explain_registry *reg, const char *id,
    const char *path, const char *const *benefits, char **cause)
    __attribute__((warn_unused_result));
/*
 * At startup: load state_dir/EXPLAIN_STATE_FILE (not in HA mode), then
 * the config's entries. -1 with *cause when the file is damaged or an id is in both.
 */
int explain_setup(struct explain_registry *reg, const struct conf *c,
    const char *state_dir, char **cause) __attribute__((warn_unused_result));
/*
 * One entry as the state file holds it (contract §2 with "source": "api"
 * and "created_at") into *out, which the caller owns; -1 with *cause.
 */
int explain_from_stored_json(const json_t *item, const char *const *benefits,
    int nbenefits, struct explanation **out, char **cause)
    __attribute__((warn_unused_result));
/*
 * HA: add e (taken over) as an API entry, replacing one of the same id and
 * keeping e's created_at. -1 with *cause (e freed) when the config defines
 * the id or the registry is full.
 */
int explain_put(struct explain_registry *reg, struct explanation *e,
    char **cause) __attribute__((warn_unused_result));
/*
 * HA (set by explain_setup from ha.enabled): the API's entries are kept
 * in Redis. explain_setup loads no state file then, and
 * explain_set_config drops an API entry whose id the config now defines
 * instead of failing (the shared registry keeps it, shadowed).
 */
void explain_set_shared(struct explain_registry *reg, bool shared);
/* The state file explain_setup used, NULL before; borrowed from reg. */
const char *explain_path(const struct explain_registry *reg);

/*
 * Matching (detection.md §7), pure. indicator is the series' indicator
 * name, NULL for rejection; office is the series' office,
 * EXPLAIN_NATIONAL for a national series; benefit is the configured index
 * and kind the enum decision_kind. Empty lists match everything, but an
 * explanation naming offices never matches a national series.
 */
bool explain_scope_matches(const struct explanation *e,
    const char *indicator, const char *office, int benefit, int kind);
/*
 * Whether e explains a change with this onset: not context, the scope
 * matches, and effective_from - before_days <= onset_day <=
 * effective_from + after_days.
 */
bool explain_covers(const struct explanation *e, const char *indicator,
    const char *office, int benefit, int kind, int32_t onset_day,
    int before_days, int after_days);
/*
 * The entries covering the change, up to max of them in covering[], and
 * the context entries of the same scope and window, up to maxctx in
 * context[] and all of them counted in *ncontext. Returns how many cover
 * it (0: unexplained). Pointers are borrowed from reg.
 */
int explain_match(const struct explain_registry *reg, const char *indicator,
    const char *office, int benefit, int kind, int32_t onset_day,
    int before_days, int after_days,
    const struct explanation **covering, int max,
    const struct explanation **context, int maxctx, int *ncontext);

#endif
