/*
 * SYSCALL entry and the ring-3 transitions for cpu-selftest (interrupt entry is lib/isr_stubs.S).
 */
#define SEL_KDATA 0x10
#define SEL_UDATA 0x20
#define SEL_UCODE 0x28

    .text

/*
 * SYSCALL lands here at CPL 0 but still on the user stack (SYSCALL switches no stack),
 * so move to a kernel stack before calling C. RCX = user RIP and R11 = user RFLAGS must
 * survive for SYSRETQ. Called C: u64 syscall_dispatch(arg = RDI, nr = RAX, rip, rsp).
 */
    .global syscall_entry
syscall_entry:
    mov %rsp, syscall_user_rsp(%rip)
    lea syscall_stack+4096(%rip), %rsp
    push %rcx
    push %r11
    mov %rax, %rsi
    mov %rcx, %rdx
    mov syscall_user_rsp(%rip), %rcx
    call syscall_dispatch
    pop %r11
    pop %rcx
    mov syscall_user_rsp(%rip), %rsp
    sysretq

/*
 * u64 enter_user(u64 rip, u64 rsp, u64 arg0, u64 arg1)
 * Saves the kernel's callee-saved state, then IRETQs to CPL 3 at rip with the given
 * stack and RDI = arg0, RSI = arg1, IF = 0. The ring-3 code comes back through the
 * VEC_USER_EXIT gate, whose handler calls return_to_kernel(value): that value is what
 * enter_user returns.
 */
    .global enter_user
enter_user:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, kernel_saved_rsp(%rip)
    pushq $(SEL_UDATA | 3)      /* SS */
    push %rsi                   /* RSP */
    pushq $0x2                  /* RFLAGS: only the reserved bit; IF = 0, IOPL = 0 */
    pushq $(SEL_UCODE | 3)      /* CS */
    push %rdi                   /* RIP */
    mov %rdx, %rdi
    mov %rcx, %rsi
    xor %eax, %eax              /* do not hand kernel values to ring 3 */
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    iretq

/* NORETURN void return_to_kernel(u64 value): abandon the interrupt frame on the RSP0
 * stack and resume enter_user's caller. The gate loaded CS; entering CPL 0 from CPL 3
 * left SS null, so reload SS (and DS/ES, which ring 3 may have changed). */
    .global return_to_kernel
return_to_kernel:
    mov %rdi, %rax
    mov kernel_saved_rsp(%rip), %rsp
    mov $SEL_KDATA, %ecx
    mov %ecx, %ss
    mov %ecx, %ds
    mov %ecx, %es
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret

    .bss
    .balign 8
syscall_user_rsp:
    .quad 0
kernel_saved_rsp:
    .quad 0

    .section .note.GNU-stack, "", @progbits
