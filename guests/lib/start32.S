/*
 * Entry for 32-bit protected-mode C guests (hello). Multiboot gives us flat 4 GiB code and
 * data segments, paging off and interrupts off, but no stack, and the GDT it used may be
 * gone: we never reload a segment register, so the cached descriptors stay valid.
 */
    .section .text.boot, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    mov %eax, %esi              /* Multiboot magic, kept across the bss clear */
    mov %ebx, %ebp              /* Multiboot info pointer */

    /* Zero .bss (the stack lives there too, unused so far). A Multiboot loader already
     * zeroes it; doing it again keeps us correct under loaders that do not. */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb

    mov $boot_stack_top, %esp
    push %ebp
    push %esi
    call guest_main             /* int guest_main(u32 magic, u32 info) */
    push %eax
    call guest_exit             /* never returns */

    .section .bss
    .balign 16
boot_stack:
    .skip 16384
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
