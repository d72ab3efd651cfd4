/* #PF exits under shadow paging: the MMU's fault path, the emulator for writes to write-protected guest tables, and MMIO. */
#include "mmu/mmu.h"
#include "vmx/exits.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_ops.h"
#include "vmm/emulate.h"
#include "vmm/log.h"
#include "vmm/status.h"
#include "vmm/string.h"
#include "vmm/x86.h"

/*
 * Unprotects gfn so the guest's retry of the write at rip runs natively.  If
 * the previous exit did the same for the same write, the retry re-shadowed
 * the table before it could write it (a table that maps itself, or a frame
 * pushed onto one): no progress is possible, and the guest ends.
 */
static void unprotect_and_retry(struct vcpu *v, uint64_t gpa, const char *why)
{
	uint64_t rip = vmread(VMCS_GUEST_RIP), gfn = gpa >> 12, exits = v->vm->stats.exits;

	if (v->unprotected.exit + 1 == exits && v->unprotected.rip == rip && v->unprotected.gfn == gfn) {
		vm_end(v->vm, VMM_STATUS_GUEST_UNHANDLED,
		       "a write at rip %#lx to its own page table (gfn %#lx) can be neither emulated (%s) nor retried",
		       rip, gfn, why);
		return;
	}
	v->unprotected.exit = exits;
	v->unprotected.rip = rip;
	v->unprotected.gfn = gfn;
	v->vm->stats.emulation_failed++;
	mmu_unprotect_gfn(&v->vm->mmu, gfn);
}

/*
 * The guest wrote a page the MMU write-protects because it holds a shadowed
 * guest table.  Emulating the instruction lets the MMU see the new entry;
 * an instruction the emulator does not know unprotects the page instead
 * (its shadow pages go) and the guest retries the write natively.
 */
static void emulate_table_write(struct vcpu *v, uint64_t gva, uint64_t gpa, uint32_t error_code)
{
	struct vcpu_emulation e = {
		.have_hint = true, .hint_gva = gva, .hint_gpa = gpa, .hint_error_code = error_code,
	};

	switch (vcpu_emulate(v, &e)) {
	case EMU_OK:
		v->vm->stats.emulated++;
		break;
	case EMU_EXCEPTION:
		break;
	case EMU_UNHANDLED:
		log_debug("vmm: guest %s: cannot emulate the write at rip %#lx (%s): unprotecting gfn %#lx\n",
			  v->vm->name, e.rip, e.out.reason, gpa >> 12);
		unprotect_and_retry(v, gpa, e.out.reason);
		break;
	}
}

void handle_page_fault(struct vcpu *v, uint64_t gva, uint32_t error_code)
{
	bool ac = vmread(VMCS_GUEST_RFLAGS) & RFLAGS_AC;
	uint64_t gpa = 0;

	v->vm->stats.page_faults++;
	switch (mmu_page_fault(&v->mmu, gva, error_code, vcpu_cpl(), ac, &gpa)) {
	case MMU_PF_RETRY:
	case MMU_PF_INJECTED:
		return;
	case MMU_PF_EMULATE:
		/* A fault while the CPU delivered an event (pushing a frame onto a table's page) cannot be emulated. */
		if (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID) {
			unprotect_and_retry(v, gpa, "the CPU was delivering an event");
			return;
		}
		emulate_table_write(v, gva, gpa, error_code);
		return;
	case MMU_PF_MMIO: {
		/* The MMU counted it (mmio_fast or mmio_slow) and, with caching, left an MMIO spte for the next access. */
		struct vcpu_emulation e = {
			.have_hint = true, .hint_gva = gva, .hint_gpa = gpa, .hint_error_code = error_code,
			.hint_not_ram = true,
		};

		vcpu_emulate_mmio(v, &e, gpa);
		return;
	}
	case MMU_PF_NO_MEMORY:
		vm_end(v->vm, VMM_STATUS_NO_MEMORY, "out of memory for shadow page tables");
		return;
	case MMU_PF_BAD_FAULT:
		vm_end(v->vm, VMM_STATUS_GUEST_UNHANDLED,
		       "#PF with error code %#x at %#lx that no shadow entry can cause: a VMM bug", error_code, gva);
		return;
	}
}
