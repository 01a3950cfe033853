#include "fmt.h"
#include "serial.h"

/* Divide *v by 10 and return the remainder without 64-by-64 division: in a 32-bit guest
 * that would be a call into libgcc, which we do not link. Values that fit in 32 bits use
 * the native divide; larger ones do a 64-step shift-and-subtract long division. */
static unsigned divmod10(u64 *v)
{
    if (*v <= 0xFFFFFFFFu) {
        u32 x = (u32)*v;
        *v = x / 10u;
        return x % 10u;
    }
    u64 q = 0, r = 0, n = *v;
    for (int bit = 63; bit >= 0; bit--) {
        r = (r << 1) | ((n >> bit) & 1);
        q <<= 1;
        if (r >= 10) {
            r -= 10;
            q |= 1;
        }
    }
    *v = q;
    return (unsigned)r;
}

static void emit_padded(fmt_sink sink, void *ctx, const char *digits, int len, int width, char pad,
                        int left, char sign)
{
    int total = len + (sign ? 1 : 0);
    if (sign && pad == '0')
        sink(sign, ctx);
    if (!left)
        for (int i = total; i < width; i++)
            sink(pad, ctx);
    if (sign && pad != '0')
        sink(sign, ctx);
    for (int i = 0; i < len; i++)
        sink(digits[i], ctx);
    if (left)
        for (int i = total; i < width; i++)
            sink(' ', ctx);
}

void kvformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            sink(*fmt, ctx);
            continue;
        }
        fmt++;
        int left = 0, width = 0, longs = 0;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-')
                left = 1;
            else if (*fmt == '0')
                pad = '0';
            else
                break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        for (;; fmt++) {
            if (*fmt == 'l')
                longs++;
            else if (*fmt == 'z')
                longs = sizeof(size_t) == 8 ? 2 : 0;
            else if (*fmt != 'h')
                break;
        }
        if (left)
            pad = ' ';

        char buf[24];
        int len = 0;
        char sign = 0;
        u64 v;
        switch (*fmt) {
        case 'c':
            buf[0] = (char)va_arg(ap, int);
            emit_padded(sink, ctx, buf, 1, width, ' ', left, 0);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int n = 0;
            while (s[n])
                n++;
            emit_padded(sink, ctx, s, n, width, ' ', left, 0);
            break;
        }
        case 'd':
        case 'i': {
            i64 sv = longs >= 2 ? va_arg(ap, long long) : longs == 1 ? va_arg(ap, long) : va_arg(ap, int);
            if (sv < 0) {
                sign = '-';
                v = (u64)0 - (u64)sv;
            } else {
                v = (u64)sv;
            }
            goto decimal;
        }
        case 'u':
            v = longs >= 2 ? va_arg(ap, unsigned long long)
                : longs == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
        decimal: {
            char tmp[24];
            int n = 0;
            do
                tmp[n++] = (char)('0' + divmod10(&v));
            while (v);
            while (n)
                buf[len++] = tmp[--n];
            emit_padded(sink, ctx, buf, len, width, pad, left, sign);
            break;
        }
        case 'p':
            v = (uptr)va_arg(ap, void *);
            sink('0', ctx);
            sink('x', ctx);
            goto hex_lower;
        case 'x':
        case 'X':
            v = longs >= 2 ? va_arg(ap, unsigned long long)
                : longs == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
            if (*fmt == 'X') {
                const char *hex = "0123456789ABCDEF";
                char tmp[24];
                int n = 0;
                do {
                    tmp[n++] = hex[v & 15];
                    v >>= 4;
                } while (v);
                while (n)
                    buf[len++] = tmp[--n];
                emit_padded(sink, ctx, buf, len, width, pad, left, 0);
                break;
            }
        hex_lower: {
            const char *hex = "0123456789abcdef";
            char tmp[24];
            int n = 0;
            do {
                tmp[n++] = hex[v & 15];
                v >>= 4;
            } while (v);
            while (n)
                buf[len++] = tmp[--n];
            emit_padded(sink, ctx, buf, len, width, pad, left, 0);
            break;
        }
        case '%':
            sink('%', ctx);
            break;
        case '\0':
            return; /* a lone '%' at the end: stop rather than read past the string */
        default:
            sink('%', ctx);
            sink(*fmt, ctx);
            break;
        }
    }
}

static void console_sink(char c, void *ctx)
{
    (void)ctx;
    console_putc(c);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvformat(console_sink, 0, fmt, ap);
    va_end(ap);
}

void kputs(const char *s)
{
    while (*s)
        console_putc(*s++);
}

struct buf_ctx {
    char *buf;
    size_t size, len;
};

static void buf_sink(char c, void *ctx)
{
    struct buf_ctx *b = ctx;
    if (b->len + 1 < b->size)
        b->buf[b->len] = c;
    b->len++;
}

size_t kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buf_ctx b = { buf, size, 0 };
    kvformat(buf_sink, &b, fmt, ap);
    if (size)
        buf[b.len < size ? b.len : size - 1] = '\0';
    return b.len;
}

size_t ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
