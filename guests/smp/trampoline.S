/*
 * AP start-up trampoline. main.c copies [ap_tramp_start, ap_tramp_end) to TRAMP_BASE
 * (0x8000, below 1 MiB and page-aligned: the SIPI vector is TRAMP_BASE >> 12); an AP
 * starts there in real mode at CS:IP = 0x0800:0000. It loads the image's GDT, enters
 * protected mode, enables PAE/long mode on the BSP's page tables and jumps to
 * ap_entry64 in the image, which picks a per-CPU stack by LAPIC ID and calls ap_main.
 */
#define TRAMP_BASE 0x8000
#define KERNEL_CS32 0x40
#define KERNEL_CS64 0x08
#define KERNEL_DS 0x10
#define AP_STACK_SHIFT 14

    .section .rodata
    .balign 16
    .global ap_tramp_start, ap_tramp_end
    .code16
ap_tramp_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    lgdtl tramp_gdtr - ap_tramp_start
    mov %cr0, %eax
    or $1, %eax                             /* PE */
    mov %eax, %cr0
    ljmpl $KERNEL_CS32, $(TRAMP_BASE + tramp32 - ap_tramp_start)

    .code32
tramp32:
    mov $KERNEL_DS, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $((1 << 5) | (1 << 9) | (1 << 10)), %eax /* PAE, OSFXSR, OSXMMEXCPT */
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx                   /* EFER: SCE, LME, NXE */
    mov $((1 << 0) | (1 << 8) | (1 << 11)), %eax
    xor %edx, %edx
    wrmsr
    mov $0x80010033, %eax                   /* PG WP NE ET MP PE */
    mov %eax, %cr0
    ljmp $KERNEL_CS64, $ap_entry64

    .balign 8
tramp_gdtr:
    .word 0x47                              /* gdt64 in lib/start64.S: 9 descriptors */
    .long gdt64
ap_tramp_end:

    .text
    .code64
    .global ap_entry64
ap_entry64:
    mov $KERNEL_DS, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov $0xFEE00020, %edx                   /* LAPIC ID register (zero-extended) */
    mov (%rdx), %edi
    shr $24, %edi
    cmp $16, %edi                           /* MAX_CPUS */
    jae 2f
    lea 1(%rdi), %rax
    shl $AP_STACK_SHIFT, %rax
    lea ap_stacks(%rip), %rsp
    add %rax, %rsp
    call ap_main                            /* void ap_main(u32 apic_id), returns to park */
2:  cli
    hlt
    jmp 2b

    .bss
    .balign 16
    .global ap_stacks
ap_stacks:
    .skip 16 << AP_STACK_SHIFT

    .section .note.GNU-stack, "", @progbits
