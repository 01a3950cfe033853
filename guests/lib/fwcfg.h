#ifndef GUEST_FWCFG_H
#define GUEST_FWCFG_H

#include "types.h"

/* QEMU's fw_cfg over its legacy I/O ports (selector 0x510, data 0x511), which the Actors
 * platform offers too. Guests take their run options from named files in it, so one image
 * serves both a benchmark-sized run and a short test run. */
#define FWCFG_KEY_SIGNATURE 0x00
#define FWCFG_KEY_RAM_SIZE 0x03
#define FWCFG_KEY_FILE_DIR 0x19

/* Checks the "QEMU" signature; every other call answers "absent" until this returned 1.
 * A machine without fw_cfg reads 0xFF from the data port and fails here. */
int fwcfg_probe(void);

void fwcfg_select(u16 key);
u8 fwcfg_read8(void);
/* The next `bytes` (at most 4) bytes of the selected item as a big-endian number. */
u32 fwcfg_read_be(int bytes);
u64 fwcfg_read_le64(void);

/* Finds file `name` in the file directory: 1 with its selector key and size, else 0. */
int fwcfg_find(const char *name, u16 *key, u32 *size);

/* Reads file `name` as ASCII decimal (surrounding blanks and newlines allowed). Returns 0
 * if absent, 1 if read into *out; anything else prints
 * "FAIL fw_cfg NAME: not a decimal number" and exits with the failure value. */
int fwcfg_option(const char *name, u64 *out);

#endif
