/* The copy/fill primitives are REP MOVSB/STOSB in inline asm rather than C loops: gcc's
 * loop-idiom pass would otherwise turn a C memset loop back into a call to memset. It also
 * keeps the code identical for 32-bit and 64-bit builds. */
#include "string.h"

/* Nor may gcc turn the strlen/memcmp loops below into calls to themselves. */
#pragma GCC optimize("no-tree-loop-distribute-patterns")

void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    if ((uptr)dst <= (uptr)src || (uptr)dst >= (uptr)src + n)
        return memcpy(dst, src, n);
    /* Overlapping with dst above src: copy backwards with DF set, then restore DF = 0,
     * which the ABI requires at every call boundary. */
    const u8 *s = (const u8 *)src + n - 1;
    u8 *d = (u8 *)dst + n - 1;
    __asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (u8)*a - (u8)*b;
}
