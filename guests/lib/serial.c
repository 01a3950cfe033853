/* Minimal COM1 driver. Plain OUTs for initialisation and LSR polling for output: no
 * interrupts and no FIFO status beyond THRE, which is all our VMM's UART model promises. */
#include "serial.h"
#include "io.h"

#define COM1 0x3F8
#define UART_THR (COM1 + 0) /* transmit holding register (DLL when LCR.DLAB = 1) */
#define UART_IER (COM1 + 1) /* interrupt enable (DLM when LCR.DLAB = 1) */
#define UART_FCR (COM1 + 2)
#define UART_LCR (COM1 + 3)
#define UART_MCR (COM1 + 4)
#define UART_LSR (COM1 + 5)
#define LSR_THRE 0x20

void serial_init(void)
{
    outb(UART_IER, 0x00); /* no UART interrupts: we poll */
    outb(UART_LCR, 0x80); /* DLAB on to reach the divisor latch */
    outb(UART_THR, 0x01); /* divisor 1 = 115200 baud (irrelevant to an emulated UART) */
    outb(UART_IER, 0x00);
    outb(UART_LCR, 0x03); /* DLAB off, 8 data bits, no parity, 1 stop bit */
    outb(UART_FCR, 0x07); /* enable and clear both FIFOs */
    outb(UART_MCR, 0x03); /* DTR | RTS; OUT2 stays clear so the UART never raises an IRQ */
}

void serial_putc(char c)
{
    while (!(inb(UART_LSR) & LSR_THRE))
        ;
    outb(UART_THR, (u8)c);
}

void console_putc(char c)
{
    serial_putc(c);
}
