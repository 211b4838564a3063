/*
 * The detector used before a case-mix model exists: it expects nothing,
 * so every series is "learning" and no alarm can fire.
 */
#include <stddef.h>

#include "detector.h"

static const struct detector detector_none_ops = {
	.name = "none",
};

const struct detector *
detector_none(void)
{
	return &detector_none_ops;
}

const char *
detector_state_of(const struct detector *d, const struct series *s)
{
	if (d == NULL || d->state_of == NULL)
		return "learning";
	return d->state_of(d->arg, s);
}
