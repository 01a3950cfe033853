/* Linux wrapper around the compute workload: same code, output on stdout. Used to count
 * the workload's instructions (make count-compute) and to cross-check the guest output. */
#include <stdio.h>

#include "workload.h"

void console_putc(char c)
{
    putchar(c);
}

int main(void)
{
    int r = compute_run();
    fflush(stdout);
    return r;
}
