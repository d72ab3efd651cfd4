/* Boot options: "key=value" words from the boot command line; unknown ones are errors. */
#ifndef VMM_CMDLINE_H
#define VMM_CMDLINE_H

#include <stddef.h>
#include <stdint.h>
#include "vmm/log.h"

/* crash=pf|ud|panic: fail in the VMM on purpose to show (and test) the crash reports. */
enum crash_kind {
	CRASH_NONE,
	CRASH_PAGE_FAULT,
	CRASH_INVALID_OPCODE,
	CRASH_PANIC,
};

/* mmu=ept|shadow: how guest-physical memory is translated; auto picks EPT where the CPU can run guests with it. */
enum mmu_mode {
	MMU_MODE_AUTO,
	MMU_MODE_EPT,
	MMU_MODE_SHADOW,
};

/* zap=fast|slow: how the shadow MMU invalidates every page (docs/mmu.md). */
enum zap_mode {
	ZAP_FAST,	/* bump the valid generation; obsolete pages are freed in batches between guest entries */
	ZAP_SLOW,	/* walk and zap every shadow page at once */
};

#define BOOT_GUESTS_MAX		256
#define GUEST_MEM_DEFAULT	(128ull << 20)
#define GUEST_MEM_MIN		(2ull << 20)
#define GUEST_MEM_MAX		(3ull << 30)	/* multiboot info must stay below 4 GiB */
#define WATCHDOG_DEFAULT	30000000000ull	/* TSC cycles: about 10 s at 3 GHz */
/* mmu_pages=: the most shadow pages a VM may hold (0: KVM's 20 per 1000 guest pages, at least 256). */
#define MMU_PAGES_MAX		1000000ull	/* 4 GB of shadow tables */

struct boot_options {
	enum log_level log_level;	/* log=debug|info|warn */
	enum crash_kind crash;		/* crash=pf|ud|panic */
	char guests[BOOT_GUESTS_MAX];	/* guest=a,b,c: modules to run, in order; empty = all; none */
	uint64_t guest_mem;		/* guest_mem=128M: RAM of each guest, K/M/G = 2^10/2^20/2^30 */
	uint64_t watchdog_cycles;	/* watchdog=30G: TSC cycles a guest may run, K/M/G = 10^3/10^6/10^9; 0 = off */
	enum mmu_mode mmu;		/* mmu=ept|shadow */
	int mmio_caching;		/* mmio_caching=0|1: MMIO sptes and their fast path (default 1) */
	enum zap_mode zap;		/* zap=fast|slow (default fast) */
	uint64_t mmu_pages;		/* mmu_pages=N: shadow page limit, K/M = 10^3/10^6; 0 = from guest_mem (default) */
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
