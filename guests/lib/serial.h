#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

/* COM1 16550 driven by polling: the only output device the guests rely on. */
void serial_init(void);
void serial_putc(char c);

/* The character sink used by kprintf; on the guests it is the serial port. */
void console_putc(char c);

#endif
