/*
 * timer: the PC's time sources against each other.
 *  (a) PIT channel 0, mode 2 at ~1 kHz through the remapped 8259: tick rate against the
 *      TSC (itself calibrated with PIT channel 2 polling), and CPUID 0x15/0x16 if present;
 *  (b) the same PIT routed through the IOAPIC (8259 masked, IRQ0's GSI from the MADT);
 *  (c) the LAPIC timer: rate calibrated against the TSC, periodic ~1 kHz, one-shot fires
 *      once, initial count 0 stops it, the divide configuration scales the rate, and
 *      TSC-deadline mode when CPUID.1:ECX[24] advertises it.
 * Rates are checked within +-25% over 100 ms windows, up to ten attempts each (the host
 * is shared and noisy, and a descheduled vCPU loses timer ticks); no measured value is
 * printed.
 */
#include "fmt.h"
#include "plat.h"

#define VEC_PIT_PIC (PIC_BASE + 0)
#define VEC_PIT_IOAPIC 0x31
#define VEC_LAPIC_TIMER 0x32
#define PIT_1KHZ 1193 /* 1000.15 Hz */
#define WINDOW_MS 100
#define TOL 25
#define TRIES 10
#define MSR_TSC_DEADLINE 0x6E0

static volatile u32 pic_ticks, ioapic_ticks, lapic_ticks;
static volatile u64 lapic_tick_tsc;

static void pit_pic_handler(struct frame *f)
{
    (void)f;
    pic_ticks++;
    pic_eoi(0);
}

static void pit_ioapic_handler(struct frame *f)
{
    (void)f;
    ioapic_ticks++;
    lapic_eoi();
}

static void lapic_timer_handler(struct frame *f)
{
    (void)f;
    if (!lapic_ticks)
        lapic_tick_tsc = rdtsc();
    lapic_ticks++;
    lapic_eoi();
}

static void spin_ms(u64 ms)
{
    u64 end = rdtsc() + tsc_ms(ms);
    while ((i64)(rdtsc() - end) < 0)
        cpu_relax();
}

/* Ticks of *c during `ms` of TSC time, with interrupts enabled. */
static u32 count_over(volatile u32 *c, u64 ms)
{
    sti();
    u32 c0 = *c;
    spin_ms(ms);
    u32 n = *c - c0;
    cli();
    return n;
}

static int rate_ok(volatile u32 *c, u32 per_window)
{
    for (int i = 0; i < TRIES; i++)
        if (within_pct(count_over(c, WINDOW_MS), per_window, TOL))
            return 1;
    return 0;
}

/* TSC ticks per second measured over 100 PIT channel 0 interrupts (0 on timeout). */
static u64 tsc_hz_from_pit_irqs(void)
{
    sti();
    u32 start = pic_ticks;
    if (!wait_ge32(&pic_ticks, start + 1, 100)) {
        cli();
        return 0;
    }
    u64 t0 = rdtsc();
    u32 first = pic_ticks;
    int ok = wait_ge32(&pic_ticks, first + 100, 1000);
    u64 t1 = rdtsc();
    u32 n = pic_ticks - first;
    cli();
    if (!ok || !n)
        return 0;
    /* n periods of PIT_1KHZ / PIT_HZ seconds each */
    return (t1 - t0) * PIT_HZ / ((u64)n * PIT_1KHZ);
}

static void test_pit_pic(void)
{
    set_handler(VEC_PIT_PIC, pit_pic_handler);
    pit_ch0_periodic(PIT_1KHZ);
    pic_set_mask(0xFE, 0xFF);
    check("pit-8259-rate", rate_ok(&pic_ticks, WINDOW_MS), "PIT IRQ0 rate differs from the TSC's view of 1 kHz");
    int agree = 0;
    for (int i = 0; i < TRIES && !agree; i++)
        agree = within_pct(tsc_hz_from_pit_irqs(), tsc_hz, TOL);
    check("tsc-vs-pit-irq", agree, "TSC rate from PIT interrupts differs from the channel-2 calibration");
    pic_set_mask(0xFF, 0xFF);

    /* CPUID 0x15 (TSC/crystal ratio and crystal Hz) or 0x16 (base MHz), if advertised. */
    u32 a, b, c, d, max;
    cpuid(0, 0, &max, &b, &c, &d);
    u64 cpuid_hz = 0;
    if (max >= 0x15) {
        cpuid(0x15, 0, &a, &b, &c, &d);
        if (a && b && c)
            cpuid_hz = (u64)c * b / a;
    }
    if (!cpuid_hz && max >= 0x16) {
        cpuid(0x16, 0, &a, &b, &c, &d);
        if (a & 0xFFFF)
            cpuid_hz = (u64)(a & 0xFFFF) * 1000000ull;
    }
    check("tsc-cpuid", !cpuid_hz || within_pct(cpuid_hz, tsc_hz, TOL),
          "CPUID 0x15/0x16 TSC frequency disagrees with the PIT calibration");
}

static void test_pit_ioapic(void)
{
    check("madt-ioapic", madt.have_ioapic, "no IOAPIC in the MADT");
    check("madt-irq0-override", madt.irq0_gsi == 2, "ISA IRQ0 is not overridden to GSI 2");
    if (!madt.have_ioapic)
        return;
    pic_set_mask(0xFF, 0xFF);
    set_handler(VEC_PIT_IOAPIC, pit_ioapic_handler);
    ioapic_route(madt.irq0_gsi, VEC_PIT_IOAPIC, lapic_id(), madt.irq0_flags, 0);
    check("pit-ioapic-rate", rate_ok(&ioapic_ticks, WINDOW_MS), "PIT rate through the IOAPIC is wrong");
    ioapic_route(madt.irq0_gsi, VEC_PIT_IOAPIC, lapic_id(), madt.irq0_flags, 1);
    u32 before = ioapic_ticks;
    count_over(&ioapic_ticks, 20);
    u32 after = ioapic_ticks;
    check("pit-ioapic-mask", after - before <= 1, "masked IOAPIC pin still delivers");
}

/* LAPIC timer counts per millisecond at divide `dcr` (one-shot, masked, 20 ms). */
static u64 lapic_counts_per_ms(u32 dcr)
{
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_LAPIC_TIMER);
    lapic_write(LAPIC_TIMER_DIV, dcr);
    u64 t0 = rdtsc();
    lapic_write(LAPIC_TIMER_INIT, 0xFFFFFFFFu);
    spin_ms(20);
    u32 cur = lapic_read(LAPIC_TIMER_CUR);
    u64 t1 = rdtsc();
    lapic_write(LAPIC_TIMER_INIT, 0);
    u64 elapsed = 0xFFFFFFFFull - cur;
    return elapsed * (tsc_hz / 1000) / (t1 - t0);
}

static void test_lapic_timer(void)
{
    set_handler(VEC_LAPIC_TIMER, lapic_timer_handler);
    u64 per_ms16 = lapic_counts_per_ms(0x3); /* divide by 16 */
    check("lapic-timer-calibrate", per_ms16 >= 10 && per_ms16 < 0xFFFFFFFFull / 200,
          "LAPIC timer does not count at a usable rate");
    if (per_ms16 < 10)
        return;

    /* Divide configuration: count rate * divisor is the same for 1, 2, 4, 16 and 128. */
    static const struct {
        u32 dcr, div;
    } divs[] = { { 0xB, 1 }, { 0x0, 2 }, { 0x1, 4 }, { 0x3, 16 }, { 0xA, 128 } };
    int div_ok = 1;
    for (unsigned i = 0; i < sizeof(divs) / sizeof(divs[0]); i++) {
        int ok = 0;
        for (int t = 0; t < TRIES && !ok; t++)
            ok = within_pct(lapic_counts_per_ms(divs[i].dcr) * divs[i].div, per_ms16 * 16, TOL);
        div_ok &= ok;
    }
    check("lapic-timer-divide", div_ok, "rate does not scale with the divide configuration");

    /* Periodic at ~1 kHz. */
    lapic_write(LAPIC_TIMER_DIV, 0x3);
    lapic_write(LAPIC_LVT_TIMER, VEC_LAPIC_TIMER | (1u << 17));
    lapic_write(LAPIC_TIMER_INIT, (u32)per_ms16);
    check("lapic-timer-periodic", rate_ok(&lapic_ticks, WINDOW_MS), "periodic LAPIC timer rate is wrong");

    /* Initial count 0 stops it. */
    lapic_write(LAPIC_TIMER_INIT, 0);
    count_over(&lapic_ticks, 2);
    u32 before = lapic_ticks;
    count_over(&lapic_ticks, 30);
    check("lapic-timer-stop", lapic_ticks == before && lapic_read(LAPIC_TIMER_CUR) == 0,
          "timer still runs after initial count 0");

    /* One-shot: 5 ms, fires once, not early, current count ends at 0. */
    lapic_write(LAPIC_LVT_TIMER, VEC_LAPIC_TIMER);
    lapic_ticks = 0;
    u64 t0 = rdtsc();
    lapic_write(LAPIC_TIMER_INIT, (u32)(per_ms16 * 5));
    sti();
    int fired = wait_ge32(&lapic_ticks, 1, 200);
    cli();
    count_over(&lapic_ticks, 30);
    check("lapic-timer-oneshot",
          fired && lapic_ticks == 1 && lapic_read(LAPIC_TIMER_CUR) == 0 &&
              lapic_tick_tsc - t0 >= tsc_ms(5) * (100 - TOL) / 100,
          "one-shot did not fire exactly once, or fired early");

    /* TSC-deadline mode, if advertised. The line is the same whether or not it is. */
    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    int ok = 1;
    if (c & (1u << 24)) {
        lapic_write(LAPIC_LVT_TIMER, VEC_LAPIC_TIMER | (2u << 17));
        __asm__ volatile("mfence" ::: "memory");
        lapic_ticks = 0;
        u64 deadline = rdtsc() + tsc_ms(5);
        wrmsr(MSR_TSC_DEADLINE, deadline);
        sti();
        fired = wait_ge32(&lapic_ticks, 1, 200);
        cli();
        count_over(&lapic_ticks, 20);
        ok = fired && lapic_ticks == 1 && lapic_tick_tsc >= deadline && rdmsr(MSR_TSC_DEADLINE) == 0;
        /* A deadline in the past fires at once; writing 0 disarms. */
        lapic_ticks = 0;
        wrmsr(MSR_TSC_DEADLINE, rdtsc() + tsc_ms(50));
        wrmsr(MSR_TSC_DEADLINE, 0);
        count_over(&lapic_ticks, 80);
        ok &= lapic_ticks == 0;
        lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_LAPIC_TIMER);
    }
    check("tsc-deadline", ok, "TSC-deadline timer did not fire once at the deadline, or was not disarmed");
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_LAPIC_TIMER);
}

int guest_main(void)
{
    int tsc_ok = plat_init();
    kprintf("timer: PIT, IOAPIC and LAPIC timer test\n");
    check("tsc-calibrate", tsc_ok, "PIT channel 2 calibration failed");
    if (!tsc_ok)
        return report_summary("timer");
    lapic_enable();
    test_pit_pic();
    test_pit_ioapic();
    pit_ch0_stop();
    test_lapic_timer();
    check("no-stray-interrupts", unexpected_vectors == 0, "an interrupt arrived on an unused vector");
    return report_summary("timer");
}
