/* Shared declarations for cpu-selftest. */
#ifndef SELFTEST_H
#define SELFTEST_H

#include "isr.h"
#include "types.h"

/* GDT selectors (layout in lib/start64.S). */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE32 0x18
#define SEL_UDATA 0x20
#define SEL_UCODE 0x28
#define SEL_TSS 0x30

/* Vectors used by the tests. */
#define VEC_DE 0
#define VEC_UD 6
#define VEC_DF 8
#define VEC_GP 13
#define VEC_PF 14
#define VEC_SYSCALL 0x80 /* DPL 3 gate: returns RAX + 1 */
#define VEC_USER_EXIT 0x81 /* DPL 3 gate: ends a ring-3 run, back to enter_user's caller */
#define VEC_IST_TEST 0x82 /* DPL 0 gate on IST1 */

/* Page-fault error code bits. */
#define PF_P 0x1
#define PF_W 0x2
#define PF_U 0x4
#define PF_ID 0x10


/* Every interrupt or exception taken is logged so tests can inspect it afterwards. */
struct exc_record {
    u64 vector, err, rip, cs, rsp, ss, cr2;
    u64 frame; /* the handler's stack pointer: where the CPU put the frame */
};
#define EXC_LOG_SIZE 16
extern struct exc_record exc_log[EXC_LOG_SIZE];
extern volatile unsigned exc_count;
void exc_log_reset(void);

/* Kernel-mode fault recovery: when set, a fault resumes at fixup_rip (and fixup_rsp if
 * non-zero) instead of retrying. Armed by the test's inline asm just before the faulting
 * instruction and disarmed by the handler. Faults from ring 3 resume at the user's R15. */
extern volatile u64 fixup_rip, fixup_rsp;

/* Stacks whose use the tests check. */
#define RSP0_STACK_SIZE 8192
#define IST_STACK_SIZE 4096
extern u8 rsp0_stack[RSP0_STACK_SIZE];
extern u8 ist1_stack[IST_STACK_SIZE];
extern u8 syscall_stack[4096];

/* SYSCALL bookkeeping, filled by syscall_dispatch. */
struct syscall_record {
    u64 count, nr, arg, user_rip, user_rsp, cs, ss, kernel_rsp;
};
extern struct syscall_record syscall_log;

/* Test reporting: a test calls expect() any number of times; the first failed
 * expectation becomes the FAIL line's details. */
void expect(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define EXPECT_EQ(what, actual, expected)                                                   \
    do {                                                                                    \
        u64 a_ = (u64)(actual), e_ = (u64)(expected);                                       \
        expect(a_ == e_, "%s = 0x%llx, expected 0x%llx", what, (unsigned long long)a_,      \
               (unsigned long long)e_);                                                     \
    } while (0)
/* Check that exactly `n` exceptions were logged since exc_log_reset(). */
void expect_exc_count(unsigned n);
/* Check log entry i: vector, error code, and (if rip != 0) the faulting RIP. */
void expect_exc(unsigned i, u64 vector, u64 err, u64 rip);

static inline int on_stack(u64 p, const u8 *stack, u64 size)
{
    return p >= (u64)stack && p < (u64)stack + size;
}

/* Control registers and MSRs. */
static inline u64 read_cr0(void) { u64 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u64 read_cr2(void) { u64 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline u64 read_cr3(void) { u64 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void write_cr3(u64 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void invlpg(u64 va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}
static inline u16 read_cs(void) { u16 v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline u16 read_ss(void) { u16 v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }
static inline u16 read_ds(void) { u16 v; __asm__ volatile("mov %%ds, %0" : "=r"(v)); return v; }

/* Setup (idt.c, paging.c). */
void idt_init(void);
void paging_init(void);
int paging_demand_fault(u64 cr2, u64 err);

/* Tests. Each reports through expect(). */
void test_cpuid(void);
void test_mul(void);
void test_div(void);
void test_shift(void);
void test_bits(void);
void test_flags(void);
void test_rep(void);
void test_atomic(void);

void test_de(void);
void test_de_overflow(void);
void test_ud(void);
void test_gp_selector(void);
void test_gp_noncanonical(void);
void test_int80(void);
void test_ist(void);

void test_pf_demand_read(void);
void test_pf_demand_write(void);
void test_pf_write_protect(void);
void test_pf_nx(void);

void test_user_enter(void);
void test_user_syscall(void);
void test_user_int80(void);
void test_user_pf(void);
void test_user_int_dpl(void);
void test_user_io(void);
void test_user_return(void);

/* isr.S */
void syscall_entry(void);
u64 enter_user(u64 rip, u64 rsp, u64 arg0, u64 arg1);
NORETURN void return_to_kernel(u64 value);

#endif
