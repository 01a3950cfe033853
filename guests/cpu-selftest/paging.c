/*
 * Paging setup on top of start64.S's identity map, and the page-fault tests.
 *
 * start64.S maps 0..1 GiB with 2 MiB pages, all supervisor. Here:
 *  - the first 2 MiB (which holds the image) is split into 4 KiB pages so that exactly the
 *    .user pages carry U/S, and page 0 is left unmapped to catch null pointers;
 *  - a test window at TEST_VA (1 GiB, outside the identity map) gets its own PD and PT,
 *    whose pages the tests make absent, read-only or no-execute.
 */
#include "fmt.h"
#include "selftest.h"
#include "string.h"

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_NX (1ull << 63)
#define PAGE 4096ull

#define TEST_VA 0x40000000ull
#define PG_DEMAND_READ 0
#define PG_READONLY 1
#define PG_NX 2
#define PG_DEMAND_WRITE 3
#define TEST_PAGES 4
#define test_page(i) (TEST_VA + (i) * PAGE)

extern u64 boot_pml4[512], boot_pdpt[512], boot_pd[512];
extern u8 __user_start[], __user_end[];

static u64 low_pt[512] ALIGNED(4096);
static u64 test_pd[512] ALIGNED(4096);
static u64 test_pt[512] ALIGNED(4096);
static u8 frames[TEST_PAGES][4096] ALIGNED(4096); /* backing store for the test window */

/* PTE each demand page receives on its first fault; 0 = not a demand page (any more). */
static u64 demand_pte[TEST_PAGES];

void paging_init(void)
{
    u64 ustart = (u64)(uptr)__user_start, uend = (u64)(uptr)__user_end;
    for (u64 i = 0; i < 512; i++) {
        u64 pa = i * PAGE;
        low_pt[i] = i == 0 ? 0 : pa | PTE_P | PTE_W;
        if (pa >= ustart && pa < uend)
            low_pt[i] |= PTE_U;
    }
    /* U/S is ANDed over all levels: open the upper levels, decide at the leaves. The
     * remaining 2 MiB leaves in boot_pd stay supervisor-only. */
    boot_pml4[0] |= PTE_U;
    boot_pdpt[0] |= PTE_U;
    boot_pd[0] = (u64)(uptr)low_pt | PTE_P | PTE_W | PTE_U;

    boot_pdpt[TEST_VA >> 30] = (u64)(uptr)test_pd | PTE_P | PTE_W;
    test_pd[0] = (u64)(uptr)test_pt | PTE_P | PTE_W;
    write_cr3(read_cr3()); /* flush the TLB after changing live entries */

    if (uend > 512 * PAGE)
        kprintf("warning: user pages above 2 MiB are not user-accessible\n");
}

/* Called by isr_dispatch for #PF: map a demand page on its first not-present fault. */
int paging_demand_fault(u64 cr2, u64 err)
{
    if (cr2 < TEST_VA || cr2 >= TEST_VA + TEST_PAGES * PAGE || (err & PF_P))
        return 0;
    u64 i = (cr2 - TEST_VA) / PAGE;
    if (!demand_pte[i])
        return 0;
    test_pt[i] = demand_pte[i];
    demand_pte[i] = 0;
    invlpg(test_page(i));
    return 1;
}

static u64 frame_pa(unsigned i)
{
    return (u64)(uptr)frames[i];
}

void test_pf_demand_read(void)
{
    *(volatile u64 *)(frames[PG_DEMAND_READ] + 0x18) = 0x0DDBA11CAFEF00Dull;
    test_pt[PG_DEMAND_READ] = 0;
    invlpg(test_page(PG_DEMAND_READ));
    demand_pte[PG_DEMAND_READ] = frame_pa(PG_DEMAND_READ) | PTE_P | PTE_W;
    exc_log_reset();

    u64 v = *(volatile u64 *)(test_page(PG_DEMAND_READ) + 0x18);

    expect_exc_count(1);
    expect_exc(0, VEC_PF, 0, 0); /* not present, read, supervisor */
    EXPECT_EQ("CR2", exc_log[0].cr2, test_page(PG_DEMAND_READ) + 0x18);
    EXPECT_EQ("value read after mapping", v, 0x0DDBA11CAFEF00Dull);
}

void test_pf_demand_write(void)
{
    memset(frames[PG_DEMAND_WRITE], 0, PAGE);
    test_pt[PG_DEMAND_WRITE] = 0;
    invlpg(test_page(PG_DEMAND_WRITE));
    demand_pte[PG_DEMAND_WRITE] = frame_pa(PG_DEMAND_WRITE) | PTE_P | PTE_W;
    exc_log_reset();

    *(volatile u32 *)(test_page(PG_DEMAND_WRITE) + 0xFFC) = 0x600DF00D;

    expect_exc_count(1);
    expect_exc(0, VEC_PF, PF_W, 0);
    EXPECT_EQ("CR2", exc_log[0].cr2, test_page(PG_DEMAND_WRITE) + 0xFFC);
    EXPECT_EQ("value in backing frame", *(volatile u32 *)(frames[PG_DEMAND_WRITE] + 0xFFC), 0x600DF00D);
}

void test_pf_write_protect(void)
{
    u64 va = test_page(PG_READONLY) + 0x40;
    *(volatile u64 *)(frames[PG_READONLY] + 0x40) = 0x1111222233334444ull;
    test_pt[PG_READONLY] = frame_pa(PG_READONLY) | PTE_P; /* read-only */
    invlpg(test_page(PG_READONLY));
    EXPECT_EQ("CR0.WP", (read_cr0() >> 16) & 1, 1);
    exc_log_reset();

    u64 readback = *(volatile u64 *)va; /* reads are allowed */
    u64 at;
    __asm__ volatile("leaq 2f(%%rip), %%r11\n\t"
                     "movq %%r11, fixup_rip(%%rip)\n\t"
                     "leaq 1f(%%rip), %[at]\n\t"
                     "1: movq %[val], (%[va])\n\t" /* CPL 0 write to R/O page, CR0.WP = 1 */
                     "2:"
                     : [at] "=&r"(at)
                     : [va] "r"(va), [val] "r"(0xBADBADBADull)
                     : "r11", "memory");

    EXPECT_EQ("read of read-only page", readback, 0x1111222233334444ull);
    expect_exc_count(1);
    expect_exc(0, VEC_PF, PF_P | PF_W, at);
    EXPECT_EQ("CR2", exc_log[0].cr2, va);
    EXPECT_EQ("page contents", *(volatile u64 *)(frames[PG_READONLY] + 0x40), 0x1111222233334444ull);
}

void test_pf_nx(void)
{
    /* mov $0x77, %eax; ret */
    static const u8 code[] = { 0xB8, 0x77, 0x00, 0x00, 0x00, 0xC3 };
    memcpy(frames[PG_NX], code, sizeof(code));
    u64 fn = test_page(PG_NX);
    test_pt[PG_NX] = frame_pa(PG_NX) | PTE_P | PTE_W | PTE_NX;
    invlpg(fn);
    exc_log_reset();

    /* The call faults on the fetch at the target, after pushing a return address; the
     * fixup resumes after the call with the stack as it was before it. */
    __asm__ volatile("leaq 1f(%%rip), %%r11\n\t"
                     "movq %%r11, fixup_rip(%%rip)\n\t"
                     "movq %%rsp, fixup_rsp(%%rip)\n\t"
                     "call *%[fn]\n\t"
                     "1:"
                     :
                     : [fn] "r"(fn)
                     : "r11", "rax", "memory");

    expect_exc_count(1);
    expect_exc(0, VEC_PF, PF_P | PF_ID, fn); /* present, read, supervisor, instruction fetch */
    EXPECT_EQ("CR2", exc_log[0].cr2, fn);

    /* Same page without NX: the code runs, so the fault above was really NX. */
    test_pt[PG_NX] = frame_pa(PG_NX) | PTE_P | PTE_W;
    invlpg(fn);
    u32 r;
    __asm__ volatile("call *%[fn]" : "=a"(r) : [fn] "r"(fn) : "memory");
    EXPECT_EQ("result of code on executable page", r, 0x77);
    expect_exc_count(1);
}
