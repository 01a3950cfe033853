/* Port I/O and halting. Inline asm that assembles the same in 32-bit and 64-bit code,
 * because hello (i386) and the long-mode guests share the serial and exit code. */
#ifndef GUEST_IO_H
#define GUEST_IO_H

#include "types.h"

static inline void outb(u16 port, u8 value)
{
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline void outl(u16 port, u32 value)
{
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

static inline u8 inb(u16 port)
{
    u8 value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

#endif
