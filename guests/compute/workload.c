/*
 * compute: a deterministic CPU benchmark. Each round runs four kernels that stress
 * different parts of a CPU emulator:
 *   - list:   build, shuffle and merge-sort a linked list (pointer chasing, branches)
 *   - matrix: 32x32 integer matrix multiply (multiplies, regular loads/stores)
 *   - lexer:  generate program-like text and tokenize it with a switch-driven state
 *             machine (indirect jumps, byte loads, unpredictable branches)
 *   - crc32:  table-driven CRC-32 over the text and matrix bytes (table lookups, shifts)
 * All inputs come from a fixed-seed PRNG and every result is folded into a checksum, so
 * the output is identical on any correct x86-64 CPU. ROUNDS is sized for roughly 300-400
 * million guest instructions (see README.md for the measured count).
 */
#include "fmt.h"
#include "workload.h"

#ifndef ROUNDS
#define ROUNDS 290 /* overridable (-DROUNDS=n) only to measure the cost of one round */
#endif

/* ---- PRNG: xorshift32, fixed seed ---------------------------------------------------- */
static u32 rng_state;

static u32 rng(void)
{
    u32 x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

static u32 mix(u32 h, u32 v)
{
    h ^= v;
    h *= 0x01000193u; /* FNV-1a style step */
    return h ^ (h >> 15);
}

/* ---- linked list ----------------------------------------------------------------------- */
#define NODES 2048

struct node {
    struct node *next;
    u32 key, val;
};

static struct node pool[NODES];
static struct node *order[NODES];

/* Top-down merge sort on the list; stable, so equal keys keep a deterministic order. */
static struct node *merge_sort(struct node *head, u32 len)
{
    if (len < 2)
        return head;
    u32 half = len / 2;
    struct node *mid = head;
    for (u32 i = 1; i < half; i++)
        mid = mid->next;
    struct node *second = mid->next;
    mid->next = 0;
    struct node *a = merge_sort(head, half), *b = merge_sort(second, len - half);
    struct node dummy, *tail = &dummy;
    while (a && b) {
        if (b->key < a->key) {
            tail->next = b;
            b = b->next;
        } else {
            tail->next = a;
            a = a->next;
        }
        tail = tail->next;
    }
    tail->next = a ? a : b;
    return dummy.next;
}

static u32 list_round(void)
{
    for (u32 i = 0; i < NODES; i++) {
        pool[i].key = rng() & 0xFFFFF; /* narrow keys: some duplicates for stability */
        pool[i].val = i;
        order[i] = &pool[i];
    }
    for (u32 i = NODES - 1; i > 0; i--) { /* Fisher-Yates */
        u32 j = rng() % (i + 1);
        struct node *t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (u32 i = 0; i + 1 < NODES; i++)
        order[i]->next = order[i + 1];
    order[NODES - 1]->next = 0;

    struct node *head = merge_sort(order[0], NODES);
    u32 h = 0, prev = 0, pos = 0, sorted = 1;
    for (struct node *n = head; n; n = n->next, pos++) {
        sorted &= n->key >= prev;
        prev = n->key;
        h = mix(h, n->val * 2654435761u + pos);
    }
    return sorted && pos == NODES ? h : 0xBAD1157u;
}

/* ---- matrix ---------------------------------------------------------------------------- */
#define N 32

static i32 ma[N][N], mb[N][N], mc[N][N];

static u32 matrix_round(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            u32 r = rng();
            ma[i][j] = (i32)(r & 0x3FF) - 512;
            mb[i][j] = (i32)((r >> 10) & 0x3FF) - 512;
        }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            i32 sum = 0;
            for (int k = 0; k < N; k++)
                sum += ma[i][k] * mb[k][j];
            mc[i][j] = sum;
        }
    u32 h = 0;
    for (int i = 0; i < N; i++) /* trace and a row-weighted fold */
        h = mix(h, (u32)mc[i][i] + (u32)mc[i][(i * 7) % N]);
    return h;
}

/* ---- lexer ----------------------------------------------------------------------------- */
#define TEXT_SIZE 8192

static char text[TEXT_SIZE];

enum tok { T_IDENT, T_NUMBER, T_STRING, T_OP, T_PUNCT, T_COMMENT, T_KINDS };

static u32 gen_text(void)
{
    static const char ops[] = "+-*/=<>!&|%^";
    static const char punct[] = "(){}[];,.";
    static const char *const words[] = { "if", "else", "while", "return", "int", "for", "node", "next" };
    u32 n = 0;
    while (n < TEXT_SIZE - 40) {
        u32 r = rng();
        switch (r % 10) {
        case 0: case 1: { /* identifier or keyword */
            if (r & 0x100) {
                const char *w = words[(r >> 9) & 7];
                while (*w)
                    text[n++] = *w++;
            } else {
                u32 len = 1 + ((r >> 9) & 7);
                text[n++] = (char)('a' + (r >> 12) % 26);
                for (u32 i = 1; i < len; i++) {
                    u32 c = rng() % 37;
                    text[n++] = c < 26 ? (char)('a' + c) : c < 36 ? (char)('0' + c - 26) : '_';
                }
            }
            break;
        }
        case 2: { /* decimal or hex number */
            u32 v = rng();
            if (r & 0x100) {
                text[n++] = '0';
                text[n++] = 'x';
                for (int s = 28; s >= 0; s -= 4)
                    text[n++] = "0123456789abcdef"[(v >> s) & 15];
            } else {
                u32 len = 1 + ((r >> 9) % 9);
                for (u32 i = 0; i < len; i++, v /= 10)
                    text[n++] = (char)('0' + v % 10);
            }
            break;
        }
        case 3: /* one- or two-character operator */
            text[n++] = ops[(r >> 8) % 12];
            if (r & 0x40000)
                text[n++] = '=';
            break;
        case 4:
            text[n++] = punct[(r >> 8) % 9];
            break;
        case 5: { /* string literal with escapes */
            u32 len = (r >> 8) % 12;
            text[n++] = '"';
            for (u32 i = 0; i < len; i++) {
                u32 c = rng();
                if ((c & 15) == 0) {
                    text[n++] = '\\';
                    text[n++] = (c & 16) ? '"' : 'n';
                } else {
                    char ch = (char)('!' + (c >> 8) % 94); /* printable, not space */
                    if (ch == '"' || ch == '\\')
                        ch = 'q';
                    text[n++] = ch;
                }
            }
            text[n++] = '"';
            break;
        }
        case 6: /* comment */
            if (r & 0x100) {
                text[n++] = '/';
                text[n++] = '/';
                for (u32 i = (r >> 9) % 20; i; i--)
                    text[n++] = (char)('a' + i);
                text[n++] = '\n';
            } else {
                text[n++] = '/';
                text[n++] = '*';
                for (u32 i = (r >> 9) % 16; i; i--)
                    text[n++] = (i & 3) == 0 ? '*' : 'x';
                text[n++] = '*';
                text[n++] = '/';
            }
            break;
        default: /* whitespace */
            text[n++] = (r & 0x300) == 0 ? '\n' : (r & 0x300) == 0x100 ? '\t' : ' ';
            break;
        }
    }
    while (n < TEXT_SIZE)
        text[n++] = ' ';
    return n;
}

enum state { S_START, S_IDENT, S_ZERO, S_DEC, S_HEX, S_STRING, S_ESCAPE, S_SLASH,
             S_LINE_COMMENT, S_BLOCK_COMMENT, S_BLOCK_STAR, S_OP };

static u32 tok_count[T_KINDS];

static u32 lex(const char *s, u32 len)
{
    enum state st = S_START;
    u32 h = 0, acc = 0, start = 0;
    for (u32 i = 0; i <= len; i++) {
        char c = i < len ? s[i] : '\0'; /* a final NUL flushes the last token */
        int is_alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        int is_digit = c >= '0' && c <= '9';
        enum tok emit = T_KINDS;
    again:
        switch (st) {
        case S_START:
            start = i;
            acc = 0;
            if (is_alpha) {
                acc = (u8)c;
                st = S_IDENT;
            } else if (c == '0') {
                st = S_ZERO;
            } else if (is_digit) {
                acc = (u32)(c - '0');
                st = S_DEC;
            } else if (c == '"') {
                st = S_STRING;
            } else if (c == '/') {
                st = S_SLASH;
            } else {
                switch (c) {
                case '+': case '-': case '*': case '=': case '<': case '>':
                case '!': case '&': case '|': case '%': case '^':
                    acc = (u8)c;
                    st = S_OP;
                    break;
                case '(': case ')': case '{': case '}': case '[': case ']':
                case ';': case ',': case '.':
                    acc = (u8)c;
                    emit = T_PUNCT;
                    break;
                default: /* whitespace and anything else */
                    break;
                }
            }
            break;
        case S_IDENT:
            if (is_alpha || is_digit) {
                acc = acc * 31 + (u8)c;
            } else {
                emit = T_IDENT;
                st = S_START;
                goto emit_then_again;
            }
            break;
        case S_ZERO:
            if (c == 'x') {
                st = S_HEX;
                break;
            }
            st = S_DEC;
            goto again;
        case S_DEC:
            if (is_digit) {
                acc = acc * 10 + (u32)(c - '0');
            } else {
                emit = T_NUMBER;
                st = S_START;
                goto emit_then_again;
            }
            break;
        case S_HEX:
            if (is_digit)
                acc = (acc << 4) | (u32)(c - '0');
            else if (c >= 'a' && c <= 'f')
                acc = (acc << 4) | (u32)(c - 'a' + 10);
            else {
                emit = T_NUMBER;
                st = S_START;
                goto emit_then_again;
            }
            break;
        case S_STRING:
            if (c == '\\')
                st = S_ESCAPE;
            else if (c == '"' || c == '\0') {
                emit = T_STRING;
                st = S_START;
            } else
                acc = acc * 33 + (u8)c;
            break;
        case S_ESCAPE:
            acc = acc * 33 + (c == 'n' ? '\n' : (u8)c);
            st = S_STRING;
            break;
        case S_SLASH:
            if (c == '/')
                st = S_LINE_COMMENT;
            else if (c == '*')
                st = S_BLOCK_COMMENT;
            else {
                acc = '/';
                st = S_OP;
                goto again;
            }
            break;
        case S_LINE_COMMENT:
            if (c == '\n' || c == '\0') {
                emit = T_COMMENT;
                st = S_START;
            }
            break;
        case S_BLOCK_COMMENT:
            if (c == '*')
                st = S_BLOCK_STAR;
            else if (c == '\0')
                emit = T_COMMENT;
            break;
        case S_BLOCK_STAR:
            if (c == '/') {
                emit = T_COMMENT;
                st = S_START;
            } else if (c != '*') {
                st = S_BLOCK_COMMENT;
            }
            if (c == '\0')
                emit = T_COMMENT;
            break;
        case S_OP:
            if (c == '=' && acc < 256) {
                acc = acc * 256 + '='; /* two-character operator like "<=" */
                emit = T_OP;
                st = S_START;
            } else {
                emit = T_OP;
                st = S_START;
                goto emit_then_again;
            }
            break;
        }
        if (emit != T_KINDS) {
            tok_count[emit]++;
            h = mix(h, (emit << 24) ^ acc ^ ((i - start) << 16));
        }
        continue;
    emit_then_again:
        /* The current character ends the token and starts the next one. */
        tok_count[emit]++;
        h = mix(h, (emit << 24) ^ acc ^ ((i - start) << 16));
        emit = T_KINDS;
        goto again;
    }
    return h;
}

/* ---- CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) ----------------------------- */
static u32 crc_table[256];

static void crc_init(void)
{
    for (u32 i = 0; i < 256; i++) {
        u32 c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
        crc_table[i] = c;
    }
}

static u32 crc32(u32 crc, const void *data, u32 len)
{
    const u8 *p = data;
    crc = ~crc;
    for (u32 i = 0; i < len; i++)
        crc = (crc >> 8) ^ crc_table[(crc ^ p[i]) & 0xFF];
    return ~crc;
}

/* ---- driver ---------------------------------------------------------------------------- */
int compute_run(void)
{
    rng_state = 0x2545F491u;
    crc_init();
    for (int k = 0; k < T_KINDS; k++)
        tok_count[k] = 0;

    /* Self-check against the standard CRC-32 check value before trusting any result. */
    u32 check = crc32(0, "123456789", 9);
    kprintf("compute: %d rounds of list, matrix, lexer, crc32\n", ROUNDS);
    if (check != 0xCBF43926u) {
        kprintf("crc32 self-check failed: 0x%08x\n", check);
        return 1;
    }

    u32 h_list = 0, h_matrix = 0, h_lex = 0, crc = 0;
    for (int round = 0; round < ROUNDS; round++) {
        h_list = mix(h_list, list_round());
        h_matrix = mix(h_matrix, matrix_round());
        u32 len = gen_text();
        h_lex = mix(h_lex, lex(text, len));
        crc = crc32(crc, text, len);
        crc = crc32(crc, mc, sizeof(mc));
    }
    u32 tokens = 0;
    for (int k = 0; k < T_KINDS; k++)
        tokens += tok_count[k];

    kprintf("list:     0x%08x\n", h_list);
    kprintf("matrix:   0x%08x\n", h_matrix);
    kprintf("lexer:    0x%08x (%u tokens: %u ident, %u number, %u string, %u op, %u punct, %u comment)\n",
            h_lex, tokens, tok_count[T_IDENT], tok_count[T_NUMBER], tok_count[T_STRING],
            tok_count[T_OP], tok_count[T_PUNCT], tok_count[T_COMMENT]);
    kprintf("crc32:    0x%08x\n", crc);
    kprintf("checksum: 0x%08x\n", mix(mix(mix(mix(0, h_list), h_matrix), h_lex), crc));
    return 0;
}
