/*
 * Matrix kernel: multiply-accumulate loops over small integer matrices (16-bit inputs,
 * 32-bit results), as in signal-processing code. Each operation's result is condensed into
 * the CRC through a threshold count and a sum, so every element matters.
 */
#include "intbench.h"

#define N 14

static i16 a[N][N], b[N][N];
static i32 c[N][N];
static i16 v[N];
static i32 w[N];

static void init(u32 *rng)
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            u32 r = rng_next(rng);
            /* Small signed inputs keep the products and sums far from overflow. */
            a[i][j] = (i16)((i32)(r & 0x3FF) - 0x200);
            b[i][j] = (i16)((i32)((r >> 10) & 0x3FF) - 0x200);
        }
        v[i] = (i16)((i32)(rng_next(rng) & 0xFF) - 0x80);
    }
}

static void add_constant(i16 k)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            a[i][j] = (i16)(a[i][j] + k);
}

static void times_constant(i16 k)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            c[i][j] = (i32)a[i][j] * k;
}

static void times_vector(void)
{
    for (int i = 0; i < N; i++) {
        i32 sum = 0;
        for (int j = 0; j < N; j++)
            sum += (i32)a[i][j] * v[j];
        w[i] = sum;
    }
}

static void times_matrix(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            i32 sum = 0;
            for (int k = 0; k < N; k++)
                sum += (i32)a[i][k] * b[k][j];
            c[i][j] = sum;
        }
}

/* Products taken apart by bit fields and recombined: shifts and masks in the inner loop. */
static void times_matrix_bits(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            i32 sum = 0;
            for (int k = 0; k < N; k++) {
                i32 p = (i32)a[i][k] * b[k][j];
                sum += ((p >> 2) & 0xF) * ((p >> 5) & 0x7F);
            }
            c[i][j] = sum;
        }
}

static i32 sum_a(void)
{
    i32 sum = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            sum += a[i][j];
    return sum;
}

/* Sum of all elements and the count above `limit`, into the CRC. */
static u16 summarise(u16 crc, const i32 *m, int count, i32 limit, struct intbench_totals *totals)
{
    i32 sum = 0;
    u32 above = 0;
    for (int i = 0; i < count; i++) {
        sum += m[i];
        if (m[i] > limit)
            above++;
        if (m[i] < 0)
            totals->matrix_negative++;
    }
    crc = crc16_u32(crc, (u32)sum);
    return crc16_u16(crc, (u16)above);
}

u16 matrix_kernel(u32 iteration, struct intbench_totals *totals)
{
    u32 rng = intbench_seed(iteration, 2);
    init(&rng);
    i16 k = (i16)((i32)(rng_next(&rng) & 0xFF) - 0x80);
    i32 limit = (i32)(rng_next(&rng) & 0xFFF);
    i32 before = sum_a();
    u16 crc = 0xFFFF;

    add_constant(k);
    times_constant(k);
    crc = summarise(crc, &c[0][0], N * N, limit, totals);
    times_vector();
    crc = summarise(crc, w, N, limit, totals);
    times_matrix();
    crc = summarise(crc, &c[0][0], N * N, limit, totals);
    times_matrix_bits();
    crc = summarise(crc, &c[0][0], N * N, limit, totals);
    add_constant((i16)-k);
    if (sum_a() != before)
        totals->matrix_restore_errors++;
    return crc;
}
