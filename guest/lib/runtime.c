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

uint32_t first_count_arg(const struct multiboot_info *mbi, uint32_t dflt, uint32_t max)
{
	const char *p;
	uint32_t n = 0;

	if (!(mbi->flags & MBI_FLAG_CMDLINE) || !mbi->cmdline)
		return dflt;
	p = (const char *)(uintptr_t)mbi->cmdline;
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	if (!*p)
		return dflt;
	for (; *p && *p != ' '; p++) {
		if (*p < '0' || *p > '9' || n > max / 10)
			return 0;
		n = n * 10 + (uint32_t)(*p - '0');
	}
	return n <= max ? n : 0;
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
