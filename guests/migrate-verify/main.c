/*
 * migrate-verify: detects, from inside the guest, any page that a live migration loses or
 * leaves stale. It stamps every 4 KiB page of RAM from 4 MiB to the top of RAM over and
 * over, and before each new stamp checks the whole page still holds the previous one.
 * It doubles as the dirty-memory workload of the migration benchmark, so a pass writes
 * every page as fast as it can (two stores and a REP STOSQ per page).
 *
 * Stamp of pass p (>= 1) on page i (counted from 0 across the whole region):
 *   u64 [0] = p, u64 [1] = i, u64 [2..511] = stamp_fill(p, i)
 * stamp_fill is a bijective 64-bit mix of (p << 32) ^ i, so the fill of every
 * (pass, index) pair differs from every other, and a stale page or a page from elsewhere
 * mismatches in every word, not only in the header.
 *
 * Pass p verifies stamp (p - 1, i) on each page and writes (p, i); pass 1 only writes.
 * After the last pass one more sweep verifies the last stamps without writing. Options
 * come from fw_cfg files (ASCII decimal): opt/actors/passes (0 = until 'q' on COM1),
 * opt/actors/report-every, opt/actors/corrupt-at-pass (seeded self-check). See README.md.
 *
 * Interrupts stay off and no IDT is loaded: the program takes no exceptions.
 */
#include "exit.h"
#include "fmt.h"
#include "fwcfg.h"
#include "io.h"
#include "serial.h"
#include "string.h"

#define REGION_START 0x400000ull /* above the image, its page tables and stacks */
#define PAGE_SIZE 4096ull
#define PAGE_WORDS (PAGE_SIZE / 8)
#define GIB (1ull << 30)
#define MAX_RAM (64 * GIB) /* page tables below cover this much; RAM above is left out */
#define MAX_RANGES 32

#define DEFAULT_PASSES 30 /* about 1-2 s under QEMU TCG with -m 128 */
#define DEFAULT_REPORT_EVERY 10
#define POLL_MASK 255 /* poll COM1 for 'q' once per 256 pages */
#define CORRUPT_PAGE 7
#define CORRUPT_OFFSET 0x805 /* inside the fill, so only a whole-page check sees it */

/* Set by entry.S from EAX/EBX at the Multiboot entry. */
extern u32 mb_info_addr, mb_magic;

/* ---- ports ------------------------------------------------------------------------ */
#define COM1_RBR 0x3F8
#define COM1_LSR 0x3FD
#define LSR_DR 0x01

/* Set by fwcfg_probe(): without fw_cfg the RAM size has no third source. */
static int fwcfg_ok;

/* ---- the region ---------------------------------------------------------------------- */
struct range {
    u64 base, pages, first; /* first: global index of the range's first page */
};
static struct range ranges[MAX_RANGES];
static unsigned nranges;
static u64 total_pages, ram_top;

/* Adds RAM [base, base + len) clipped to [REGION_START, MAX_RAM), whole pages only,
 * keeping the list sorted by address; overlaps with earlier ranges are cut off. */
static void add_ram(u64 base, u64 len)
{
    u64 end = base + len < base ? ~0ull : base + len;
    if (base < REGION_START)
        base = REGION_START;
    if (end > MAX_RAM)
        end = MAX_RAM;
    base = (base + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    end &= ~(PAGE_SIZE - 1);
    for (unsigned i = 0; i < nranges && base < end; i++) {
        u64 rb = ranges[i].base, re = rb + ranges[i].pages * PAGE_SIZE;
        if (base < re && end > rb) { /* overlap: keep the part above (or below) it */
            if (base >= rb)
                base = re;
            else
                end = rb;
        }
    }
    if (base >= end || nranges == MAX_RANGES)
        return;
    unsigned i = nranges++;
    while (i > 0 && ranges[i - 1].base > base) {
        ranges[i] = ranges[i - 1];
        i--;
    }
    ranges[i].base = base;
    ranges[i].pages = (end - base) / PAGE_SIZE;
}

/* Multiboot memory map (info flags bit 6) if present, else mem_upper (bit 0), else
 * fw_cfg's RAM size below 4 GiB. Returns the source's name. */
static const char *find_ram(void)
{
    const char *src = 0;
    if (mb_magic == 0x2BADB002 && mb_info_addr) {
        const u8 *mbi = (const u8 *)(uptr)mb_info_addr;
        u32 flags = *(const u32 *)mbi;
        if (flags & (1u << 6)) {
            u32 len = *(const u32 *)(mbi + 44), addr = *(const u32 *)(mbi + 48);
            for (u32 off = 0; off + 24 <= len;) {
                const u8 *e = (const u8 *)(uptr)(addr + off);
                u32 size = *(const u32 *)e;
                u64 base = *(const u64 *)(e + 4), elen = *(const u64 *)(e + 12);
                if (*(const u32 *)(e + 20) == 1)
                    add_ram(base, elen);
                off += size + 4;
            }
            src = "multiboot memory map";
        } else if (flags & 1) {
            add_ram(0x100000, (u64)*(const u32 *)(mbi + 8) * 1024);
            src = "multiboot mem_upper";
        }
    }
    if (!src && fwcfg_ok) {
        fwcfg_select(FWCFG_KEY_RAM_SIZE);
        u64 ram = fwcfg_read_le64();
        add_ram(0, ram < 0xC0000000ull ? ram : 0xC0000000ull);
        src = "fw_cfg RAM size";
    }
    u64 idx = 0;
    for (unsigned i = 0; i < nranges; i++) {
        ranges[i].first = idx;
        idx += ranges[i].pages;
        ram_top = ranges[i].base + ranges[i].pages * PAGE_SIZE;
    }
    total_pages = idx;
    return src;
}

/* start64 maps 0-1 GiB; map every further GiB up to the top of the region, identity,
 * write-back, with 2 MiB pages. */
extern u64 boot_pdpt[512];
static u64 ram_pd[MAX_RAM / GIB - 1][512] ALIGNED(4096);

static void map_ram(void)
{
    for (u64 g = 1; g * GIB < ram_top; g++) {
        for (u64 i = 0; i < 512; i++)
            ram_pd[g - 1][i] = (g * GIB + (i << 21)) | 0x1 | 0x2 | 0x80; /* P W PS */
        boot_pdpt[g] = (u64)(uptr)ram_pd[g - 1] | 0x3;
    }
    u64 cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

/* ---- stamps ------------------------------------------------------------------------ */
static inline u64 stamp_fill(u64 pass, u64 index)
{
    /* splitmix64's finaliser: a bijection, so distinct (pass, index) give distinct fills */
    u64 z = (pass << 32) ^ index ^ 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void write_stamp(u64 *p, u64 pass, u64 index)
{
    p[0] = pass;
    p[1] = index;
    u64 *dst = p + 2, n = PAGE_WORDS - 2;
    __asm__ volatile("rep stosq" : "+D"(dst), "+c"(n) : "a"(stamp_fill(pass, index)) : "memory");
}

/* 1 if the whole page holds stamp (pass, index). REPE SCASQ stops after the first word
 * that differs from the fill: the page is good only if it ran the full count (RCX = 0) and
 * the last word it compared (the page's last) matched too. One instruction per page, like
 * the write, keeps the loop cheap for a software CPU. */
static inline int check_stamp(const u64 *p, u64 pass, u64 index)
{
    if ((p[0] ^ pass) | (p[1] ^ index))
        return 0;
    u64 v = stamp_fill(pass, index);
    const u64 *src = p + 2;
    u64 n = PAGE_WORDS - 2;
    __asm__ volatile("repe scasq"
                     : "+D"(src), "+c"(n)
                     : "a"(v), "m"(*(const u64(*)[PAGE_WORDS])p)
                     : "cc");
    return n == 0 && src[-1] == v;
}

/* Address of page `index` of the region. */
static u64 *page_addr(u64 index)
{
    for (unsigned r = 0; r < nranges; r++)
        if (index - ranges[r].first < ranges[r].pages)
            return (u64 *)(uptr)(ranges[r].base + (index - ranges[r].first) * PAGE_SIZE);
    return 0;
}

static u64 bad_pages;

static void report_bad(const u64 *p, u64 pass, u64 index)
{
    if (bad_pages++)
        return;
    /* first differing byte against the expected stamp */
    u64 v = stamp_fill(pass, index), off = 0;
    for (u64 k = 0; k < PAGE_WORDS; k++) {
        u64 want = k == 0 ? pass : k == 1 ? index : v, diff = p[k] ^ want;
        if (diff) {
            off = k * 8;
            while (!(diff & 0xFF)) {
                diff >>= 8;
                off++;
            }
            break;
        }
    }
    kprintf("FAIL page %llu (addr 0x%llx): expected pass %llu index %llu, found pass %llu index %llu "
            "(offset %llu)\n",
            (unsigned long long)index, (unsigned long long)(uptr)p, (unsigned long long)pass,
            (unsigned long long)index, (unsigned long long)p[0], (unsigned long long)p[1],
            (unsigned long long)off);
}

/* ---- 'q' on COM1 ------------------------------------------------------------------- */
static int stop_requested;

static void poll_quit(void)
{
    while (inb(COM1_LSR) & LSR_DR)
        if ((inb(COM1_RBR) | 0x20) == 'q')
            stop_requested = 1;
}

/* One sweep over the region: verify stamp `check_pass` (0 = no check) and write stamp
 * `write_pass` (0 = no write). Returns the number of bad pages. */
static u64 sweep(u64 check_pass, u64 write_pass)
{
    bad_pages = 0;
    for (unsigned r = 0; r < nranges; r++) {
        u64 *p = (u64 *)(uptr)ranges[r].base;
        u64 index = ranges[r].first, end = index + ranges[r].pages;
        for (; index < end; index++, p += PAGE_WORDS) {
            if (check_pass && !check_stamp(p, check_pass, index))
                report_bad(p, check_pass, index);
            if (write_pass)
                write_stamp(p, write_pass, index);
            if ((index & POLL_MASK) == POLL_MASK)
                poll_quit();
        }
    }
    return bad_pages;
}

int guest_main(void)
{
    serial_init();
    fwcfg_ok = fwcfg_probe();
    const char *src = find_ram();
    if (!total_pages) {
        kprintf("FAIL migrate-verify: no RAM above 4 MiB found\n");
        return 1;
    }
    map_ram();

    u64 passes = DEFAULT_PASSES, report_every = DEFAULT_REPORT_EVERY, corrupt_at = 0;
    fwcfg_option("opt/actors/passes", &passes);
    fwcfg_option("opt/actors/report-every", &report_every);
    int corrupt = fwcfg_option("opt/actors/corrupt-at-pass", &corrupt_at) && corrupt_at;
    if (!report_every)
        report_every = DEFAULT_REPORT_EVERY;

    /* The page count depends on the firmware's memory map (QEMU's SeaBIOS reserves the top 128 KiB
     * for its ACPI tables; Actors keeps them below 1 MiB), so only its source is printed: the
     * output stays the same on both. */
    kprintf("migrate-verify: stamping all RAM from 4 MiB up, from the %s\n", src);
    if (passes)
        kprintf("passes: %llu, report every %llu\n", (unsigned long long)passes,
                (unsigned long long)report_every);
    else
        kprintf("passes: until 'q' on COM1, report every %llu\n", (unsigned long long)report_every);
    if (corrupt)
        kprintf("self-check: corrupting page %u after pass %llu\n", CORRUPT_PAGE,
                (unsigned long long)corrupt_at);

    u64 pass = 0;
    for (;;) {
        pass++;
        u64 bad = sweep(pass - 1, pass);
        if (bad) {
            kprintf("FAIL pass %llu: %llu pages bad\n", (unsigned long long)pass, (unsigned long long)bad);
            return 1;
        }
        if (corrupt && pass == corrupt_at && CORRUPT_PAGE < total_pages)
            ((volatile u8 *)page_addr(CORRUPT_PAGE))[CORRUPT_OFFSET] ^= 0xFF;
        if (pass % report_every == 0)
            kprintf("pass %llu ok\n", (unsigned long long)pass);
        poll_quit();
        if (stop_requested || (passes && pass >= passes))
            break;
    }
    /* Check the last pass's stamps once more without writing. */
    u64 bad = sweep(pass, 0);
    if (bad) {
        kprintf("FAIL final check: %llu pages bad\n", (unsigned long long)bad);
        return 1;
    }
    kprintf("migrate-verify: %llu passes ok\n", (unsigned long long)pass);
    return 0;
}
