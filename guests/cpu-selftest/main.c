/*
 * cpu-selftest: exercises the parts of an x86-64 CPU a hypervisor's software CPU most
 * easily gets wrong (exceptions, paging, privilege changes, SYSCALL, IST) plus some
 * integer sanity checks, printing one PASS/FAIL line per test and a summary. Everything
 * printed is deterministic, so the serial output can be compared byte for byte.
 *
 * Reached from lib/start64.S in long mode at CPL 0, on the boot stack, with interrupts off
 * (they stay off: the only interrupts are exceptions and INT n).
 */
#include "fmt.h"
#include "selftest.h"
#include "serial.h"

static unsigned passed, failed;
static int test_failed;
static char details[192];

void expect(int cond, const char *fmt, ...)
{
    if (cond || test_failed)
        return; /* report only the first failed expectation */
    test_failed = 1;
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(details, sizeof(details), fmt, ap);
    va_end(ap);
}

void expect_exc_count(unsigned n)
{
    expect(exc_count == n, "%u exceptions taken, expected %u", exc_count, n);
}

void expect_exc(unsigned i, u64 vector, u64 err, u64 rip)
{
    if (i >= exc_count)
        return; /* already reported by expect_exc_count */
    EXPECT_EQ("vector", exc_log[i].vector, vector);
    EXPECT_EQ("error code", exc_log[i].err, err);
    if (rip)
        EXPECT_EQ("RIP", exc_log[i].rip, rip);
}

static const struct {
    const char *name;
    void (*run)(void);
} tests[] = {
    { "cpuid", test_cpuid },
    { "mul", test_mul },
    { "div", test_div },
    { "shift", test_shift },
    { "bits", test_bits },
    { "flags", test_flags },
    { "rep-string", test_rep },
    { "atomic", test_atomic },
    { "exc-de", test_de },
    { "exc-de-overflow", test_de_overflow },
    { "exc-ud", test_ud },
    { "exc-gp-selector", test_gp_selector },
    { "exc-gp-noncanonical", test_gp_noncanonical },
    { "int80", test_int80 },
    { "ist", test_ist },
    { "pf-demand-read", test_pf_demand_read },
    { "pf-demand-write", test_pf_demand_write },
    { "pf-write-protect", test_pf_write_protect },
    { "pf-nx", test_pf_nx },
    { "user-enter", test_user_enter }, /* runs the ring-3 program; the user-* tests after it report on that run */
    { "user-syscall", test_user_syscall },
    { "user-int80-rsp0", test_user_int80 },
    { "user-pf-supervisor", test_user_pf },
    { "user-int-dpl", test_user_int_dpl },
    { "user-io-privilege", test_user_io },
    { "user-return", test_user_return },
};

int guest_main(void)
{
    serial_init();
    kprintf("cpu-selftest: %u tests\n", (unsigned)(sizeof(tests) / sizeof(tests[0])));
    idt_init();
    paging_init();

    for (unsigned i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        test_failed = 0;
        details[0] = '\0';
        tests[i].run();
        if (test_failed) {
            kprintf("FAIL %s: %s\n", tests[i].name, details);
            failed++;
        } else {
            kprintf("PASS %s\n", tests[i].name);
            passed++;
        }
    }
    kprintf("selftest: %u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
