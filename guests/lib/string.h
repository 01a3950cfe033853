#ifndef GUEST_STRING_H
#define GUEST_STRING_H

#include "types.h"

/* gcc may emit calls to memcpy/memset/memmove/memcmp even with -ffreestanding, so every
 * guest links these. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#endif
