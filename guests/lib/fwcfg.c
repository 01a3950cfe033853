#include "fwcfg.h"
#include "exit.h"
#include "fmt.h"
#include "io.h"
#include "string.h"

#define FWCFG_SEL 0x510
#define FWCFG_DATA 0x511

static int fwcfg_ok;

int fwcfg_probe(void)
{
    fwcfg_select(FWCFG_KEY_SIGNATURE);
    fwcfg_ok = fwcfg_read8() == 'Q' && fwcfg_read8() == 'E' && fwcfg_read8() == 'M' &&
               fwcfg_read8() == 'U';
    return fwcfg_ok;
}

void fwcfg_select(u16 key)
{
    /* The selector is a 16-bit port: a byte write would set only half of the key. */
    __asm__ volatile("outw %0, %1" : : "a"(key), "Nd"((u16)FWCFG_SEL));
}

u8 fwcfg_read8(void)
{
    return inb(FWCFG_DATA);
}

u32 fwcfg_read_be(int bytes)
{
    u32 v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | fwcfg_read8();
    return v;
}

u64 fwcfg_read_le64(void)
{
    u64 v = 0;
    for (int i = 0; i < 8; i++)
        v |= (u64)fwcfg_read8() << (8 * i);
    return v;
}

/* The directory (key 0x19) is a u32 count, then 64-byte entries of u32 size, u16 select,
 * u16 reserved and char name[56], all big-endian. */
int fwcfg_find(const char *name, u16 *key, u32 *size)
{
    if (!fwcfg_ok)
        return 0;
    fwcfg_select(FWCFG_KEY_FILE_DIR);
    u32 count = fwcfg_read_be(4);
    for (u32 n = 0; n < count && n < 4096; n++) {
        u32 sz = fwcfg_read_be(4);
        u16 sel = (u16)fwcfg_read_be(2);
        (void)fwcfg_read_be(2);
        char fname[56];
        for (int i = 0; i < 56; i++)
            fname[i] = (char)fwcfg_read8();
        fname[55] = '\0';
        if (strcmp(fname, name) == 0) {
            *key = sel;
            *size = sz;
            return 1;
        }
    }
    return 0;
}

int fwcfg_option(const char *name, u64 *out)
{
    u16 key;
    u32 size;
    if (!fwcfg_find(name, &key, &size))
        return 0;
    char buf[32];
    u32 n = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1;
    fwcfg_select(key);
    for (u32 i = 0; i < n; i++)
        buf[i] = (char)fwcfg_read8();
    buf[n] = '\0';

    const char *s = buf;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    u64 v = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9') {
        if (v > (~0ull - 9) / 10)
            goto bad;
        v = v * 10 + (u64)(*s++ - '0');
        digits++;
    }
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    if (!digits || *s || size >= sizeof(buf))
        goto bad;
    *out = v;
    return 1;
bad:
    kprintf("FAIL fw_cfg %s: not a decimal number\n", name);
    guest_exit(EXIT_FAILURE_VALUE);
}
