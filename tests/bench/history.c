/*
 * Memory and checkpoint size for a ten-year national-size history: every
 * series of 58 offices x 4 benefits x 2 kinds filled for every week and
 * month of the retention, for each of N indicators (bench-history [PATH
 * [N]], 1 by default), and a full duplicate window. Prints figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "checkpoint.h"
#include "dedup.h"
#include "series.h"

static long
peak_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int
main(int argc, char **argv)
{
	int offices = 58, benefits = 4, years = 10, o, b, k, w, ind, nind;
	int weeks, months;
	size_t window = 1000000, i;
	struct series_set *set;
	struct dedup *dd;
	struct checkpoint cp;
	struct timespec t0, t1;
	char name[16], id[32], *cause = NULL;
	const char *path = argc > 1 ? argv[1] : "bench-history.checkpoint";
	long rss_before = peak_rss_kib();
	FILE *f;
	long size;

	nind = argc > 2 ? atoi(argv[2]) : 1;
	if (nind < 1 || nind > 16) {
		fprintf(stderr, "usage: bench-history [path [indicators 1-16]]\n");
		return 1;
	}
	weeks = years * 53 + 1;
	months = years * 13 + 2;
	set = series_set_create_n(nind, 128, benefits, weeks, months);
	dd = dedup_create(window);
	for (o = 0; o < offices; o++) {
		snprintf(name, sizeof name, "K%03d", o + 1);
		series_office_index(set, name, true);
	}
	/* One decision per series-week is enough to allocate every bucket. */
	for (w = 2000; w < 2000 + weeks - 1; w++) {
		for (ind = 0; ind < nind; ind++)
			for (o = 0; o < offices; o++)
				for (b = 0; b < benefits; b++)
					for (k = 0; k < 2; k++)
						series_add_in(set, ind, o, b,
						    k, w, (int32_t)(w * 12 /
						    52), w % 2, 0.1);
	}
	for (i = 0; i < window; i++) {
		int n = snprintf(id, sizeof id, "d%zu", i);

		dedup_check_add(dd, id, (size_t)n);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	checkpoint_init(&cp);
	series_set_save(set, checkpoint_add(&cp, CP_TAG('S', 'E', 'R', 'I')));
	dedup_save(dd, checkpoint_add(&cp, CP_TAG('D', 'E', 'D', 'U')));
	if (checkpoint_write(&cp, path, &cause) == -1) {
		fprintf(stderr, "%s\n", cause);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	remove(path);
	printf("history: %d indicators, %d series, %d weeks, %d months, "
	    "dedup window %zu\n", nind, series_count(set), weeks, months,
	    window);
	printf("history: statistics %.1f MiB, dedup %.1f MiB, peak RSS %.1f MiB "
	    "(process start %.1f MiB)\n",
	    series_set_memory(set) / 1048576.0, dedup_memory(dd) / 1048576.0,
	    peak_rss_kib() / 1024.0, rss_before / 1024.0);
	printf("history: checkpoint %.1f MiB written in %.0f ms\n",
	    size / 1048576.0, (t1.tv_sec - t0.tv_sec) * 1e3 +
	    (t1.tv_nsec - t0.tv_nsec) / 1e6);
	checkpoint_free(&cp);
	series_set_free(set);
	dedup_free(dd);
	return 0;
}
