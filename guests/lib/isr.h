/* The interrupt entry in isr_stubs.S, shared by the 64-bit guests that take interrupts. */
#ifndef ISR_H
#define ISR_H

#include "types.h"

/* Register state pushed by isr_stubs.S: general registers (last pushed first), then the
 * vector and error code (0 when the CPU pushes none), then the CPU's 64-bit interrupt frame. */
struct frame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, err;
    u64 rip, cs, rflags, rsp, ss;
};

extern const u8 isr_stubs[]; /* 256 entry stubs, 16 bytes apart */

/* Each guest's own handler; called by every stub with the saved frame. */
void isr_dispatch(struct frame *f);

#endif
