/*
 * Entry code for the 64-bit guests (cpu-selftest, compute).
 *
 * _start32: the Multiboot entry, in 32-bit protected mode with paging off and no usable
 *   GDT, IDT or stack. It loads our GDT, identity-maps the first 1 GiB with 2 MiB pages,
 *   turns on PAE, EFER.LME/NXE/SCE and paging, far-jumps into 64-bit code and continues
 *   at _start64, so both ways in run the same 64-bit startup.
 *
 * _start64: the ELF64 e_entry for loaders that enter long mode themselves (the .NET side
 *   for compute). Expects paging on with low memory identity-mapped and interrupts off; it
 *   assumes nothing about the stack and does not touch segment registers, so it works with
 *   whatever flat CS/DS the loader set up.
 *
 * Assumes the CPU supports long mode and NX (every x86-64 CPU we target does).
 */
#define KERNEL_CS32 0x40
#define KERNEL_CS64 0x08
#define KERNEL_DS 0x10

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_TS (1 << 3)
#define CR0_ET (1 << 4)
#define CR0_NE (1 << 5)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xC0000080
#define EFER_SCE (1 << 0)
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80

    .section .text.boot, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    cmp $0x2BADB002, %eax       /* not started by a Multiboot loader: fail at once */
    jne bad_magic

    lgdt gdt64_ptr              /* 32-bit form: uses the low 4 bytes of the base */
    ljmp $KERNEL_CS32, $1f      /* reload CS from our GDT before touching paging */
1:  mov $KERNEL_DS, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs

    /* Page tables live in .pagetables, outside .bss, so _start64's bss clear leaves the
     * live tables alone. Zero them here: nothing else does on this path. */
    mov $boot_pml4, %edi
    mov $(3 * 4096 / 4), %ecx
    xor %eax, %eax
    rep stosl
    movl $(boot_pdpt + PTE_P + PTE_W), boot_pml4
    movl $(boot_pd + PTE_P + PTE_W), boot_pdpt
    xor %ecx, %ecx
2:  mov %ecx, %eax              /* PD[i] = i * 2 MiB, present, writable, 2 MiB page */
    shl $21, %eax
    or $(PTE_P + PTE_W + PTE_PS), %eax
    mov %eax, boot_pd(, %ecx, 8)
    inc %ecx
    cmp $512, %ecx
    jne 2b

    mov $(CR4_PAE + CR4_OSFXSR + CR4_OSXMMEXCPT), %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    mov $(EFER_SCE + EFER_LME + EFER_NXE), %eax
    xor %edx, %edx
    wrmsr
    /* A fixed CR0 rather than read-modify-write: loaders leave different CD/NW/EM/TS
     * bits, and WP must be on for the selftest's write-protection test. */
    mov $(CR0_PE + CR0_MP + CR0_ET + CR0_NE + CR0_WP + CR0_PG), %eax
    mov %eax, %cr0              /* now in compatibility mode (EFER.LMA = 1) */
    ljmp $KERNEL_CS64, $long_mode

bad_magic:
    mov $1, %eax
    mov $0xF4, %dx
    outl %eax, %dx
3:  hlt
    jmp 3b

    .code64
long_mode:
    mov $KERNEL_DS, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    jmp _start64

    .global _start64
    .type _start64, @function
_start64:
    cli
    cld
    lea boot_stack_top(%rip), %rsp
    /* Let SSE instructions run whatever the loader left: CR0.EM/TS clear, MP set,
     * CR4.OSFXSR/OSXMMEXCPT set (gcc emits SSE2 in compute). */
    mov %cr0, %rax
    and $~(CR0_EM + CR0_TS), %rax
    or $CR0_MP, %rax
    mov %rax, %cr0
    mov %cr4, %rax
    or $(CR4_OSFXSR + CR4_OSXMMEXCPT), %rax
    mov %rax, %cr4

    lea __bss_start(%rip), %rdi /* the stack is in .bss but holds nothing yet */
    lea __bss_end(%rip), %rcx
    sub %rdi, %rcx
    xor %eax, %eax
    rep stosb

    call guest_main             /* int guest_main(void) */
    mov %eax, %edi
    call guest_exit
    .size _start64, . - _start64

/* GDT shared by both 64-bit guests. Its layout follows the SYSCALL/SYSRET rules:
 * STAR[47:32] = 0x08 gives kernel CS 0x08 / SS 0x10, STAR[63:48] = 0x18 gives user
 * SS 0x20|3 and 64-bit user CS 0x28|3. The TSS slot is filled in at run time by
 * cpu-selftest (the descriptor splits its base across fields). Writable, so in .data. */
    .section .data
    .balign 16
    .global gdt64
gdt64:
    .quad 0                     /* 0x00 null */
    .quad 0x00AF9A000000FFFF    /* 0x08 kernel code, 64-bit */
    .quad 0x00CF92000000FFFF    /* 0x10 kernel data */
    .quad 0x00CFFA000000FFFF    /* 0x18 user code, 32-bit (SYSRET base; unused) */
    .quad 0x00CFF2000000FFFF    /* 0x20 user data */
    .quad 0x00AFFA000000FFFF    /* 0x28 user code, 64-bit */
    .quad 0, 0                  /* 0x30 TSS (16 bytes) */
    .quad 0x00CF9A000000FFFF    /* 0x40 kernel code, 32-bit (boot stub only) */
gdt64_end:
    .balign 8
    .global gdt64_ptr
gdt64_ptr:
    .word gdt64_end - gdt64 - 1
    .quad gdt64

    .section .pagetables, "aw", @nobits
    .balign 4096
    .global boot_pml4, boot_pdpt, boot_pd
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4096

    .section .bss
    .balign 16
    .global boot_stack, boot_stack_top
boot_stack:
    .skip 16384
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
