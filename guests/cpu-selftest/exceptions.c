/*
 * Exception and software-interrupt tests at CPL 0. Each faulting instruction sits at a
 * local label "1:" whose address the test captures; "2:" follows it and is where the
 * handler resumes (fixup_rip), which is how "skip the instruction" is done without the
 * handler having to decode instruction lengths.
 */
#include "selftest.h"

/* Arms the kernel fixup: resume at local label 2 after the fault. Clobbers R11. */
#define ARM_FIXUP "leaq 2f(%%rip), %%r11\n\tmovq %%r11, fixup_rip(%%rip)\n\t"

void test_de(void)
{
    u64 at, rax;
    exc_log_reset();
    __asm__ volatile(ARM_FIXUP
                     "leaq 1f(%%rip), %[at]\n\t"
                     "xorl %%ecx, %%ecx\n\t"
                     "movl $1234, %%eax\n\t"
                     "xorl %%edx, %%edx\n\t"
                     "1: divl %%ecx\n\t"
                     "2:"
                     : [at] "=&r"(at), "=a"(rax)
                     :
                     : "rcx", "rdx", "r11", "memory");
    expect_exc_count(1);
    expect_exc(0, VEC_DE, 0, at);
    EXPECT_EQ("RAX after skipped div", rax, 1234);
}

void test_de_overflow(void)
{
    /* Quotient does not fit: RDX:RAX = 2^64 * 5, divisor 5 -> 2^64 > 64 bits. */
    u64 at;
    exc_log_reset();
    __asm__ volatile(ARM_FIXUP
                     "leaq 1f(%%rip), %[at]\n\t"
                     "movl $5, %%ecx\n\t"
                     "xorl %%eax, %%eax\n\t"
                     "movl $5, %%edx\n\t"
                     "1: divq %%rcx\n\t"
                     "2:"
                     : [at] "=&r"(at)
                     :
                     : "rax", "rcx", "rdx", "r11", "memory");
    expect_exc_count(1);
    expect_exc(0, VEC_DE, 0, at);
}

void test_ud(void)
{
    u64 at;
    exc_log_reset();
    __asm__ volatile(ARM_FIXUP
                     "leaq 1f(%%rip), %[at]\n\t"
                     "1: ud2\n\t"
                     "2:"
                     : [at] "=&r"(at)
                     :
                     : "r11", "memory");
    expect_exc_count(1);
    expect_exc(0, VEC_UD, 0, at);
}

void test_gp_selector(void)
{
    /* Selector 0x1230: GDT index 0x246, far beyond the GDT limit. Loading it into DS
     * raises #GP with the selector (minus RPL) as error code and leaves DS unchanged. */
    u64 at;
    exc_log_reset();
    __asm__ volatile(ARM_FIXUP
                     "leaq 1f(%%rip), %[at]\n\t"
                     "movl $0x1230, %%eax\n\t"
                     "1: movl %%eax, %%ds\n\t"
                     "2:"
                     : [at] "=&r"(at)
                     :
                     : "rax", "r11", "memory");
    expect_exc_count(1);
    expect_exc(0, VEC_GP, 0x1230, at);
    EXPECT_EQ("DS", read_ds(), SEL_KDATA);
}

void test_gp_noncanonical(void)
{
    u64 at, v = 0x5555;
    exc_log_reset();
    __asm__ volatile(ARM_FIXUP
                     "leaq 1f(%%rip), %[at]\n\t"
                     "1: movq (%[p]), %[v]\n\t"
                     "2:"
                     : [at] "=&r"(at), [v] "+r"(v)
                     : [p] "r"(0x8000000000001000ull)
                     : "r11", "memory");
    expect_exc_count(1);
    expect_exc(0, VEC_GP, 0, at);
    EXPECT_EQ("destination after skipped load", v, 0x5555);
}

void test_int80(void)
{
    u64 at, rax = 41, rsp;
    exc_log_reset();
    __asm__ volatile("movq %%rsp, %[rsp]\n\t"
                     "int $0x80\n\t"
                     "1: leaq 1b(%%rip), %[at]"
                     : [at] "=r"(at), "+a"(rax), [rsp] "=&r"(rsp)
                     :
                     : "memory");
    expect_exc_count(1);
    expect_exc(0, VEC_SYSCALL, 0, at); /* a trap: the saved RIP is the next instruction */
    EXPECT_EQ("RAX returned through IRETQ", rax, 42);
    EXPECT_EQ("saved CS", exc_log[0].cs, SEL_KCODE);
    EXPECT_EQ("saved RSP", exc_log[0].rsp, rsp);
    /* Same privilege, no IST: the frame is pushed on the current stack, just below. */
    expect(exc_log[0].frame < rsp && exc_log[0].frame > rsp - 512,
           "frame at 0x%llx, not just below RSP 0x%llx", (unsigned long long)exc_log[0].frame,
           (unsigned long long)rsp);
}

void test_ist(void)
{
    u64 rsp;
    exc_log_reset();
    __asm__ volatile("movq %%rsp, %0\n\tint $0x82" : "=&r"(rsp) : : "memory");
    expect_exc_count(1);
    expect_exc(0, VEC_IST_TEST, 0, 0);
    expect(on_stack(exc_log[0].frame, ist1_stack, IST_STACK_SIZE),
           "handler RSP 0x%llx not on the IST1 stack", (unsigned long long)exc_log[0].frame);
    EXPECT_EQ("saved RSP", exc_log[0].rsp, rsp);
    EXPECT_EQ("saved SS", exc_log[0].ss, SEL_KDATA);
}
