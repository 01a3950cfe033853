/* ACPI: find the RSDP (EBDA's first KiB, then 0xE0000-0xFFFFF), follow the XSDT (revision
 * >= 2) or RSDT to the MADT and collect enabled LAPICs, the IOAPIC and the ISA overrides
 * for IRQ0 and IRQ4. Every structure is checksummed. */
#include "plat.h"
#include "string.h"

struct madt_info madt;

static int sum_ok(const u8 *p, u32 len)
{
    u8 s = 0;
    for (u32 i = 0; i < len; i++)
        s += p[i];
    return s == 0;
}

static const u8 *find_rsdp_in(uptr start, uptr end)
{
    for (uptr a = start; a + 20 <= end; a += 16) {
        const u8 *p = (const u8 *)a;
        if (!memcmp(p, "RSD PTR ", 8) && sum_ok(p, 20)) {
            if (p[15] >= 2 && !sum_ok(p, *(const u32 *)(p + 20)))
                continue;
            return p;
        }
    }
    return 0;
}

static u32 rd32(const u8 *p) { return p[0] | (p[1] << 8) | (p[2] << 16) | ((u32)p[3] << 24); }
static u64 rd64(const u8 *p) { return rd32(p) | ((u64)rd32(p + 4) << 32); }

static int table_ok(uptr a, const char *sig)
{
    if (a == 0 || a >= 0x40000000ull) /* only the identity-mapped first GiB */
        return 0;
    const u8 *t = (const u8 *)a;
    u32 len = rd32(t + 4);
    return !memcmp(t, sig, 4) && len >= 36 && len < 0x100000 && sum_ok(t, len);
}

static void parse_madt(const u8 *t)
{
    u32 len = rd32(t + 4);
    madt.lapic_addr = rd32(t + 36);
    madt.irq0_gsi = 0;
    madt.irq4_gsi = 4;
    for (u32 off = 44; off + 2 <= len;) {
        const u8 *e = t + off;
        u8 type = e[0], elen = e[1];
        if (elen < 2 || off + elen > len)
            break;
        if (type == 0 && elen >= 8 && (rd32(e + 4) & 1)) { /* processor LAPIC, enabled */
            if (madt.ncpus < MAX_CPUS)
                madt.apic_ids[madt.ncpus] = e[3];
            madt.ncpus++;
        } else if (type == 9 && elen >= 16 && (rd32(e + 8) & 1)) { /* x2APIC */
            if (madt.ncpus < MAX_CPUS)
                madt.apic_ids[madt.ncpus] = rd32(e + 4);
            madt.ncpus++;
        } else if (type == 1 && elen >= 12 && !madt.have_ioapic) {
            madt.have_ioapic = 1;
            madt.ioapic_addr = rd32(e + 4);
            madt.ioapic_gsi_base = rd32(e + 8);
        } else if (type == 2 && elen >= 10 && e[2] == 0) { /* ISA interrupt source override */
            if (e[3] == 0) {
                madt.irq0_gsi = rd32(e + 4);
                madt.irq0_flags = e[8] | (e[9] << 8);
            } else if (e[3] == 4) {
                madt.irq4_gsi = rd32(e + 4);
                madt.irq4_flags = e[8] | (e[9] << 8);
            }
        }
        off += elen;
    }
    madt.madt_ok = madt.ncpus > 0;
}

void acpi_scan(void)
{
    uptr bda = 0x40E; /* EBDA segment in the BIOS data area (via a variable: -Warray-bounds) */
    __asm__("" : "+r"(bda));
    uptr ebda = (uptr)(*(volatile u16 *)bda) << 4;
    const u8 *rsdp = 0;
    if (ebda >= 0x80000 && ebda < 0xA0000)
        rsdp = find_rsdp_in(ebda, ebda + 1024);
    if (!rsdp)
        rsdp = find_rsdp_in(0xE0000, 0x100000);
    if (!rsdp)
        return;
    madt.rsdp_ok = 1;

    uptr root = 0;
    int entry_size = 4;
    if (rsdp[15] >= 2 && rd64(rsdp + 24) && table_ok(rd64(rsdp + 24), "XSDT")) {
        root = rd64(rsdp + 24);
        entry_size = 8;
    } else if (table_ok(rd32(rsdp + 16), "RSDT")) {
        root = rd32(rsdp + 16);
    }
    if (!root)
        return;
    const u8 *r = (const u8 *)root;
    u32 n = (rd32(r + 4) - 36) / entry_size;
    for (u32 i = 0; i < n; i++) {
        const u8 *e = r + 36 + i * entry_size;
        uptr a = entry_size == 8 ? rd64(e) : rd32(e);
        if (table_ok(a, "APIC")) {
            parse_madt((const u8 *)a);
            return;
        }
    }
}
