#include "serial.h"
#include "workload.h"

/* Guest entry for compute: reached from _start64 either directly (ELF64 e_entry) or
 * through the Multiboot 32-bit stub; the workload does not care which. */
int guest_main(void)
{
    serial_init();
    return compute_run();
}
