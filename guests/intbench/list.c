/*
 * Linked-list kernel: pointer chasing and data-dependent branches. The list lives in a
 * static pool (no allocator); each iteration builds it anew from its seed, searches it,
 * reverses it, merge-sorts it by two different keys and folds the orders into a CRC.
 */
#include "intbench.h"

#define POOL_NODES 256
#define MIN_NODES 160
#define KEY_MASK 0x1FF /* 512 keys for up to 256 nodes: some repeat, so stability shows */
#define SEARCHES 48

struct list_node {
    struct list_node *next;
    u16 key;
    i16 value;
    u32 tag; /* the node's build position, mixed: tells equal keys apart in the CRC */
};

static struct list_node pool[POOL_NODES];

typedef int (*node_order)(const struct list_node *a, const struct list_node *b);

static int by_key(const struct list_node *a, const struct list_node *b)
{
    return (int)a->key - (int)b->key;
}

static int by_value(const struct list_node *a, const struct list_node *b)
{
    return (int)a->value - (int)b->value;
}

static struct list_node *build(u32 *rng, u32 count)
{
    struct list_node *head = 0, **tail = &head;
    for (u32 i = 0; i < count; i++) {
        u32 r = rng_next(rng);
        struct list_node *n = &pool[i];
        n->key = (u16)(r & KEY_MASK);
        n->value = (i16)(r >> 16);
        n->tag = i * 0x01000193u ^ (r >> 9);
        *tail = n;
        tail = &n->next;
    }
    *tail = 0;
    return head;
}

/* Position of the first node with `key` (from 1), or 0. */
static u32 find(const struct list_node *head, u16 key)
{
    for (u32 pos = 1; head; head = head->next, pos++)
        if (head->key == key)
            return pos;
    return 0;
}

static struct list_node *reverse(struct list_node *head)
{
    struct list_node *done = 0;
    while (head) {
        struct list_node *next = head->next;
        head->next = done;
        done = head;
        head = next;
    }
    return done;
}

/* Bottom-up merge sort, stable: merges runs of `width` nodes pairwise, doubling the width
 * until one merge covered the whole list. No recursion and no extra memory. */
static struct list_node *sort(struct list_node *head, node_order order)
{
    for (u32 width = 1;; width *= 2) {
        struct list_node *rest = head, *sorted = 0, **tail = &sorted;
        u32 merges = 0;
        while (rest) {
            struct list_node *left = rest, *right = rest;
            u32 left_len = 0, right_len = width;
            while (right && left_len < width) {
                right = right->next;
                left_len++;
            }
            while (left_len || (right_len && right)) {
                struct list_node *take;
                if (!left_len || (right_len && right && order(left, right) > 0)) {
                    take = right;
                    right = right->next;
                    right_len--;
                } else {
                    take = left;
                    left = left->next;
                    left_len--;
                }
                *tail = take;
                tail = &take->next;
            }
            rest = right;
            merges++;
        }
        *tail = 0;
        head = sorted;
        if (merges <= 1)
            return head;
    }
}

/* Folds the list's order into the CRC and counts neighbours out of `order`. */
static u16 fold(const struct list_node *head, node_order order, u16 crc, u32 *unsorted)
{
    for (; head; head = head->next) {
        crc = crc16_u16(crc, head->key);
        crc = crc16_u16(crc, (u16)head->value);
        crc = crc16_byte(crc, (u8)head->tag);
        if (order && head->next && order(head, head->next) > 0)
            (*unsorted)++;
    }
    return crc;
}

u16 list_kernel(u32 iteration, struct intbench_totals *totals)
{
    u32 rng = intbench_seed(iteration, 1);
    u32 count = MIN_NODES + (rng_next(&rng) % (POOL_NODES - MIN_NODES + 1));
    struct list_node *head = build(&rng, count);
    u16 crc = 0xFFFF;

    /* Keys drawn like the list's, so roughly a third are present. */
    u32 position_sum = 0;
    for (u32 i = 0; i < SEARCHES; i++) {
        u32 pos = find(head, (u16)(rng_next(&rng) & KEY_MASK));
        if (pos) {
            totals->list_found++;
            position_sum += pos;
        } else {
            totals->list_missed++;
        }
    }
    crc = crc16_u32(crc, position_sum);

    head = reverse(head);
    crc = fold(head, 0, crc, 0);
    head = sort(head, by_key);
    crc = fold(head, by_key, crc, &totals->list_unsorted);
    head = sort(head, by_value);
    crc = fold(head, by_value, crc, &totals->list_unsorted);
    /* Back to key order: a stable sort now keeps equal keys in value order. */
    head = sort(reverse(head), by_key);
    crc = fold(head, by_key, crc, &totals->list_unsorted);
    crc = crc16_u16(crc, (u16)find(head, pool[count / 2].key));
    return crc;
}
