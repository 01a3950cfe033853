/* Platform support shared by the smp, timer and interrupts guests (see plat.h). */
#include "plat.h"
#include "exit.h"
#include "fmt.h"
#include "io.h"
#include "serial.h"

unsigned checks_passed, checks_failed;

void check(const char *name, int ok, const char *why)
{
    if (ok) {
        kprintf("PASS %s\n", name);
        checks_passed++;
    } else {
        kprintf("FAIL %s: %s\n", name, why);
        checks_failed++;
    }
}

int report_summary(const char *guest)
{
    kprintf("%s: %u passed, %u failed\n", guest, checks_passed, checks_failed);
    return checks_failed ? 1 : 0;
}

/* ---- IDT ------------------------------------------------------------------------- */
struct idt_gate {
    u64 lo, hi;
};
static struct idt_gate idt[256] ALIGNED(16);
static irq_handler handlers[256];
volatile u32 unexpected_vectors, spurious_count;

void set_handler(unsigned vector, irq_handler h)
{
    handlers[vector] = h;
}

void idt_load(void)
{
    struct {
        u16 limit;
        u64 base;
    } __attribute__((packed)) idtr = { sizeof(idt) - 1, (u64)(uptr)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

static void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++) {
        u64 h = (u64)(uptr)(isr_stubs + 16 * v);
        idt[v].lo = (h & 0xFFFF) | ((u64)SEL_KCODE << 16) | (0x8Eull << 40) | (((h >> 16) & 0xFFFF) << 48);
        idt[v].hi = h >> 32;
    }
    idt_load();
}

void isr_dispatch(struct frame *f)
{
    unsigned v = f->vector & 0xFF;
    if (handlers[v]) {
        handlers[v](f);
        return;
    }
    if (v < 32) {
        u64 cr2;
        __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
        kprintf("FATAL: exception %u err 0x%llx at %llx cr2 0x%llx\n", v, (unsigned long long)f->err,
                (unsigned long long)f->rip, (unsigned long long)cr2);
        guest_exit(EXIT_FAILURE_VALUE);
    }
    if (v == PIC_BASE + 7 || v == PIC_BASE + 15 || v == SPURIOUS_VECTOR) {
        spurious_count++; /* no EOI: spurious interrupts are not in service */
        return;
    }
    __atomic_fetch_add(&unexpected_vectors, 1, __ATOMIC_SEQ_CST);
    lapic_eoi(); /* harmless if nothing is in service */
}

/* ---- paging: identity-map 3-4 GiB (IOAPIC, LAPIC) uncached ---------------------------- */
extern u64 boot_pml4[512], boot_pdpt[512];
static u64 mmio_pd[512] ALIGNED(4096);

static void map_mmio(void)
{
    for (u64 i = 0; i < 512; i++)
        mmio_pd[i] = (0xC0000000ull + (i << 21)) | 0x1 | 0x2 | 0x8 | 0x10 | 0x80; /* P W PWT PCD PS */
    boot_pdpt[3] = (u64)(uptr)mmio_pd | 0x3;
    u64 cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

/* ---- time -------------------------------------------------------------------------- */
u64 tsc_hz;

u64 pit_ch2_tsc_delta(u16 count)
{
    /* Channel 2, gate on (port 0x61 bit 0), speaker off; mode 0 counts down once and sets
     * OUT2 (port 0x61 bit 5) at terminal count. */
    outb(0x61, (inb(0x61) & ~0x02) | 0x01);
    outb(0x43, 0xB0); /* ch2, lo/hi byte, mode 0, binary */
    outb(0x42, count & 0xFF);
    outb(0x42, count >> 8);
    u64 t0 = rdtsc();
    for (u32 i = 0; i < 20000000u; i++) { /* ~50 ms expected; bounded */
        if (inb(0x61) & 0x20)
            return rdtsc() - t0;
    }
    return 0;
}

int tsc_calibrate(void)
{
    /* 50 ms three times; keep the shortest (host descheduling only lengthens a run). */
    u64 best = 0;
    for (int i = 0; i < 3; i++) {
        u64 d = pit_ch2_tsc_delta(59659);
        if (d && (!best || d < best))
            best = d;
    }
    tsc_hz = best * 20;
    return best != 0 && tsc_hz > 50000000ull && tsc_hz < 100000000000ull;
}

void delay_us(u64 us)
{
    u64 end = rdtsc() + tsc_us(us);
    while ((i64)(rdtsc() - end) < 0)
        cpu_relax();
}

int wait_eq32(volatile u32 *p, u32 v, u64 ms)
{
    u64 end = rdtsc() + tsc_ms(ms);
    while (*p != v) {
        if ((i64)(rdtsc() - end) > 0)
            return *p == v;
        cpu_relax();
    }
    return 1;
}

int wait_ge32(volatile u32 *p, u32 v, u64 ms)
{
    u64 end = rdtsc() + tsc_ms(ms);
    while (*p < v) {
        if ((i64)(rdtsc() - end) > 0)
            return *p >= v;
        cpu_relax();
    }
    return 1;
}

/* ---- 8259 / PIT -------------------------------------------------------------------- */
void pic_set_mask(u8 master, u8 slave)
{
    outb(0x21, master);
    outb(0xA1, slave);
}

void pic_remap_mask_all(void)
{
    outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 follows */
    outb(0xA0, 0x11);
    outb(0x21, PIC_BASE);     /* ICW2: vectors 0x20-0x27 */
    outb(0xA1, PIC_BASE + 8); /* 0x28-0x2F */
    outb(0x21, 0x04);         /* ICW3: slave on IRQ2 */
    outb(0xA1, 0x02);
    outb(0x21, 0x01); /* ICW4: 8086 mode, normal EOI */
    outb(0xA1, 0x01);
    pic_set_mask(0xFF, 0xFF);
}

void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(0xA0, 0x20);
    outb(0x20, 0x20);
}

void pit_ch0_periodic(u16 count)
{
    outb(0x43, 0x34); /* ch0, lo/hi, mode 2, binary */
    outb(0x40, count & 0xFF);
    outb(0x40, count >> 8);
}

void pit_ch0_stop(void)
{
    /* Mode 0 with a long count and never reloaded: at most one more edge, ~55 ms away. */
    outb(0x43, 0x30);
    outb(0x40, 0xFF);
    outb(0x40, 0xFF);
}

/* ---- LAPIC ------------------------------------------------------------------------- */
void lapic_enable(void)
{
    lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
    lapic_write(LAPIC_TPR, 0);
}

int lapic_icr_wait(void)
{
    for (u32 i = 0; i < 10000000u; i++) {
        if (!(lapic_read(LAPIC_ICR_LO) & ICR_BUSY))
            return 1;
        cpu_relax();
    }
    return 0;
}

int lapic_send_ipi(u32 dest, u32 icr_lo)
{
    if (!lapic_icr_wait())
        return 0;
    lapic_write(LAPIC_ICR_HI, dest << 24);
    lapic_write(LAPIC_ICR_LO, icr_lo);
    return lapic_icr_wait();
}

int lapic_self_ipi(u8 vector)
{
    if (!lapic_icr_wait())
        return 0;
    lapic_write(LAPIC_ICR_HI, 0);
    lapic_write(LAPIC_ICR_LO, ICR_SELF | 0x4000 | vector); /* self shorthand, fixed, assert */
    return lapic_icr_wait();
}

/* ---- IOAPIC ------------------------------------------------------------------------ */
static uptr ioapic_base(void)
{
    return madt.have_ioapic ? madt.ioapic_addr : 0xFEC00000u;
}

u32 ioapic_read(u32 reg)
{
    mmio_write32(ioapic_base(), reg);
    return mmio_read32(ioapic_base() + 0x10);
}

void ioapic_write(u32 reg, u32 v)
{
    mmio_write32(ioapic_base(), reg);
    mmio_write32(ioapic_base() + 0x10, v);
}

void ioapic_mask_all(void)
{
    u32 pins = ((ioapic_read(1) >> 16) & 0xFF) + 1;
    for (u32 i = 0; i < pins; i++)
        ioapic_write(0x10 + 2 * i, LVT_MASKED);
}

/* MPS INTI flags: bits 1:0 polarity (0 = bus default, 1 high, 3 low), bits 3:2 trigger
 * (0 = bus default, 1 edge, 3 level). ISA default: active high, edge. */
void ioapic_route(u32 gsi, u8 vector, u32 dest, u16 flags, int masked)
{
    u32 pin = gsi - madt.ioapic_gsi_base;
    u32 lo = vector; /* fixed, physical */
    if ((flags & 3) == 3)
        lo |= 1u << 13;
    if (((flags >> 2) & 3) == 3)
        lo |= 1u << 15;
    if (masked)
        lo |= LVT_MASKED;
    ioapic_write(0x10 + 2 * pin, LVT_MASKED);
    ioapic_write(0x11 + 2 * pin, dest << 24);
    ioapic_write(0x10 + 2 * pin, lo);
}

/* ---- fw_cfg ------------------------------------------------------------------------ */
u16 fwcfg_nb_cpus(void)
{
    outw(0x510, 0x05);
    u16 lo = inb(0x511), hi = inb(0x511);
    return lo | (hi << 8);
}

/* ---- init -------------------------------------------------------------------------- */
int plat_init(void)
{
    serial_init();
    idt_init();
    map_mmio();
    pic_remap_mask_all();
    acpi_scan();
    return tsc_calibrate();
}
