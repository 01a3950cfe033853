#ifndef GUEST_FMT_H
#define GUEST_FMT_H

#include "types.h"

/* A small printf. Conversions: %d %i %u %x %X %c %s %p %%, with optional '-', '0', width,
 * and length h/l/ll/z. Enough for test reports; no floating point. The same code runs in
 * 32-bit and 64-bit guests (64-bit decimal output avoids libgcc's __udivdi3). */
typedef void (*fmt_sink)(char c, void *ctx);

void kvformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kputs(const char *s); /* no newline appended */
/* Always NUL-terminates when size > 0; returns the length the full output would have. */
size_t ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
size_t kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
