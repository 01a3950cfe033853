/* SSE workout for the emulator test: scalar double/float math, conversions, vectorisable
   integer loops. Built freestanding; run(mem) writes results to mem and returns a checksum. */
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

struct blob { u64 w[7]; double d; };

__attribute__((noinline)) static double poly(const double *x, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s = s * 1.0000001 + x[i] / (i + 1.0) - (double)i * 0.25;
    return s;
}

__attribute__((noinline)) static float fnorm(const float *f, int n)
{
    float s = 0.0f;
    for (int i = 0; i < n; i++)
        s += f[i] * f[i];
    return __builtin_sqrtf(s) + (float)n;
}

__attribute__((noinline)) static void vadd(const int *a, const int *b, int *c, int n)
{
    for (int i = 0; i < n; i++)
        c[i] = a[i] * 3 + b[i] - (a[i] >> 2);
}

__attribute__((noinline)) static void satsub(const u8 *a, const u8 *b, u8 *c, int n)
{
    for (int i = 0; i < n; i++)
        c[i] = a[i] > b[i] ? a[i] - b[i] : 0;
}

__attribute__((noinline)) static short smax(const short *a, int n)
{
    short m = -32768;
    for (int i = 0; i < n; i++)
        m = a[i] > m ? a[i] : m;
    return m;
}

__attribute__((noinline)) static u64 bytesum(const u8 *a, int n)
{
    u64 s = 0;
    for (int i = 0; i < n; i++)
        s += a[i];
    return s;
}

__attribute__((noinline)) static void widen(const u16 *a, u32 *c, int n)
{
    for (int i = 0; i < n; i++)
        c[i] = (u32)a[i] * a[i];
}

__attribute__((noinline)) static long conv(const double *x, int n)
{
    long s = 0;
    for (int i = 0; i < n; i++) {
        s += (long)x[i];
        s ^= (int)(float)x[i];
        s += (x[i] < 1000.0) ? 1 : 2;
    }
    return s;
}

__attribute__((noinline)) static double dmin(const double *x, int n)
{
    double m = x[0], M = x[0];
    for (int i = 1; i < n; i++) {
        m = x[i] < m ? x[i] : m;
        M = x[i] > M ? x[i] : M;
    }
    return m * 2.0 + M;
}

__attribute__((noinline)) static void copy(struct blob *d, const struct blob *s, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = s[i];
}

u64 run(u8 *mem)
{
    double *x = (double *)(mem + 0x0);
    float *f = (float *)(mem + 0x1000);
    int *a = (int *)(mem + 0x2000), *b = (int *)(mem + 0x3000), *c = (int *)(mem + 0x4000);
    u8 *p = mem + 0x5000, *q = mem + 0x5800, *r = mem + 0x6000;
    short *h = (short *)(mem + 0x6800);
    u16 *w = (u16 *)(mem + 0x7000);
    u32 *ww = (u32 *)(mem + 0x7800);
    struct blob *bs = (struct blob *)(mem + 0x9000), *bd = (struct blob *)(mem + 0xA000);
    u64 *out = (u64 *)(mem + 0xF000);

    u32 seed = 12345;
    for (int i = 0; i < 512; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (double)(int)seed / 65536.0;
        f[i] = (float)(seed >> 8) / 1024.0f - 3000.0f;
        a[i] = (int)seed;
        b[i] = (int)(seed >> 3);
        p[i] = (u8)(seed >> 24);
        q[i] = (u8)(seed >> 16);
        h[i] = (short)(seed >> 9);
        w[i] = (u16)(seed >> 7);
    }
    for (int i = 0; i < 64; i++) {
        for (int k = 0; k < 7; k++)
            bs[i].w[k] = (u64)i * 0x9E3779B97F4A7C15ull + k;
        bs[i].d = i * 0.5;
    }

    double pd = poly(x, 512);
    float fn = fnorm(f, 509);
    vadd(a, b, c, 511);
    satsub(p, q, r, 503);
    short sm = smax(h, 500);
    u64 bsum = bytesum(p, 507);
    widen(w, ww, 505);
    long cv = conv(x, 512);
    double dm = dmin(x, 497);
    copy(bd, bs, 61);

    u64 chk = 0;
    for (int i = 0; i < 511; i++) chk = chk * 31 + (u32)c[i];
    for (int i = 0; i < 503; i++) chk = chk * 31 + r[i];
    for (int i = 0; i < 505; i++) chk = chk * 31 + ww[i];
    for (int i = 0; i < 61; i++) chk = chk * 31 + bd[i].w[6] + (u64)bd[i].d;
    union { double d; u64 u; } ud = { pd }, um = { dm };
    union { float f; u32 u; } uf = { fn };
    out[0] = ud.u;
    out[1] = uf.u;
    out[2] = (u64)(long)sm;
    out[3] = bsum;
    out[4] = (u64)cv;
    out[5] = um.u;
    out[6] = chk;
    return chk ^ ud.u ^ uf.u ^ bsum ^ (u64)cv ^ um.u;
}
