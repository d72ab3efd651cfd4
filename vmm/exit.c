/* vmm_exit() and panic(): every way the VMM ends goes through here. */
#include <stdarg.h>
#include <stddef.h>
#include "vmm/console.h"
#include "vmm/exit.h"
#include "vmm/log.h"
#include "vmm/status.h"
#include "vmm/x86.h"

static void (*exit_hook)(void);

void vmm_set_exit_hook(void (*hook)(void))
{
	exit_hook = hook;
}

void vmm_exit(int status)
{
	void (*hook)(void) = exit_hook;

	/* A hook that itself fails re-enters here; it must not run twice. */
	exit_hook = NULL;
	if (hook)
		hook();

	log_error("vmm: exit status %d\n", status);
	console_flush();
	outb(ISA_DEBUG_EXIT_PORT, (uint8_t)status);
	outw(BOCHS_EXIT_PORT, 0x8a00);
	outw(BOCHS_EXIT_PORT, 0x8ae0);
	cpu_halt_forever();
}

void panic(const char *fmt, ...)
{
	va_list ap;

	log_error("vmm: panic: ");
	va_start(ap, fmt);
	log_vat(LOG_ERROR, fmt, ap);
	va_end(ap);
	log_error(" (called from %p)\n", __builtin_return_address(0));
	vmm_exit(VMM_STATUS_CRASH);
}
