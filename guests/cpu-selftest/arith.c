/*
 * Integer sanity tests: results and the flags the architecture defines for each
 * instruction (undefined flags are masked out, since they may differ between CPUs).
 * Operands go through inline asm so gcc cannot fold them at compile time; expected
 * values were worked out independently of any CPU.
 */
#include "selftest.h"

#define F_CF 0x001
#define F_PF 0x004
#define F_AF 0x010
#define F_ZF 0x040
#define F_SF 0x080
#define F_OF 0x800
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

static void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

void test_cpuid(void)
{
    u32 a, b, c, d;
    cpuid(0, &a, &b, &c, &d);
    u32 vendor[3] = { b, d, c };
    const u8 *v = (const u8 *)vendor;
    int printable = 1;
    for (int i = 0; i < 12; i++)
        printable &= v[i] >= 0x20 && v[i] < 0x7F;
    /* The vendor string differs between CPUs, so it is checked, never printed. */
    expect(printable, "vendor string has non-printable bytes");
    expect(a >= 1, "max basic leaf %u < 1", a);
    cpuid(1, &a, &b, &c, &d);
    EXPECT_EQ("CPUID.1:EDX.SSE2", (d >> 26) & 1, 1);
    cpuid(0x80000000u, &a, &b, &c, &d);
    expect(a >= 0x80000001u, "max extended leaf 0x%x", a);
    cpuid(0x80000001u, &a, &b, &c, &d);
    EXPECT_EQ("CPUID.80000001:EDX.LM", (d >> 29) & 1, 1);
    EXPECT_EQ("CPUID.80000001:EDX.NX", (d >> 20) & 1, 1);
}

void test_mul(void)
{
    u64 lo = 0xFEDCBA9876543210ull, hi, fl;
    __asm__("mulq %[m]\n\tpushfq\n\tpopq %[fl]"
            : "+a"(lo), "=d"(hi), [fl] "=r"(fl) : [m] "r"(0x0123456789ABCDEFull) : "cc");
    EXPECT_EQ("MUL high", hi, 0x0121FA00AD77D742ull);
    EXPECT_EQ("MUL low", lo, 0x2236D88FE5618CF0ull);
    EXPECT_EQ("MUL CF|OF", fl & (F_CF | F_OF), F_CF | F_OF);

    lo = (u64)-3;
    __asm__("imulq %[m]\n\tpushfq\n\tpopq %[fl]"
            : "+a"(lo), "=d"(hi), [fl] "=r"(fl) : [m] "r"(0x4000000000000000ull) : "cc");
    EXPECT_EQ("IMUL high", hi, 0xFFFFFFFFFFFFFFFFull);
    EXPECT_EQ("IMUL low", lo, 0x4000000000000000ull);
    EXPECT_EQ("IMUL CF|OF", fl & (F_CF | F_OF), F_CF | F_OF);

    u64 r;
    __asm__("imulq $7, %[s], %[r]\n\tpushfq\n\tpopq %[fl]"
            : [r] "=r"(r), [fl] "=r"(fl) : [s] "r"(-6ll) : "cc");
    EXPECT_EQ("IMUL imm", r, (u64)-42);
    EXPECT_EQ("IMUL imm CF|OF", fl & (F_CF | F_OF), 0);

    /* 32-bit MUL writes EDX:EAX and zero-extends both into RDX:RAX. */
    lo = 0xAAAAAAAAFFFFFFFFull;
    hi = 0x5555555555555555ull;
    __asm__("mull %[m]" : "+a"(lo), "+d"(hi) : [m] "r"(0xFFFFFFFFu) : "cc");
    EXPECT_EQ("MUL32 EDX", hi, 0xFFFFFFFEull);
    EXPECT_EQ("MUL32 EAX", lo, 0x00000001ull);
}

void test_div(void)
{
    u64 q = 4, r = 1; /* RDX:RAX = 2^64 + 4 */
    __asm__("divq %[d]" : "+a"(q), "+d"(r) : [d] "r"(7ull) : "cc");
    EXPECT_EQ("DIV quotient", q, 0x2492492492492492ull);
    EXPECT_EQ("DIV remainder", r, 6);

    i64 sq = -100, sr;
    __asm__("cqto\n\tidivq %[d]" : "+a"(sq), "=&d"(sr) : [d] "r"(7ll) : "cc");
    EXPECT_EQ("IDIV quotient", sq, (u64)-14);
    EXPECT_EQ("IDIV remainder", sr, (u64)-2);

    q = 0;
    r = 3;
    __asm__("divl %[d]" : "+a"(q), "+d"(r) : [d] "r"(0x10000u) : "cc");
    EXPECT_EQ("DIV32 quotient", q, 0x30000);
    EXPECT_EQ("DIV32 remainder", r, 0);

    q = 1000;
    __asm__("divb %[d]" : "+a"(q) : [d] "q"((u8)7) : "cc");
    EXPECT_EQ("DIV8 AH:AL", q & 0xFFFF, (6 << 8) | 142);
}

void test_shift(void)
{
    u64 v = 0x8765432112345678ull, fl;
    __asm__("shlq $1, %[v]\n\tpushfq\n\tpopq %[fl]" : [v] "+r"(v), [fl] "=r"(fl) : : "cc");
    EXPECT_EQ("SHL 1", v, 0x0ECA86422468ACF0ull);
    EXPECT_EQ("SHL 1 CF|OF", fl & (F_CF | F_OF), F_CF | F_OF);

    v = 0x8000000000000000ull;
    __asm__("sarq $8, %[v]" : [v] "+r"(v) : : "cc");
    EXPECT_EQ("SAR 8", v, 0xFF80000000000000ull);

    v = 0x8000000000000000ull;
    __asm__("shrq %%cl, %[v]" : [v] "+r"(v) : "c"(63) : "cc");
    EXPECT_EQ("SHR 63", v, 1);

    v = 3;
    __asm__("shlq %%cl, %[v]" : [v] "+r"(v) : "c"(65) : "cc"); /* count is masked to 1 */
    EXPECT_EQ("SHL 65", v, 6);

    v = 0x123456789ABCDEF0ull;
    __asm__("rolq $16, %[v]" : [v] "+r"(v) : : "cc");
    EXPECT_EQ("ROL 16", v, 0x56789ABCDEF01234ull);
    v = 0x123456789ABCDEF0ull;
    __asm__("rorq $8, %[v]" : [v] "+r"(v) : : "cc");
    EXPECT_EQ("ROR 8", v, 0xF0123456789ABCDEull);

    v = 0x0123456789ABCDEFull;
    __asm__("shldq $12, %[s], %[v]" : [v] "+r"(v) : [s] "r"(0xFEDCBA9876543210ull) : "cc");
    EXPECT_EQ("SHLD 12", v, 0x3456789ABCDEFFEDull);
    v = 0x0123456789ABCDEFull;
    __asm__("shrdq $12, %[s], %[v]" : [v] "+r"(v) : [s] "r"(0xFEDCBA9876543210ull) : "cc");
    EXPECT_EQ("SHRD 12", v, 0x2100123456789ABCull);

    v = 0xFFFFFFFF80000001ull; /* 32-bit shift clears bits 63:32 */
    __asm__("shll $4, %k[v]" : [v] "+r"(v) : : "cc");
    EXPECT_EQ("SHL32 4", v, 0x10);
}

void test_bits(void)
{
    u64 r, fl;
    __asm__("bsfq %[s], %[r]" : [r] "=r"(r) : [s] "r"(0x0000010000000000ull) : "cc");
    EXPECT_EQ("BSF", r, 40);
    __asm__("bsrq %[s], %[r]" : [r] "=r"(r) : [s] "r"(0x0000010000000001ull) : "cc");
    EXPECT_EQ("BSR", r, 40);
    r = 0;
    __asm__("bsfq %[s], %[r]\n\tpushfq\n\tpopq %[fl]" : [r] "+r"(r), [fl] "=r"(fl) : [s] "r"(0ull) : "cc");
    EXPECT_EQ("BSF 0 ZF", fl & F_ZF, F_ZF);


    u64 v = 0x20;
    __asm__("btq $5, %[v]\n\tpushfq\n\tpopq %[fl]" : [fl] "=r"(fl) : [v] "r"(v) : "cc");
    EXPECT_EQ("BT CF", fl & F_CF, F_CF);
    __asm__("btsq $3, %[v]\n\tpushfq\n\tpopq %[fl]" : [v] "+r"(v), [fl] "=r"(fl) : : "cc");
    EXPECT_EQ("BTS", v, 0x28);
    EXPECT_EQ("BTS CF", fl & F_CF, 0);
    __asm__("btrq $5, %[v]\n\tpushfq\n\tpopq %[fl]" : [v] "+r"(v), [fl] "=r"(fl) : : "cc");
    EXPECT_EQ("BTR", v, 0x08);
    EXPECT_EQ("BTR CF", fl & F_CF, F_CF);
    __asm__("btcq $63, %[v]" : [v] "+r"(v) : : "cc");
    EXPECT_EQ("BTC", v, 0x8000000000000008ull);

    v = 0x0102030405060708ull;
    __asm__("bswapq %[v]" : [v] "+r"(v));
    EXPECT_EQ("BSWAP64", v, 0x0807060504030201ull);
    v = 0x11223344;
    __asm__("bswapl %k[v]" : [v] "+r"(v));
    EXPECT_EQ("BSWAP32", v, 0x44332211);

    __asm__("movsbq %b[s], %[r]" : [r] "=r"(r) : [s] "q"(0x80));
    EXPECT_EQ("MOVSX8", r, 0xFFFFFFFFFFFFFF80ull);
    __asm__("movslq %k[s], %[r]" : [r] "=r"(r) : [s] "r"(-2));
    EXPECT_EQ("MOVSXD", r, 0xFFFFFFFFFFFFFFFEull);
    r = ~0ull;
    __asm__("movzwl %w[s], %k[r]" : [r] "+r"(r) : [s] "r"(0xFFFF));
    EXPECT_EQ("MOVZX16", r, 0xFFFF);
    r = ~0ull;
    __asm__("addl $0, %k[r]" : [r] "+r"(r) : : "cc"); /* 32-bit ops zero-extend */
    EXPECT_EQ("ADD32 zero-extension", r, 0xFFFFFFFFull);

    u64 s, c;
    __asm__("cmpq $3, %[a]\n\tsetg %b[s]\n\tmovq $111, %[c]\n\tcmovlq %[b], %[c]"
            : [s] "=&q"(s), [c] "=&r"(c) : [a] "r"(5ull), [b] "r"(222ull) : "cc");
    EXPECT_EQ("SETG", s & 0xFF, 1);
    EXPECT_EQ("CMOVL not taken", c, 111);
    __asm__("leaq 8(%[a], %[b], 4), %[r]" : [r] "=r"(r) : [a] "r"(1000ull), [b] "r"(-3ll));
    EXPECT_EQ("LEA", r, 996);
}

void test_flags(void)
{
    u64 v = 0x7FFFFFFFFFFFFFFFull, fl;
    __asm__("addq $1, %[v]\n\tpushfq\n\tpopq %[fl]" : [v] "+r"(v), [fl] "=r"(fl) : : "cc");
    EXPECT_EQ("ADD overflow result", v, 0x8000000000000000ull);
    EXPECT_EQ("ADD overflow flags", fl & F_ARITH, F_OF | F_SF | F_AF | F_PF);

    v = 0;
    __asm__("subq $1, %[v]\n\tpushfq\n\tpopq %[fl]" : [v] "+r"(v), [fl] "=r"(fl) : : "cc");
    EXPECT_EQ("SUB borrow flags", fl & F_ARITH, F_CF | F_PF | F_AF | F_SF);

    __asm__("cmpq %[a], %[a]\n\tpushfq\n\tpopq %[fl]" : [fl] "=r"(fl) : [a] "r"(1234ull) : "cc");
    EXPECT_EQ("CMP equal flags", fl & F_ARITH, F_ZF | F_PF);

    v = ~0ull; /* INC leaves CF alone */
    __asm__("stc\n\tincq %[v]\n\tpushfq\n\tpopq %[fl]" : [v] "+r"(v), [fl] "=r"(fl) : : "cc");
    EXPECT_EQ("INC flags", fl & F_ARITH, F_CF | F_PF | F_AF | F_ZF);

    /* 128-bit add and subtract via ADC/SBB. */
    u64 lo = ~0ull, hi = 1;
    __asm__("addq %[bl], %[lo]\n\tadcq %[bh], %[hi]" : [lo] "+r"(lo), [hi] "+r"(hi) : [bl] "r"(1ull), [bh] "r"(2ull) : "cc");
    EXPECT_EQ("ADC chain", (hi << 32) | lo, 4ull << 32);
    lo = 0, hi = 5;
    __asm__("subq %[bl], %[lo]\n\tsbbq %[bh], %[hi]" : [lo] "+r"(lo), [hi] "+r"(hi) : [bl] "r"(1ull), [bh] "r"(2ull) : "cc");
    EXPECT_EQ("SBB chain high", hi, 2);
    EXPECT_EQ("SBB chain low", lo, ~0ull);

    v = 5;
    __asm__("negq %[v]\n\tpushfq\n\tpopq %[fl]" : [v] "+r"(v), [fl] "=r"(fl) : : "cc");
    EXPECT_EQ("NEG", v, (u64)-5);
    EXPECT_EQ("NEG CF", fl & F_CF, F_CF);

    /* Logic ops clear CF and OF; AF is undefined, so it is masked out. */
    v = 0xF0;
    __asm__("stc\n\txorq $0xF0, %[v]\n\tpushfq\n\tpopq %[fl]" : [v] "+r"(v), [fl] "=r"(fl) : : "cc");
    EXPECT_EQ("XOR flags", fl & (F_ARITH & ~F_AF), F_ZF | F_PF);
}

void test_rep(void)
{
    static u8 src[4096 + 13], dst[4096 + 32];
    static u64 qbuf[513];
    const u64 n = sizeof(src);
    for (u64 i = 0; i < n; i++)
        src[i] = (u8)(i * 7 + 3);
    for (u64 i = 0; i < sizeof(dst); i++)
        dst[i] = 0xEE;

    u8 *d = dst + 3;
    const u8 *s = src;
    u64 c = n;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
    EXPECT_EQ("REP MOVSB RCX", c, 0);
    EXPECT_EQ("REP MOVSB RDI", d - dst, 3 + n);
    EXPECT_EQ("REP MOVSB RSI", s - src, n);
    int ok = dst[0] == 0xEE && dst[1] == 0xEE && dst[2] == 0xEE && dst[3 + n] == 0xEE;
    for (u64 i = 0; i < n; i++)
        ok &= dst[3 + i] == src[i];
    expect(ok, "REP MOVSB copy differs");

    qbuf[512] = 0x5E5E;
    u64 *q = qbuf;
    c = 512;
    __asm__ volatile("rep stosq" : "+D"(q), "+c"(c) : "a"(0x0123456789ABCDEFull) : "memory");
    ok = q == qbuf + 512 && qbuf[512] == 0x5E5E;
    for (int i = 0; i < 512; i++)
        ok &= qbuf[i] == 0x0123456789ABCDEFull;
    expect(ok, "REP STOSQ fill differs");

    /* Overlapping backwards copy with DF = 1: "0123456789" -> "0101234567". */
    static char buf[11] = "0123456789";
    char *bd = buf + 9;
    const char *bs = buf + 7;
    c = 8;
    __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(bd), "+S"(bs), "+c"(c) : : "memory");
    int same = 1;
    for (int i = 0; i < 10; i++)
        same &= buf[i] == "0101234567"[i];
    expect(same, "STD; REP MOVSB gave \"%s\"", buf);

    /* REPE CMPSB stops after the first difference (index 4). */
    static const char a1[] = "abcdefgh", a2[] = "abcdXfgh";
    const char *p1 = a1, *p2 = a2;
    u64 fl;
    c = 8;
    __asm__ volatile("repe cmpsb\n\tpushfq\n\tpopq %[fl]" : "+S"(p1), "+D"(p2), "+c"(c), [fl] "=r"(fl) : : "cc");
    EXPECT_EQ("REPE CMPSB RCX", c, 3);
    EXPECT_EQ("REPE CMPSB RSI", p1 - a1, 5);
    EXPECT_EQ("REPE CMPSB ZF", fl & F_ZF, 0);

    /* REPNE SCASB as strlen. */
    static const char str[] = "hello, world";
    const char *ps = str;
    c = ~0ull;
    __asm__ volatile("repne scasb" : "+D"(ps), "+c"(c) : "a"(0) : "cc");
    EXPECT_EQ("REPNE SCASB length", ~c - 1, sizeof(str) - 1);
}

void test_atomic(void)
{
    static volatile u64 m;
    u64 rax = 5, fl;
    m = 5;
    __asm__ volatile("lock cmpxchgq %[n], %[m]\n\tpushfq\n\tpopq %[fl]"
                     : [m] "+m"(m), "+a"(rax), [fl] "=r"(fl) : [n] "r"(9ull) : "cc", "memory");
    EXPECT_EQ("CMPXCHG success memory", m, 9);
    EXPECT_EQ("CMPXCHG success ZF", fl & F_ZF, F_ZF);

    rax = 5;
    __asm__ volatile("lock cmpxchgq %[n], %[m]\n\tpushfq\n\tpopq %[fl]"
                     : [m] "+m"(m), "+a"(rax), [fl] "=r"(fl) : [n] "r"(7ull) : "cc", "memory");
    EXPECT_EQ("CMPXCHG failure memory", m, 9);
    EXPECT_EQ("CMPXCHG failure RAX", rax, 9);
    EXPECT_EQ("CMPXCHG failure ZF", fl & F_ZF, 0);

    m = 10;
    u64 r = 3;
    __asm__ volatile("lock xaddq %[r], %[m]" : [m] "+m"(m), [r] "+r"(r) : : "cc", "memory");
    EXPECT_EQ("XADD memory", m, 13);
    EXPECT_EQ("XADD register", r, 10);

    r = 2;
    __asm__ volatile("xchgq %[r], %[m]" : [m] "+m"(m), [r] "+r"(r) : : "memory");
    EXPECT_EQ("XCHG memory", m, 2);
    EXPECT_EQ("XCHG register", r, 13);

    __asm__ volatile("lock incq %[m]" : [m] "+m"(m) : : "cc", "memory");
    EXPECT_EQ("LOCK INC", m, 3);
}
