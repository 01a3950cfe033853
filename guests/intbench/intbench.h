#ifndef INTBENCH_H
#define INTBENCH_H

#include "types.h"

/*
 * intbench: a 32-bit integer benchmark in the manner of the classic embedded suites. Each
 * iteration runs three kernels (linked list, small matrices, a text-scanning state
 * machine) on data generated from the iteration number, and each kernel condenses its
 * results into a CRC-16. The kernels also add to counters that describe what they found
 * (how many keys were found, how many tokens of each kind were scanned, ...): these depend
 * only on the data, never on how the compiler or the CPU got there, so the summary line is
 * comparable across builds.
 */

/* What the kernels found, summed over all iterations. */
struct intbench_totals {
    u32 list_found, list_missed, list_unsorted;
    u32 matrix_negative, matrix_restore_errors;
    u32 tokens_int, tokens_float, tokens_exp, tokens_hex, tokens_invalid, transitions;
};

/* A small xorshift generator: every kernel draws its data from one, seeded per iteration. */
static inline u32 rng_next(u32 *state)
{
    u32 x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* Nonzero seed for kernel `salt` of iteration `iteration` (xorshift must not start at 0). */
static inline u32 intbench_seed(u32 iteration, u32 salt)
{
    u32 x = (iteration + 1) * 0x9E3779B1u ^ salt * 0x85EBCA77u;
    x ^= x >> 15;
    x *= 0x2C1B3C6Du;
    x ^= x >> 12;
    return x ? x : 0x6D2B79F5u;
}

/* CRC-16/CCITT in its reflected form (polynomial 0x8408, bit by bit) and CRC-32 (IEEE,
 * reflected, table-driven); both continue from a previous value so results chain. */
u16 crc16_byte(u16 crc, u8 byte);
u16 crc16_u16(u16 crc, u16 value);
u16 crc16_u32(u16 crc, u32 value);
void crc32_init(void);
u32 crc32_bytes(u32 crc, const void *data, u32 len);
u32 crc32_u16(u32 crc, u16 value);

/* One iteration of each kernel: returns its CRC-16 and adds to *totals. */
u16 list_kernel(u32 iteration, struct intbench_totals *totals);
u16 matrix_kernel(u32 iteration, struct intbench_totals *totals);
u16 state_kernel(u32 iteration, struct intbench_totals *totals);

#endif
