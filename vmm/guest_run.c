/* run_guests(): module selection, loading, multiboot info, the vCPU, and each guest's report. */
#include "vmm/elf_load.h"
#include "vmm/exit.h"
#include "vmm/format.h"
#include "vmm/guest_run.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/multiboot_info.h"
#include "vmm/status.h"
#include "vmm/string.h"
#include "vmm/vm.h"
#include "vmx/exits.h"
#include "vmx/vcpu.h"
#include "vmx/vmx.h"

_Static_assert((GUEST_MEM_MAX >> 12) <= MMU_MAX_MEMSLOT_PAGES, "guest RAM is one memslot the shadow MMU can map");

/* Shadow MMIO sptes are marked with bit 51 (mmu/spte.h), a reserved physical-address bit only below MAXPHYADDR 52. */
#define SHADOW_MMIO_MAXPHYADDR_MAX	51

/* Headroom the VMM keeps for itself (page tables, VMCS) when sizing a guest. */
#define VMM_RESERVE_BYTES	(4ull << 20)

/*
 * A boot module whose command line starts with GUEST_MODULE_MARKER ("+NAME
 * ARGS") is not a guest: it is a multiboot module of the nearest guest
 * module before it in the boot order, handed to that guest with the string
 * "NAME ARGS" (docs/boot.md).
 */
#define GUEST_MODULE_MARKER	'+'

static bool is_guest_module(const struct boot_module *m)
{
	return m->cmdline[0] == GUEST_MODULE_MARKER;
}

/* The module's name: its cmdline's first word ("NAME ARGS"). */
static size_t module_name_len(const struct boot_module *m)
{
	size_t n = 0;

	while (m->cmdline[n] && m->cmdline[n] != ' ')
		n++;
	return n;
}

static const struct boot_module *find_module(const struct boot_handover *h, const char *name,
					     size_t len)
{
	uint32_t i;

	for (i = 0; i < h->module_count; i++)
		if (!is_guest_module(&h->modules[i]) && module_name_len(&h->modules[i]) == len &&
		    !memcmp(h->modules[i].cmdline, name, len))
			return &h->modules[i];
	return NULL;
}

/* One line a KVM user would recognise; the shadow MMU's counters only where it ran. */
static void print_stats(const struct vm *vm, bool shadow)
{
	const struct vm_stats *s = &vm->stats;
	const struct mmu_stats *m = &vm->mmu.stats;
	char mmu[768] = "";

	if (shadow)
		fmt_snprintf(mmu, sizeof(mmu),
			     " page_faults=%lu pf_fixed=%lu pf_guest=%lu pf_spurious=%lu pf_emulate=%lu pf_mmio=%lu"
			     " emulated=%lu emulation_failed=%lu mmu_cache_miss=%lu mmu_shadow_zapped=%lu"
			     " mmu_pte_write=%lu mmu_flooded=%lu mmu_recycled=%lu invlpg=%lu root_reuse=%lu"
			     " max_rmap_chain=%lu rmap_recycled=%lu shadow_pages=%lu"
			     " invalidations=%lu obsolete_zapped=%lu zap_batches=%lu zap_longest_batch=%lu",
			     s->page_faults, m->pf_fixed, m->pf_guest, m->pf_spurious, m->pf_emulate, m->pf_mmio,
			     s->emulated, s->emulation_failed, m->mmu_cache_miss, m->mmu_shadow_zapped,
			     m->mmu_pte_write, m->mmu_flooded, m->mmu_recycled, m->invlpg, m->root_reuse,
			     m->max_rmap_chain, m->rmap_recycled, m->shadow_pages,
			     m->invalidations, m->obsolete_zapped, m->zap_batches, m->zap_longest_batch);
	log_error("stats: guest=%s mmu=%s exits=%lu io=%lu io_string_elements=%lu cpuid=%lu msr=%lu cr=%lu hlt=%lu vmcall=%lu ept_violation=%lu unclaimed_io=%lu"
		  " mmio_exits=%lu mmio_fast=%lu mmio_slow=%lu mmio_spte_created=%lu mmio_generation_misses=%lu"
		  " mmio_invalidations=%lu mmio_generation_wraps=%lu%s\n",
		  vm->name, shadow ? "shadow" : "ept", s->exits, s->io_exits, s->io_string_elements,
		  s->exits_by_reason[EXIT_REASON_CPUID],
		  s->exits_by_reason[EXIT_REASON_RDMSR] + s->exits_by_reason[EXIT_REASON_WRMSR],
		  s->exits_by_reason[EXIT_REASON_CR_ACCESS], s->exits_by_reason[EXIT_REASON_HLT],
		  s->hypercalls, s->exits_by_reason[EXIT_REASON_EPT_VIOLATION],
		  vm->io.unclaimed_reads + vm->io.unclaimed_writes,
		  m->mmio_exits, m->mmio_fast, m->mmio_slow, m->mmio_spte_created, m->mmio_generation_misses,
		  m->mmio_invalidations, m->mmio_generation_wraps, mmu);
}

/* The MMU mode guests run in (when the CPU can run them at all). */
static bool runs_shadow(const struct boot_options *opts)
{
	return opts->mmu == MMU_MODE_SHADOW || !vmx_config()->ept_supported;
}

static bool shadow_mmio_marker_exists(void)
{
	return vmx_caps()->maxphyaddr <= SHADOW_MMIO_MAXPHYADDR_MAX;
}

/*
 * The guest has stopped: the obsolete shadow pages it left are zapped, one
 * batch after another, as the run loop would have done between entries (so
 * the stats line counts them).  Each batch zaps at least one page while any
 * is obsolete, so more batches than pages means the MMU lost count.
 */
static bool drain_obsolete_pages(struct vm *vm)
{
	uint64_t limit = vm->mmu.stats.shadow_pages + 1, steps = 0;

	while (mmu_zap_obsolete_step(&vm->mmu)) {
		if (++steps > limit) {
			log_error("vmm: guest %s: error: shadow pages leaked: obsolete pages still left after %lu zap batches\n",
				  vm->name, steps);
			return false;
		}
	}
	return true;
}

/* Frees the VM; a shadow page or MMU metadata page it did not give back turns status into VMM_STATUS_MMU_LEAK. */
static int destroy_vm(struct vm *vm, const char *name, int status)
{
	uint64_t leaked = vm_destroy(vm);

	if (!leaked)
		return status;
	log_error("vmm: guest %s: error: shadow pages leaked: the MMU kept %lu host pages after it was destroyed\n",
		  name, leaked);
	return VMM_STATUS_MMU_LEAK;
}

static int refuse(const char *name, const char *why)
{
	log_error("vmm: guest %s: refused: %s\n", name, why);
	return VMM_STATUS_GUEST_REFUSED;
}

/*
 * The guest modules of the guest h->modules[g]: the marked modules right
 * after it, each given to the guest as its bytes and "NAME ARGS" (the
 * marker dropped).  Boot module memory stays reserved while guests run, so
 * the specs may point into it.  Returns how many.
 */
static size_t guest_modules_of(const struct boot_handover *h, uint32_t g,
			       struct mb_module_spec specs[BOOT_MAX_MODULES])
{
	size_t n = 0;
	uint32_t i;

	for (i = g + 1; i < h->module_count && is_guest_module(&h->modules[i]); i++, n++) {
		const struct boot_module *m = &h->modules[i];

		specs[n].data = (const void *)(uintptr_t)m->start;
		specs[n].size = m->end - m->start;
		specs[n].cmdline = m->cmdline + 1;
	}
	return n;
}

static int run_module(const struct boot_handover *h, const struct boot_module *m,
		      const struct boot_options *opts)
{
	struct mb_module_spec mods[BOOT_MAX_MODULES];
	size_t nmods = guest_modules_of(h, (uint32_t)(m - h->modules), mods), i;
	struct phys_range hole = multiboot_reserved_low_range();
	char name[VM_NAME_MAX], err[384];
	struct elf_load_result elf;
	uint64_t mbi, end;
	struct vcpu *v;
	struct vm *vm;
	bool shadow, drained;
	int status;

	strlcpy(name, m->cmdline, sizeof(name));
	name[module_name_len(m) < sizeof(name) ? module_name_len(m) : sizeof(name) - 1] = '\0';
	if (!vmx_config()->guests_supported)
		return refuse(name, "this CPU lacks VMX controls the VMM needs (see the vmx: lines above)");
	if (opts->mmu == MMU_MODE_EPT && !vmx_config()->ept_supported)
		return refuse(name, "mmu=ept needs EPT with unrestricted guest, which this CPU lacks; mmu=shadow runs guests without them");
	shadow = runs_shadow(opts);
	if (opts->guest_mem + VMM_RESERVE_BYTES > memory_free_bytes()) {
		fmt_snprintf(err, sizeof(err), "guest_mem=%luM does not fit: %luM free",
			     opts->guest_mem >> 20, memory_free_bytes() >> 20);
		return refuse(name, err);
	}

	vm = vm_create(name, opts->guest_mem, vmx_caps()->maxphyaddr, opts->mmu_pages);
	vm->watchdog_cycles = opts->watchdog_cycles;
	vm->mmu.zap_slow = opts->zap == ZAP_SLOW;
	vm->mmu.mmio_caching = opts->mmio_caching && (!shadow || shadow_mmio_marker_exists());
	if (elf_load_multiboot((const void *)(uintptr_t)m->start, m->end - m->start, &vm->ram,
			       &hole, 1, &elf, err, sizeof(err)) ||
	    multiboot_info_build(&vm->ram, elf.end, m->cmdline, mods, nmods, &mbi, &end, err,
				 sizeof(err))) {
		status = destroy_vm(vm, name, VMM_STATUS_GUEST_REFUSED);
		return status == VMM_STATUS_GUEST_REFUSED ? refuse(name, err) : status;
	}
	log_info("vmm: guest %s: ELF%u entry %#lx, loaded [%#lx, %#lx), multiboot info at %#lx, %luM RAM, mmu=%s\n",
		 name, elf.elf_class, elf.entry, elf.start, elf.end, mbi, vm->ram.size >> 20,
		 shadow ? "shadow" : "ept");
	for (i = 0; i < nmods; i++) {
		uint32_t entry = (uint32_t)(mbi + MB_INFO_MODS_OFFSET + 16 * i);
		uint32_t range[2];

		memcpy(range, guest_ram_ptr(&vm->ram, entry), sizeof(range));	/* mod_start, mod_end */
		log_info("vmm: guest %s: module %zu '%s' at [%#x, %#x), %zu bytes\n", name, i,
			 mods[i].cmdline, range[0], range[1], mods[i].size);
	}

	vmx_reset_guest_msrs();
	v = vcpu_create(vm, (uint32_t)elf.entry, (uint32_t)mbi, shadow);
	if (v)
		vcpu_run(v);
	uart16550_flush(&vm->uart);
	status = vm->status;
	drained = drain_obsolete_pages(vm);
	print_stats(vm, shadow);
	if (!drained)
		status = VMM_STATUS_MMU_LEAK;
	if (v)
		vcpu_destroy(v);
	return destroy_vm(vm, name, status);
}

int run_guests(const struct boot_handover *h, const struct boot_options *opts)
{
	const char *p = opts->guests;
	int final = -1;
	uint32_t i;

	if (!strcmp(p, "none"))
		return -1;
	if (runs_shadow(opts) && opts->mmio_caching && !shadow_mmio_marker_exists())
		log_error("vmm: mmio: MMIO caching is off: under mmu=shadow it needs a reserved physical-address bit, and MAXPHYADDR is %u\n",
			  vmx_caps()->maxphyaddr);
	if (!h->module_count) {
		if (*p)
			log_error("vmm: error: guest=%s, but no guest modules were loaded\n", p);
		return *p ? VMM_STATUS_BAD_CMDLINE : -1;
	}
	if (is_guest_module(&h->modules[0])) {
		log_error("vmm: error: boot module 0 '%s' is a guest module ('+' before its name) but no guest module comes before it\n",
			  h->modules[0].cmdline);
		return VMM_STATUS_BAD_CMDLINE;
	}
	for (i = 0; *p || (!opts->guests[0] && i < h->module_count); i++) {
		const struct boot_module *m;
		int status;

		if (!opts->guests[0] && is_guest_module(&h->modules[i]))
			continue;	/* given to the guest before it */
		if (opts->guests[0]) {
			size_t len = 0;

			while (p[len] && p[len] != ',')
				len++;
			m = find_module(h, p, len);
			if (!m) {
				log_error("vmm: error: guest=: no module named '%.*s'\n", (int)len, p);
				vmm_exit(VMM_STATUS_BAD_CMDLINE);
			}
			p += len + (p[len] == ',');
		} else {
			m = &h->modules[i];
		}
		status = run_module(h, m, opts);
		log_error("vmm: guest %.*s: exit status %d\n", (int)module_name_len(m), m->cmdline,
			  status);
		if (final == -1 || (final == GUEST_STATUS_PASS && status != GUEST_STATUS_PASS))
			final = status;
	}
	return final;
}
