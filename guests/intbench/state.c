/*
 * State-machine kernel: a switch-driven scanner, the branchy byte-at-a-time code of
 * parsers. It classifies comma-separated tokens of a generated text (integers, decimals,
 * numbers with exponents, hex constants and garbage), then scans again after scattering
 * random characters through the text, counting how often each state is entered.
 */
#include "intbench.h"

#define TEXT_BYTES 1024
#define MIN_TEXT 640

enum scan_state {
    S_START,
    S_SIGN,       /* + or - */
    S_ZERO,       /* a leading 0: may start hex */
    S_INT,
    S_HEX_PREFIX, /* 0x, no digit yet */
    S_HEX,
    S_POINT,      /* a point with no digit before it */
    S_FLOAT,
    S_EXP_MARK,   /* e or E */
    S_EXP_SIGN,
    S_EXP,
    S_INVALID,
    S_COUNT
};

struct scan_counts {
    u32 entered[S_COUNT]; /* transitions into each state */
    u32 finals[S_COUNT];  /* tokens that ended in each state */
};

static char text[TEXT_BYTES];

static const char digits[] = "0123456789";
static const char hex_digits[] = "0123456789abcdefABCDEF";
static const char noise[] = "abcxyzXQ#$_.+-0123456789eE";

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int is_hex_digit(char ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static int is_sign(char ch)
{
    return ch == '+' || ch == '-';
}

static enum scan_state step(enum scan_state s, char ch)
{
    switch (s) {
    case S_START:
        if (is_sign(ch))
            return S_SIGN;
        if (ch == '0')
            return S_ZERO;
        if (is_digit(ch))
            return S_INT;
        return ch == '.' ? S_POINT : S_INVALID;
    case S_SIGN:
        if (is_digit(ch))
            return S_INT;
        return ch == '.' ? S_POINT : S_INVALID;
    case S_ZERO:
        if (ch == 'x' || ch == 'X')
            return S_HEX_PREFIX;
        __attribute__((fallthrough)); /* otherwise a zero is an ordinary integer digit */
    case S_INT:
        if (is_digit(ch))
            return S_INT;
        if (ch == '.')
            return S_FLOAT;
        return ch == 'e' || ch == 'E' ? S_EXP_MARK : S_INVALID;
    case S_HEX_PREFIX:
    case S_HEX:
        return is_hex_digit(ch) ? S_HEX : S_INVALID;
    case S_POINT:
        return is_digit(ch) ? S_FLOAT : S_INVALID;
    case S_FLOAT:
        if (is_digit(ch))
            return S_FLOAT;
        return ch == 'e' || ch == 'E' ? S_EXP_MARK : S_INVALID;
    case S_EXP_MARK:
        if (is_sign(ch))
            return S_EXP_SIGN;
        __attribute__((fallthrough));
    case S_EXP_SIGN:
    case S_EXP:
        return is_digit(ch) ? S_EXP : S_INVALID;
    default:
        return S_INVALID;
    }
}

static void scan(struct scan_counts *counts)
{
    enum scan_state s = S_START;
    for (const char *p = text;; p++) {
        char ch = *p;
        if (ch == ',' || ch == '\0') {
            counts->finals[s]++;
            s = S_START;
            if (!ch)
                return;
            continue;
        }
        enum scan_state next = step(s, ch);
        if (next != s)
            counts->entered[next]++;
        s = next;
    }
}

static char *put_run(char *p, u32 *rng, const char *set, u32 set_len, u32 min, u32 max)
{
    u32 n = min + rng_next(rng) % (max - min + 1);
    while (n--)
        *p++ = set[rng_next(rng) % set_len];
    return p;
}

/* Comma-separated tokens until the text is at least `length` bytes, NUL-terminated. */
static u32 generate(u32 *rng, u32 length)
{
    char *p = text;
    while (p < text + length) {
        if (p != text)
            *p++ = ',';
        u32 kind = rng_next(rng) & 7;
        if (kind <= 4 && (rng_next(rng) & 3) == 0)
            *p++ = (rng_next(rng) & 1) ? '-' : '+';
        switch (kind) {
        case 0:
        case 1: /* integer */
            p = put_run(p, rng, digits, 10, 1, 6);
            break;
        case 2: /* decimal */
            p = put_run(p, rng, digits, 10, 0, 4);
            *p++ = '.';
            p = put_run(p, rng, digits, 10, 1, 4);
            break;
        case 3: /* with exponent */
            p = put_run(p, rng, digits, 10, 1, 2);
            *p++ = '.';
            p = put_run(p, rng, digits, 10, 1, 3);
            *p++ = (rng_next(rng) & 1) ? 'e' : 'E';
            if (rng_next(rng) & 1)
                *p++ = (rng_next(rng) & 1) ? '-' : '+';
            p = put_run(p, rng, digits, 10, 1, 2);
            break;
        case 4: /* hex */
            *p++ = '0';
            *p++ = (rng_next(rng) & 1) ? 'x' : 'X';
            p = put_run(p, rng, hex_digits, sizeof(hex_digits) - 1, 1, 6);
            break;
        default: /* garbage: noise that sometimes looks like a number */
            p = put_run(p, rng, noise, sizeof(noise) - 1, 1, 8);
            break;
        }
    }
    *p = '\0';
    return (u32)(p - text);
}

static u16 fold(u16 crc, const struct scan_counts *counts, struct intbench_totals *totals)
{
    for (int s = 0; s < S_COUNT; s++) {
        crc = crc16_u16(crc, (u16)counts->entered[s]);
        crc = crc16_u16(crc, (u16)counts->finals[s]);
        totals->transitions += counts->entered[s];
    }
    totals->tokens_int += counts->finals[S_ZERO] + counts->finals[S_INT];
    totals->tokens_float += counts->finals[S_FLOAT];
    totals->tokens_exp += counts->finals[S_EXP];
    totals->tokens_hex += counts->finals[S_HEX];
    totals->tokens_invalid += counts->finals[S_START] + counts->finals[S_SIGN] +
                              counts->finals[S_HEX_PREFIX] + counts->finals[S_POINT] +
                              counts->finals[S_EXP_MARK] + counts->finals[S_EXP_SIGN] +
                              counts->finals[S_INVALID];
    return crc;
}

u16 state_kernel(u32 iteration, struct intbench_totals *totals)
{
    u32 rng = intbench_seed(iteration, 3);
    u32 length = generate(&rng, MIN_TEXT + rng_next(&rng) % (TEXT_BYTES - 64 - MIN_TEXT));
    u16 crc = 0xFFFF;

    struct scan_counts clean = {0};
    scan(&clean);
    crc = fold(crc, &clean, totals);

    /* Scatter noise over about one byte in 16, commas and the terminator excepted. */
    for (u32 i = 0; i < length / 16; i++) {
        u32 pos = rng_next(&rng) % length;
        if (text[pos] != ',')
            text[pos] = noise[rng_next(&rng) % (sizeof(noise) - 1)];
    }
    struct scan_counts noisy = {0};
    scan(&noisy);
    return fold(crc, &noisy, totals);
}
