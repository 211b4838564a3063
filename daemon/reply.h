/*
 * Redis reply objects from an arena: the same struct redisReply that
 * hiredis builds, but carved out of one reused block instead of one
 * malloc per element. A stream batch is thousands of elements; this
 * halves the cost of reading it. Each connection has its arena.
 */
#ifndef STABILD_REPLY_H
#define STABILD_REPLY_H

#include <stddef.h>

struct redisReplyObjectFunctions;
struct reply_arena;

/*
 * Functions for redisReader.fn. hiredis frees a reply (with freeObject)
 * after its callback returns and before it builds the next one; that
 * resets the arena, so no reply may be kept past its callback.
 */
struct redisReplyObjectFunctions *reply_functions(void);
/*
 * Called from a reply's callback: keep that reply past it, with the
 * memory it lives in, until reply_arena_free. No copy.
 */
struct reply_arena *reply_keep(void);
void reply_arena_free(struct reply_arena *);
/* Bytes the arena holds now. */
size_t reply_memory(void);
/* Give the memory back (at exit). */
void reply_release(void);
/*
 * An arena of its own for a connection, as its reader's privdata: two
 * links may each have a reply half read. Free it after the reader and
 * the replies kept from it.
 */
struct reply_reader;
struct reply_reader *reply_reader_new(void);
void reply_reader_free(struct reply_reader *);

#endif
