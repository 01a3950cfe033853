/*
 * IDT, TSS, SYSCALL MSRs and the C side of interrupt and SYSCALL handling.
 */
#include "exit.h"
#include "fmt.h"
#include "selftest.h"

struct tss64 {
    u32 reserved0;
    u64 rsp[3];
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3;
    u16 iomap_base;
} __attribute__((packed));

struct idt_gate {
    u64 lo, hi;
};

static struct idt_gate idt[256] ALIGNED(16);
static struct tss64 tss ALIGNED(16);
u8 rsp0_stack[RSP0_STACK_SIZE] ALIGNED(16);
u8 ist1_stack[IST_STACK_SIZE] ALIGNED(16);
static u8 df_stack[IST_STACK_SIZE] ALIGNED(16);
u8 syscall_stack[4096] ALIGNED(16);

struct exc_record exc_log[EXC_LOG_SIZE];
volatile unsigned exc_count;
volatile u64 fixup_rip, fixup_rsp;
struct syscall_record syscall_log;

extern u64 gdt64[];

#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_FMASK 0xC0000084
#define RFLAGS_TF 0x100
#define RFLAGS_IF 0x200
#define RFLAGS_DF 0x400

/* 64-bit interrupt gate (type 0xE, which clears IF) to vector's stub in isr.S. */
static void set_gate(unsigned vector, unsigned dpl, unsigned ist)
{
    u64 handler = (u64)(uptr)(isr_stubs + 16 * vector);
    idt[vector].lo = (handler & 0xFFFF) | ((u64)SEL_KCODE << 16) | ((u64)ist << 32) |
                     ((u64)(0x8E | (dpl << 5)) << 40) | (((handler >> 16) & 0xFFFF) << 48);
    idt[vector].hi = handler >> 32;
}

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, 0, 0);
    set_gate(VEC_DF, 0, 2);          /* a double fault gets a known-good stack */
    set_gate(VEC_SYSCALL, 3, 0);     /* reachable with INT from ring 3 */
    set_gate(VEC_USER_EXIT, 3, 0);
    set_gate(VEC_IST_TEST, 0, 1);    /* DPL 0: INT from ring 3 must #GP */

    struct {
        u16 limit;
        u64 base;
    } __attribute__((packed)) idtr = { sizeof(idt) - 1, (u64)(uptr)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));

    /* TSS: RSP0 for entries from ring 3, IST1 for the IST test vector, IST2 for #DF.
     * No I/O permission bitmap (its offset is the TSS limit + 1), so ring 3 I/O faults. */
    tss.rsp[0] = (u64)(uptr)(rsp0_stack + sizeof(rsp0_stack));
    tss.ist[0] = (u64)(uptr)(ist1_stack + sizeof(ist1_stack));
    tss.ist[1] = (u64)(uptr)(df_stack + sizeof(df_stack));
    tss.iomap_base = sizeof(tss);

    /* The 16-byte system descriptor scatters the base across fields, so it is built here
     * rather than in start64.S's static GDT. Type 0x9 = available 64-bit TSS, present. */
    u64 base = (u64)(uptr)&tss, limit = sizeof(tss) - 1;
    gdt64[SEL_TSS / 8] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
                         (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    gdt64[SEL_TSS / 8 + 1] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));

    /* SYSCALL: CS/SS from STAR[47:32]; SYSRETQ: CS = STAR[63:48] + 16, SS = + 8. Mask
     * TF, IF and DF on entry. EFER.SCE was set by start64.S. */
    wrmsr(MSR_STAR, ((u64)SEL_UCODE32 << 48) | ((u64)SEL_KCODE << 32));
    wrmsr(MSR_LSTAR, (u64)(uptr)syscall_entry);
    wrmsr(MSR_FMASK, RFLAGS_TF | RFLAGS_IF | RFLAGS_DF);
}

void exc_log_reset(void)
{
    exc_count = 0;
    for (unsigned i = 0; i < EXC_LOG_SIZE; i++)
        exc_log[i] = (struct exc_record){ 0 };
}

static NORETURN void fatal(struct frame *f, u64 cr2)
{
    kprintf("FATAL: unexpected vector %llu err 0x%llx at %04llx:%llx cr2 0x%llx\n",
            (unsigned long long)(f->vector & 0xFF), (unsigned long long)f->err,
            (unsigned long long)f->cs, (unsigned long long)f->rip, (unsigned long long)cr2);
    kprintf("selftest: aborted\n");
    guest_exit(EXIT_FAILURE_VALUE);
}

void isr_dispatch(struct frame *f)
{
    u64 vec = f->vector & 0xFF;
    u64 cr2 = vec == VEC_PF ? read_cr2() : 0;
    unsigned i = exc_count;
    if (i < EXC_LOG_SIZE)
        exc_log[i] = (struct exc_record){ vec, f->err, f->rip, f->cs, f->rsp, f->ss, cr2, (u64)(uptr)f };
    exc_count = i + 1;
    if (i > 64)
        fatal(f, cr2); /* a fault that keeps retrying */

    switch (vec) {
    case VEC_SYSCALL:
        f->rax += 1;
        return;
    case VEC_USER_EXIT:
        if ((f->cs & 3) == 3)
            return_to_kernel(f->rdi);
        break;
    case VEC_IST_TEST:
        return; /* the log entry (frame address) is what the test checks */
    case VEC_PF:
        if (paging_demand_fault(cr2, f->err))
            return; /* page now mapped: IRETQ retries the instruction */
        break;
    }
    if (vec < 32 && (f->cs & 3) == 3 && f->r15) {
        f->rip = f->r15; /* ring-3 fault: resume where the user program said */
        return;
    }
    if (vec < 32 && (f->cs & 3) == 0 && fixup_rip) {
        f->rip = fixup_rip; /* skip the faulting instruction (or the whole call) */
        if (fixup_rsp)
            f->rsp = fixup_rsp;
        fixup_rip = fixup_rsp = 0;
        return;
    }
    fatal(f, cr2);
}

u64 syscall_dispatch(u64 arg, u64 nr, u64 user_rip, u64 user_rsp)
{
    u64 rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    syscall_log.count++;
    syscall_log.nr = nr;
    syscall_log.arg = arg;
    syscall_log.user_rip = user_rip;
    syscall_log.user_rsp = user_rsp;
    syscall_log.cs = read_cs();
    syscall_log.ss = read_ss();
    syscall_log.kernel_rsp = rsp;
    return 2 * arg + nr;
}
