#include "intbench.h"

u16 crc16_byte(u16 crc, u8 byte)
{
    crc ^= byte;
    for (int bit = 0; bit < 8; bit++)
        crc = (crc & 1) ? (u16)((crc >> 1) ^ 0x8408u) : (u16)(crc >> 1);
    return crc;
}

u16 crc16_u16(u16 crc, u16 value)
{
    crc = crc16_byte(crc, (u8)value);
    return crc16_byte(crc, (u8)(value >> 8));
}

u16 crc16_u32(u16 crc, u32 value)
{
    crc = crc16_u16(crc, (u16)value);
    return crc16_u16(crc, (u16)(value >> 16));
}

/* Built at start-up rather than stored, so the table code is part of what runs. */
static u32 crc32_table[256];

void crc32_init(void)
{
    for (u32 n = 0; n < 256; n++) {
        u32 c = n;
        for (int bit = 0; bit < 8; bit++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        crc32_table[n] = c;
    }
}

/* crc is the running register value (start with ~0 and invert at the end, as usual). */
u32 crc32_bytes(u32 crc, const void *data, u32 len)
{
    const u8 *p = data;
    for (u32 i = 0; i < len; i++)
        crc = crc32_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc;
}

u32 crc32_u16(u32 crc, u16 value)
{
    u8 bytes[2] = {(u8)value, (u8)(value >> 8)};
    return crc32_bytes(crc, bytes, 2);
}
