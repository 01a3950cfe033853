#ifndef GUEST_EXIT_H
#define GUEST_EXIT_H

#include "types.h"

/* Exit values written to isa-debug-exit; QEMU's status is (value << 1) | 1. */
#define EXIT_SUCCESS_VALUE 0u /* status 1 */
#define EXIT_FAILURE_VALUE 1u /* status 3 */

/* Write `value` to the isa-debug-exit port (0xF4) and never return. */
NORETURN void guest_exit(u32 value);

#endif
