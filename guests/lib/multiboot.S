/*
 * Multiboot v1 header, shared by all guests. It must lie in the first 8 KiB of the file,
 * 4-byte aligned; the linker script puts section .multiboot first in the image.
 *
 * Built in two flavours (Makefile passes -DMB_AOUT_KLUDGE=0/1):
 *  - 1: flags bit 16 ("a.out kludge"). The loader ignores the file format and copies
 *       [load_addr, load_end_addr) from the file offset that puts this header at
 *       header_addr, zeroes up to bss_end_addr and jumps to entry_addr. Used by hello and
 *       compute. The linker script keeps the loaded bytes contiguous in the file.
 *  - 0: no address fields; the loader must load the ELF32 program headers. Used by
 *       cpu-selftest.
 * Either way the entry is _start32, reached in 32-bit protected mode with
 * EAX = 0x2BADB002 and EBX = Multiboot info.
 */
#define MB_MAGIC 0x1BADB002
#if MB_AOUT_KLUDGE
#define MB_FLAGS 0x00010000
#else
#define MB_FLAGS 0x00000000
#endif

    .section .multiboot, "a"
    .balign 4
    .global multiboot_header
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
#if MB_AOUT_KLUDGE
    .long multiboot_header /* header_addr */
    .long __image_start    /* load_addr: first byte loaded from the file */
    .long __load_end       /* load_end_addr: end of initialised data */
    .long __image_end      /* bss_end_addr: end of everything, zeroed by the loader */
    .long _start32         /* entry_addr */
#endif

    .section .note.GNU-stack, "", @progbits
