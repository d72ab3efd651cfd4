/* Guest start-up after entry.asm, exit through isa-debug-exit, and the PASS/FAIL lines. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

void runtime_init(void);

/* Called by entry.asm before guest_main(): from here on every exception is reported. */
void runtime_init(void)
{
	idt_init();
}

/* The VMM (or QEMU's isa-debug-exit) ends the run on the write; hlt only covers a missing device. */
void guest_exit(uint8_t v)
{
	outb(DEBUG_EXIT_PORT, v);
	halt_forever();
}

int guest_pass(const char *name)
{
	printf("guest: PASS %s\n", name);
	return EXIT_PASS;
}

void check_failed(const char *file, int line, const char *cond)
{
	printf("guest: FAIL %s:%d: %s\n", file, line, cond);
	guest_exit(EXIT_FAIL);
}

void check_eq_failed(const char *file, int line, const char *cond, uint32_t got, uint32_t want)
{
	printf("guest: FAIL %s:%d: %s (got 0x%x, want 0x%x)\n", file, line, cond, got, want);
	guest_exit(EXIT_FAIL);
}

void check_eq64_failed(const char *file, int line, const char *cond, uint64_t got, uint64_t want)
{
	printf("guest: FAIL %s:%d: %s (got 0x%llx, want 0x%llx)\n", file, line, cond,
	       (unsigned long long)got, (unsigned long long)want);
	guest_exit(EXIT_FAIL);
}
