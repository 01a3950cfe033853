/*
 * smp: finds the CPUs through ACPI (MADT), cross-checks fw_cfg NB_CPUS, starts every AP
 * with INIT-SIPI-SIPI through a real-mode trampoline at 0x8000, and has all CPUs hammer
 * shared counters with LOCK XADD / LOCK INC and a LOCK CMPXCHG spinlock around a
 * non-atomic update, plus a per-CPU computation the BSP checks. Finally each AP sends a
 * fixed IPI to the BSP (physical destination = BSP's APIC ID).
 */
#include "exit.h"
#include "fmt.h"
#include "plat.h"
#include "string.h"

#define TRAMP_BASE 0x8000
#define XADD_ITERS 500000u
#define INC_ITERS 500000u
#define LOCK_ITERS 100000u
#define COMPUTE_ITERS 50000u
#define IPI_VECTOR 0xE0

extern const u8 ap_tramp_start[], ap_tramp_end[];

static volatile u32 ap_started, ap_done, go, ap_errors;
static volatile u32 seen_mask;
static volatile u32 svr_ok_mask;
static volatile u32 ipi_request = 0xFFFFFFFF, ipi_sent;
static volatile u32 ipi_received;
static volatile u64 bsp_apic_id;

static volatile u64 counter_xadd;
static volatile u32 counter_inc;
static volatile u32 spinlock;
static volatile u64 plain_counter; /* only touched under spinlock */
static volatile u64 results[MAX_CPUS];
static volatile u32 lock_timeouts;

static u64 compute(u32 id)
{
    /* xorshift64* chain seeded by the APIC ID: deterministic per CPU. */
    u64 x = 0x9E3779B97F4A7C15ull ^ ((u64)id * 0x100000001B3ull);
    u64 acc = 0;
    for (u32 i = 0; i < COMPUTE_ITERS; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        acc += x * 0x2545F4914F6CDD1Dull;
        acc = (acc << 7) | (acc >> 57);
    }
    return acc;
}

static void spin_lock(void)
{
    u32 spins = 0;
    for (;;) {
        u32 expected = 0;
        if (__atomic_compare_exchange_n(&spinlock, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
        while (spinlock) {
            cpu_relax();
            if (++spins == 0x4000000u) { /* give up: counted, and the total will be wrong */
                __atomic_fetch_add(&lock_timeouts, 1, __ATOMIC_SEQ_CST);
                return;
            }
        }
    }
}

static void spin_unlock(void)
{
    __atomic_store_n(&spinlock, 0, __ATOMIC_RELEASE);
}

static void do_work(u32 id)
{
    for (u32 i = 0; i < XADD_ITERS; i++) {
        u64 one = 1;
        __asm__ volatile("lock xaddq %0, %1" : "+r"(one), "+m"(counter_xadd) : : "memory");
    }
    for (u32 i = 0; i < INC_ITERS; i++)
        __asm__ volatile("lock incl %0" : "+m"(counter_inc) : : "memory");
    for (u32 i = 0; i < LOCK_ITERS; i++) {
        spin_lock();
        u64 v = plain_counter; /* read-modify-write in separate instructions */
        for (volatile int d = 0; d < 4; d++)
            ;
        plain_counter = v + 1;
        spin_unlock();
    }
    results[id] = compute(id);
}

void ap_main(u32 id)
{
    idt_load();
    lapic_enable();
    if ((lapic_read(LAPIC_SVR) & 0x1FF) == (0x100 | SPURIOUS_VECTOR))
        __atomic_fetch_or(&svr_ok_mask, 1u << id, __ATOMIC_SEQ_CST);
    __atomic_fetch_or(&seen_mask, 1u << id, __ATOMIC_SEQ_CST);
    __asm__ volatile("lock incl %0" : "+m"(ap_started) : : "memory");

    if (!wait_eq32(&go, 1, 20000)) {
        __atomic_fetch_add(&ap_errors, 1, __ATOMIC_SEQ_CST);
        return;
    }
    do_work(id);
    __asm__ volatile("lock incl %0" : "+m"(ap_done) : : "memory");

    if (!wait_eq32(&ipi_request, id, 30000)) {
        __atomic_fetch_add(&ap_errors, 1, __ATOMIC_SEQ_CST);
        return;
    }
    if (!lapic_send_ipi((u32)bsp_apic_id, 0x4000 | IPI_VECTOR)) /* fixed, physical, assert */
        __atomic_fetch_add(&ap_errors, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&ipi_sent, id + 1, __ATOMIC_SEQ_CST);
}

static void ipi_handler(struct frame *f)
{
    (void)f;
    ipi_received++;
    lapic_eoi();
}

static int start_ap(u32 id)
{
    u32 before = ap_started;
    /* INIT assert (level), INIT de-assert, 10 ms, SIPI, 200 us, SIPI (SDM universal
     * start-up algorithm; the de-assert is what the MP spec adds for older APICs). */
    if (!lapic_send_ipi(id, 0xC500))
        return 0;
    if (!lapic_send_ipi(id, 0x8500))
        return 0;
    delay_us(10000);
    for (int i = 0; i < 2; i++) { /* always both: a running AP ignores the second */
        if (!lapic_send_ipi(id, 0x4600 | (TRAMP_BASE >> 12)))
            return 0;
        delay_us(200);
    }
    return wait_ge32(&ap_started, before + 1, 2000);
}

int guest_main(void)
{
    int tsc_ok = plat_init();
    kprintf("smp: ACPI/INIT-SIPI-SIPI/atomics test\n");
    check("tsc-calibrate", tsc_ok, "PIT channel 2 calibration failed");
    if (!tsc_ok)
        return report_summary("smp");

    check("acpi-rsdp", madt.rsdp_ok, "no valid RSDP in the EBDA or 0xE0000-0xFFFFF");
    check("acpi-madt", madt.madt_ok, "no MADT with enabled LAPICs under the RSDT/XSDT");
    if (!madt.madt_ok)
        return report_summary("smp");
    u32 ncpus = madt.ncpus;
    kprintf("cpus: %u\n", ncpus);
    check("fw-cfg-nb-cpus", fwcfg_nb_cpus() == ncpus, "fw_cfg NB_CPUS differs from the MADT count");
    check("madt-lapic-addr", madt.lapic_addr == LAPIC_BASE, "MADT LAPIC address is not 0xFEE00000");
    if (ncpus > MAX_CPUS) {
        check("cpu-count-supported", 0, "more CPUs than MAX_CPUS");
        return report_summary("smp");
    }

    u32 bsp = lapic_id();
    bsp_apic_id = bsp;
    int bsp_in_madt = 0, ids_ok = 1;
    u32 expected_mask = 0;
    for (u32 i = 0; i < ncpus; i++) {
        if (madt.apic_ids[i] == bsp)
            bsp_in_madt = 1;
        if (madt.apic_ids[i] >= MAX_CPUS || (expected_mask & (1u << madt.apic_ids[i])))
            ids_ok = 0;
        else if (madt.apic_ids[i] != bsp)
            expected_mask |= 1u << madt.apic_ids[i];
    }
    check("bsp-in-madt", bsp_in_madt, "the BSP's LAPIC ID is not in the MADT");
    check("madt-apic-ids", ids_ok, "duplicate or out-of-range APIC IDs");
    check("bsp-flag", (rdmsr(0x1B) & (1u << 8)) != 0, "IA32_APIC_BASE.BSP clear on the BSP");
    if (!bsp_in_madt || !ids_ok)
        return report_summary("smp");

    lapic_enable();
    set_handler(IPI_VECTOR, ipi_handler);
    memcpy((void *)TRAMP_BASE, ap_tramp_start, ap_tramp_end - ap_tramp_start);

    u32 naps = ncpus - 1, started_ok = 1;
    for (u32 i = 0; i < ncpus; i++) {
        if (madt.apic_ids[i] != bsp && !start_ap(madt.apic_ids[i]))
            started_ok = 0;
    }
    kprintf("aps: %u\n", naps);
    check("ap-startup", started_ok && ap_started == naps, "an AP did not report in");
    check("ap-ids", seen_mask == expected_mask, "the APs that reported are not the MADT's");
    check("ap-lapic-enable", svr_ok_mask == expected_mask, "an AP's SVR did not read back enabled");

    /* All CPUs at once. */
    __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
    do_work(bsp);
    int done = wait_eq32(&ap_done, ap_started, 60000);
    check("ap-work-done", done, "APs did not finish their work in time");
    u32 workers = ap_started + 1;
    check("lock-xadd-total", counter_xadd == (u64)workers * XADD_ITERS, "LOCK XADD lost updates");
    check("lock-inc-total", counter_inc == workers * INC_ITERS, "LOCK INC lost updates");
    check("cmpxchg-spinlock-total", lock_timeouts == 0 && plain_counter == (u64)workers * LOCK_ITERS,
          "spinlock-protected counter lost updates");
    int results_ok = 1;
    for (u32 i = 0; i < ncpus; i++)
        if (results[madt.apic_ids[i]] != compute(madt.apic_ids[i]))
            results_ok = 0;
    check("per-cpu-compute", results_ok, "a CPU's computation differs from the BSP's");

    /* Each AP in turn sends IPI_VECTOR to the BSP. */
    sti();
    int ipi_ok = 1;
    for (u32 i = 0; i < ncpus; i++) {
        u32 id = madt.apic_ids[i];
        if (id == bsp)
            continue;
        u32 before = ipi_received;
        __atomic_store_n(&ipi_request, id, __ATOMIC_SEQ_CST);
        if (!wait_eq32(&ipi_sent, id + 1, 2000) || !wait_ge32(&ipi_received, before + 1, 1000))
            ipi_ok = 0;
    }
    delay_us(10000);
    cli();
    check("ipi-to-bsp", ipi_ok && ipi_received == naps, "the BSP did not get exactly one IPI per AP");
    kprintf("ipis: %u\n", ipi_received);
    check("no-stray-interrupts", unexpected_vectors == 0 && ap_errors == 0, "unexpected vector or AP error");
    return report_summary("smp");
}
