/*
 * migrate-verify's Multiboot entry (the ELF e_entry): remember EBX, the Multiboot info
 * address, then run the common long-mode start-up in lib/start64.S. The variable is in
 * .data because _start64 clears .bss, and the copy is taken before _start32 runs because
 * nothing guarantees the upper half of RBX (or EBX itself) survives the switch.
 */
    .section .text.boot, "ax"
    .code32
    .global mv_start32
mv_start32:
    mov %ebx, mb_info_addr
    mov %eax, mb_magic
    jmp _start32

    .section .data
    .balign 4
    .global mb_info_addr, mb_magic
mb_info_addr:
    .long 0
mb_magic:
    .long 0

    .section .note.GNU-stack, "", @progbits
