/* vmm_main(): boot options, memory, VT-x, and the result line. */
#include "vmm/boot.h"
#include "vmm/cmdline.h"
#include "vmm/exit.h"
#include "vmm/guest_run.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/status.h"
#include "vmx/vmx.h"

/* An address that is canonical but never mapped: far above any RAM the VMM maps. */
#define UNMAPPED_ADDRESS 0x00007f0000000000ull

static void crash_on_purpose(enum crash_kind kind)
{
	log_info("vmm: crashing on purpose (crash= boot option)\n");
	switch (kind) {
	case CRASH_PAGE_FAULT:
		*(volatile uint64_t *)UNMAPPED_ADDRESS = 1;
		break;
	case CRASH_INVALID_OPCODE:
		__asm__ volatile("ud2");
		break;
	case CRASH_PANIC:
		panic("crash=panic asked for it");
	case CRASH_NONE:
		break;
	}
}

void vmm_main(const struct boot_handover *h)
{
	struct boot_options opts;
	char err[160];
	int status;

	boot_options_default(&opts);
	log_info("vmm: boot: %s, options '%s'\n", boot_source_name(h->source), h->cmdline);
	if (cmdline_parse(h->cmdline, &opts, err, sizeof(err))) {
		log_error("vmm: error: %s\n", err);
		vmm_exit(VMM_STATUS_BAD_CMDLINE);
	}
	log_threshold = opts.log_level;
	boot_log_modules(h);

	memory_init(h);
	if (opts.crash != CRASH_NONE)
		crash_on_purpose(opts.crash);

	vmx_enable();
	status = run_guests(h, &opts);
	vmx_disable();
	vmm_exit(status < 0 ? VMM_STATUS_OK : status);
}
