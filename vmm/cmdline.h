/* Boot options: "key=value" words from the boot command line; unknown ones are errors. */
#ifndef VMM_CMDLINE_H
#define VMM_CMDLINE_H

#include <stddef.h>
#include "vmm/log.h"

/* crash=pf|ud|panic: fail in the VMM on purpose to show (and test) the crash reports. */
enum crash_kind {
	CRASH_NONE,
	CRASH_PAGE_FAULT,
	CRASH_INVALID_OPCODE,
	CRASH_PANIC,
};

struct boot_options {
	enum log_level log_level;	/* log=debug|info|warn */
	enum crash_kind crash;		/* crash=pf|ud|panic */
};

void boot_options_default(struct boot_options *opts);

/*
 * Parses space- or tab-separated words into opts, later words overriding
 * earlier ones.  Returns 0, or -1 with a one-line message (no prefix, no
 * newline) in err; opts may then be partly updated.
 */
int cmdline_parse(const char *cmdline, struct boot_options *opts, char *err, size_t errlen);

/* Multiboot loaders put the kernel's own path first (GRUB and QEMU both do): skip that word. */
const char *cmdline_skip_program_name(const char *cmdline);

#endif
