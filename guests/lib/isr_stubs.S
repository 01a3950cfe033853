/*
 * Interrupt entry for the 64-bit guests: 256 entry stubs, one every 16 bytes so the IDT can
 * point vector v at isr_stubs + 16 * v. Vectors without a CPU error code push a 0, so every
 * frame has the same layout (struct frame in isr.h); then the registers are saved and the
 * guest's own isr_dispatch(struct frame *) is called.
 */
    .text
    .balign 16
    .global isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

/* The CPU aligned RSP to 16 before pushing its 5-qword frame; with the error code,
 * vector and 15 registers that is 22 qwords, so RSP is 16-aligned again at the call. */
isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld                         /* the C ABI wants DF = 0; the interrupted code may not */
    call isr_dispatch
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp               /* vector and error code */
    iretq

    .section .note.GNU-stack, "", @progbits
