/*
 * An oracle CUSUM for one simulated series: it knows each decision's true
 * in-control probability, so its delay is what a detector could reach at
 * best. Fed decision by decision, it keeps each week's truth; its
 * threshold comes from a seeded simulation of its own null. No I/O.
 */
#ifndef STABILD_ORACLE_H
#define STABILD_ORACLE_H

#include <stdint.h>

struct oracle;

/*
 * delta: the design log odds ratio, signed by the direction watched;
 * tau2: the true weekly log-odds variance; weeks: simulation weeks kept.
 */
struct oracle *oracle_create(double delta, double tau2, int weeks);
void oracle_free(struct oracle *o);
/* One decision on the merits in simulation week `week`. */
void oracle_add(struct oracle *o, int week, int rejected, double p0);
/* Mean weekly information, sum of p0(1 - p0), over weeks [from, to). */
double oracle_info(const struct oracle *o, int from, int to);
/*
 * Set and return the threshold that gives an in-control run length of
 * arl0 weeks, the in-control weeks drawn from [from, to).
 */
double oracle_calibrate(struct oracle *o, int from, int to, double arl0,
    uint64_t seed);
/*
 * The in-control run length at the threshold set by oracle_calibrate, on
 * a fresh null stream from another seed: the calibration's own check.
 */
double oracle_null_arl(const struct oracle *o, int from, int to,
    double arl0, uint64_t seed);
/*
 * Weeks from `start` to the first alarm of the CUSUM started at zero
 * there and run through week to - 1 (1 when the first week alarms), or
 * -1 without an alarm.
 */
int oracle_delay(const struct oracle *o, int start, int to);

#endif
