/*
 * The loop thread's scheduler slice (slice.h), by sched_setattr(2):
 * glibc has no wrapper before 2.41 and its headers clash with the
 * kernel's, so the attribute block is declared here as the kernel
 * defines it (SCHED_ATTR_SIZE_VER1).
 */
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "slice.h"

struct slice_attr {
	uint32_t	size;
	uint32_t	sched_policy;
	uint64_t	sched_flags;
	int32_t		sched_nice;
	uint32_t	sched_priority;
	uint64_t	sched_runtime;		/* the slice, for SCHED_OTHER */
	uint64_t	sched_deadline;
	uint64_t	sched_period;
	uint32_t	sched_util_min;
	uint32_t	sched_util_max;
};

int
slice_request(uint64_t ns)
{
	struct slice_attr a;

	/* Everything else as it is: the policy, the nice value. */
	memset(&a, 0, sizeof a);
	if (syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) == -1)
		return -1;
	a.size = sizeof a;
	a.sched_flags = 0;
	a.sched_runtime = ns;
	return (int)syscall(SYS_sched_setattr, 0, &a, 0);
}
