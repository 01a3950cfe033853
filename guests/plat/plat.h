/*
 * Shared PC-platform support for the smp, timer and interrupts guests: IDT with a
 * per-vector handler table, PASS/FAIL reporting, the 3-4 GiB MMIO mapping, PIT, 8259,
 * TSC calibration, LAPIC, IOAPIC, fw_cfg and the ACPI MADT.
 *
 * Every value printed is deterministic (names, PASS/FAIL, counts fixed by the platform
 * configuration); measured times and rates are never printed.
 */
#ifndef PLAT_H
#define PLAT_H

#include "isr.h"
#include "types.h"

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10

#define MAX_CPUS 16

typedef void (*irq_handler)(struct frame *f);

/* ---- reporting --------------------------------------------------------------------- */
/* Prints "PASS name" or "FAIL name: why" and counts. */
void check(const char *name, int ok, const char *why);
int report_summary(const char *guest); /* prints the summary; returns the exit value */
extern unsigned checks_passed, checks_failed;

/* ---- CPU helpers ------------------------------------------------------------------- */
static inline u64 rdtsc(void)
{
    u32 lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((u64)hi << 32) | lo;
}
static inline u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}
static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline u16 inw(u16 port)
{
    u16 v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline u32 mmio_read32(uptr a) { return *(volatile u32 *)a; }
static inline void mmio_write32(uptr a, u32 v) { *(volatile u32 *)a = v; }

/* ---- setup ------------------------------------------------------------------------- */
/* BSP: serial, IDT, MMIO mapping of 3-4 GiB, 8259 remapped to 0x20/0x28 and fully
 * masked, TSC calibrated against PIT channel 2. Returns 0 if calibration failed. */
int plat_init(void);
void idt_load(void); /* also used by the APs */
void set_handler(unsigned vector, irq_handler h);
extern volatile u32 unexpected_vectors; /* vectors >= 32 without a handler */
extern volatile u32 spurious_count;     /* 0x27, 0x2F, 0xFF */

/* ---- time -------------------------------------------------------------------------- */
extern u64 tsc_hz;
int tsc_calibrate(void);                 /* PIT channel 2; sets tsc_hz */
u64 pit_ch2_tsc_delta(u16 pit_count);    /* TSC ticks for pit_count PIT clocks, 0 = timeout */
static inline u64 tsc_ms(u64 ms) { return tsc_hz / 1000 * ms; }
static inline u64 tsc_us(u64 us) { return tsc_hz / 1000000 * us; }
void delay_us(u64 us);
/* |a - b| <= b * pct / 100 */
static inline int within_pct(u64 a, u64 b, u64 pct)
{
    u64 d = a > b ? a - b : b - a;
    return d * 100 <= b * pct;
}
/* Spin until *p == v or `ms` elapse (TSC). Returns 1 on success. */
int wait_eq32(volatile u32 *p, u32 v, u64 ms);
int wait_ge32(volatile u32 *p, u32 v, u64 ms);

/* ---- PIT / 8259 ---------------------------------------------------------------------- */
#define PIT_HZ 1193182u
#define PIC_BASE 0x20
void pic_remap_mask_all(void);
void pic_set_mask(u8 master, u8 slave);
void pic_eoi(unsigned irq);
void pit_ch0_periodic(u16 count); /* mode 2 */
void pit_ch0_stop(void);

/* ---- LAPIC ------------------------------------------------------------------------- */
#define LAPIC_BASE 0xFEE00000ul
#define LAPIC_ID 0x20
#define LAPIC_VER 0x30
#define LAPIC_TPR 0x80
#define LAPIC_PPR 0xA0
#define LAPIC_EOI 0xB0
#define LAPIC_SVR 0xF0
#define LAPIC_ISR 0x100
#define LAPIC_TMR 0x180
#define LAPIC_IRR 0x200
#define LAPIC_ESR 0x280
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3E0
#define LVT_MASKED (1u << 16)
#define ICR_BUSY (1u << 12)
#define ICR_SELF (1u << 18)
#define SPURIOUS_VECTOR 0xFF
static inline u32 lapic_read(u32 reg) { return mmio_read32(LAPIC_BASE + reg); }
static inline void lapic_write(u32 reg, u32 v) { mmio_write32(LAPIC_BASE + reg, v); }
static inline u32 lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }
static inline void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }
void lapic_enable(void); /* SVR = enable | SPURIOUS_VECTOR, TPR = 0 */
int lapic_icr_wait(void); /* bounded wait for delivery status idle; 1 = idle */
int lapic_send_ipi(u32 dest, u32 icr_lo); /* physical destination */
int lapic_self_ipi(u8 vector);
static inline int vec_bit(u32 base, unsigned v) { return (lapic_read(base + (v / 32) * 0x10) >> (v % 32)) & 1; }

/* ---- IOAPIC ------------------------------------------------------------------------ */
u32 ioapic_read(u32 reg);
void ioapic_write(u32 reg, u32 v);
void ioapic_mask_all(void);
void ioapic_route(u32 gsi, u8 vector, u32 dest, u16 mps_flags, int masked);

/* ---- fw_cfg ------------------------------------------------------------------------ */
u16 fwcfg_nb_cpus(void);

/* ---- ACPI -------------------------------------------------------------------------- */
struct madt_info {
    int rsdp_ok, madt_ok;
    u32 ncpus;                 /* enabled LAPICs */
    u32 apic_ids[MAX_CPUS];
    u32 lapic_addr;
    u32 ioapic_addr, ioapic_gsi_base;
    int have_ioapic;
    u32 irq0_gsi;              /* ISA IRQ0 after overrides (identity if none) */
    u16 irq0_flags;
    u32 irq4_gsi;
    u16 irq4_flags;
};
extern struct madt_info madt;
void acpi_scan(void);

#endif
