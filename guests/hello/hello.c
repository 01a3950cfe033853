/*
 * hello: the smallest useful guest. 32-bit protected mode C, booted through the Multiboot
 * a.out kludge. It checks the loader's magic silently (so the output stays identical on
 * every hypervisor), prints one line and exits with value 0.
 */
#include "exit.h"
#include "fmt.h"
#include "serial.h"

#define MULTIBOOT_LOADER_MAGIC 0x2BADB002u

int guest_main(u32 magic, u32 info)
{
    (void)info;
    if (magic != MULTIBOOT_LOADER_MAGIC)
        return EXIT_FAILURE_VALUE;
    serial_init();
    kputs("Hello from an Actors guest!\n");
    return EXIT_SUCCESS_VALUE;
}
