#ifndef COMPUTE_WORKLOAD_H
#define COMPUTE_WORKLOAD_H

/* Runs the fixed benchmark and prints its results with kprintf. Returns the exit value:
 * 0, or 1 if a built-in self-check failed. Plain C with no guest dependencies, so the same
 * file also builds as a Linux program (compute/host.c) for instruction counting. */
int compute_run(void);

#endif
