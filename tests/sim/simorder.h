/*
 * Arrival order must not matter (design notes, 8a): the same history in
 * time order, shuffled and office by office through ingest and the
 * detector, compared.
 */
#ifndef STABILD_SIMORDER_H
#define STABILD_SIMORDER_H

#include <stdint.h>

/*
 * Run weeks of per_week decisions from seed in each order and compare
 * with time order the weekly statistics of every series, the models and
 * the alerts. Prints a line per order; returns the failed comparisons.
 */
int simorder_check(uint64_t seed, int weeks, double per_week);

#endif
