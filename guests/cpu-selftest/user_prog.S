/*
 * The ring-3 program. It lives in .user_text/.user_data, the only pages mapped with the
 * U/S bit, and touches nothing else except to provoke faults on purpose.
 *
 * Entry: RDI = &user_results (user page), RSI = a supervisor-only address.
 * Fault convention: before an instruction that must fault, R15 holds the address to
 * resume at; the kernel logs the fault and continues there (isr_dispatch). A result slot
 * written only after the faulting instruction stays 0 if the instruction was skipped.
 *
 * user_results[]:
 *   0,1  CS, SS on entry          2  SYSCALL return value     3  RCX after SYSRET
 *   4,5  CS, SS after SYSRET      6  INT 0x80 return value
 *   7    set if the supervisor read did not fault
 *   8    set if INT 0x82 (DPL 0 gate) did not fault
 *   9    set if OUT did not fault  10 set if CLI did not fault
 */
#define VEC_SYSCALL 0x80
#define VEC_USER_EXIT 0x81
#define VEC_IST_TEST 0x82

/* Both sections start and end on a page boundary (the linker script relies on it). */
    .section .user_text, "ax"
    .balign 4096
    .global user_main
user_main:
    mov %rdi, %rbx              /* results: RBX and R12 survive SYSCALL and interrupts */
    mov %rsi, %r12
    mov %cs, %eax
    mov %rax, 0(%rbx)
    mov %ss, %eax
    mov %rax, 8(%rbx)

    mov $1, %eax                /* SYSCALL nr 1, argument 20: kernel returns 2*arg+nr */
    mov $20, %edi
    syscall
    .global user_after_syscall
user_after_syscall:
    mov %rax, 16(%rbx)
    mov %rcx, 24(%rbx)
    mov %cs, %eax
    mov %rax, 32(%rbx)
    mov %ss, %eax
    mov %rax, 40(%rbx)

    mov $41, %eax               /* INT 0x80 from CPL 3: handler returns RAX + 1 */
    int $VEC_SYSCALL
    mov %rax, 48(%rbx)

    lea 1f(%rip), %r15
    .global user_pf_insn
user_pf_insn:
    mov (%r12), %rax            /* supervisor page: #PF with U/S set */
    movq $1, 56(%rbx)
1:
    lea 2f(%rip), %r15
    .global user_int_insn
user_int_insn:
    int $VEC_IST_TEST           /* gate DPL 0 < CPL 3: #GP(vector * 8 + 2) */
    movq $1, 64(%rbx)
2:
    lea 3f(%rip), %r15
    .global user_out_insn
user_out_insn:
    out %al, $0x80              /* CPL 3 > IOPL 0 and no I/O bitmap: #GP(0) */
    movq $1, 72(%rbx)
3:
    lea 4f(%rip), %r15
    .global user_cli_insn
user_cli_insn:
    cli                         /* CPL 3 > IOPL 0: #GP(0) */
    movq $1, 80(%rbx)
4:
    xor %r15d, %r15d
    mov $0x5A5A, %edi
    int $VEC_USER_EXIT          /* back to ring 0; never returns here */
    ud2
    .balign 4096

    .section .user_data, "aw"
    .balign 4096
    .global user_results
user_results:
    .fill 16, 8, 0
    .balign 16
    .global user_stack, user_stack_top
user_stack:
    .fill 4096, 1, 0
user_stack_top:
    .balign 4096

    .section .note.GNU-stack, "", @progbits
