/* #PF exits under shadow paging: the MMU's fault path, and the emulator for writes to write-protected guest tables. */
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

#define RFLAGS_VM	(1ull << 17)
#define SEG_AR_LONG	(1u << 13)
#define SEG_AR_DB	(1u << 14)
#define PENDING_DBG_BS	(1ull << 14)

static enum emu_result page_fault(uint64_t linear, uint32_t error_code, struct emu_exception *exc)
{
	exc->vector = EMU_VEC_PF;
	exc->has_error = true;
	exc->error_code = error_code;
	exc->cr2 = linear;
	return EMU_EXCEPTION;
}

/* Translates every page of [linear, linear + len) before anything is copied, so a fault changes nothing. */
static enum emu_result translate_range(struct vcpu *v, uint64_t linear, unsigned len, unsigned access,
				       uint64_t gpa[2], unsigned *first_len, struct emu_exception *exc)
{
	uint32_t error_code;

	*first_len = 0x1000 - (linear & 0xfff);
	if (*first_len > len)
		*first_len = len;
	if (!vcpu_gva_to_gpa(v, linear, access, &gpa[0], &error_code))
		return page_fault(linear, error_code, exc);
	if (*first_len < len && !vcpu_gva_to_gpa(v, linear + *first_len, access, &gpa[1], &error_code))
		return page_fault(linear + *first_len, error_code, exc);
	return EMU_OK;
}

static enum emu_result copy_from_guest(struct vcpu *v, uint64_t linear, void *buf, unsigned len,
				       unsigned access, struct emu_exception *exc)
{
	uint64_t gpa[2];
	unsigned first;
	enum emu_result r = translate_range(v, linear, len, access, gpa, &first, exc);
	const void *a, *b = NULL;

	if (r != EMU_OK)
		return r;
	a = vm_gpa_to_host(v->vm, gpa[0], first);
	if (first < len)
		b = vm_gpa_to_host(v->vm, gpa[1], len - first);
	if (!a || (first < len && !b))
		return EMU_UNHANDLED;	/* not RAM: MMIO comes with its own issue */
	memcpy(buf, a, first);
	if (first < len)
		memcpy((char *)buf + first, b, len - first);
	return EMU_OK;
}

static enum emu_result emu_fetch(void *ctx, uint64_t linear, void *buf, unsigned len, bool user,
				 struct emu_exception *exc)
{
	return copy_from_guest(ctx, linear, buf, len, WALK_FETCH | (user ? WALK_USER : 0), exc);
}

static enum emu_result emu_read(void *ctx, uint64_t linear, void *buf, unsigned len, bool user,
				struct emu_exception *exc)
{
	return copy_from_guest(ctx, linear, buf, len, vcpu_data_access(user, false), exc);
}

static enum emu_result emu_write(void *ctx, uint64_t linear, const void *buf, unsigned len, bool user,
				 struct emu_exception *exc)
{
	struct vcpu *v = ctx;
	uint64_t gpa[2];
	unsigned first;
	enum emu_result r = translate_range(v, linear, len, vcpu_data_access(user, true), gpa, &first, exc);

	if (r != EMU_OK)
		return r;
	if (!vm_gpa_to_host(v->vm, gpa[0], first) ||
	    (first < len && !vm_gpa_to_host(v->vm, gpa[1], len - first)))
		return EMU_UNHANDLED;
	vcpu_write_guest(v, gpa[0], buf, first);
	if (first < len)
		vcpu_write_guest(v, gpa[1], (const char *)buf + first, len - first);
	return EMU_OK;
}

static const struct emu_ops vcpu_emu_ops = { emu_fetch, emu_read, emu_write };

static void read_segment(unsigned sreg, struct emu_segment *seg)
{
	uint32_t ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2 * sreg);

	seg->base = vmread(VMCS_GUEST_ES_BASE + 2 * sreg);
	seg->limit = (uint32_t)vmread(VMCS_GUEST_ES_LIMIT + 2 * sreg);
	seg->type = ar & 0xf;
	seg->db = ar & SEG_AR_DB;
	seg->usable = !(ar & SEG_AR_UNUSABLE);
}

static void read_emu_state(struct vcpu *v, struct emu_state *s)
{
	uint32_t cs_ar = (uint32_t)vmread(VMCS_GUEST_CS_AR);
	unsigned i;

	for (i = 0; i < EMU_NR_GPRS; i++)
		s->gpr[i] = vcpu_gpr(v, i);
	s->rip = vmread(VMCS_GUEST_RIP);
	s->rflags = vmread(VMCS_GUEST_RFLAGS);
	s->mode = emu_mode_of(vcpu_cr0(v) & CR0_PE, s->rflags & RFLAGS_VM, vcpu_long_mode_active(v),
			      cs_ar & SEG_AR_LONG, cs_ar & SEG_AR_DB);
	for (i = 0; i < EMU_NR_SREGS; i++)
		read_segment(i, &s->seg[i]);
	s->cpl = vcpu_cpl();
}

static void write_emu_state(struct vcpu *v, const struct emu_state *s)
{
	unsigned i;

	for (i = 0; i < EMU_NR_GPRS; i++)
		vcpu_set_gpr(v, i, s->gpr[i]);
	vmwrite(VMCS_GUEST_RIP, s->rip);
	vmwrite(VMCS_GUEST_RFLAGS, s->rflags);
	/* The instruction completed: STI and MOV-SS blocking end with it. */
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~3ull);
}

/*
 * The guest wrote a page the MMU write-protects because it holds a shadowed
 * guest table.  Emulating the instruction lets the MMU see the new entry;
 * an instruction the emulator does not know unprotects the page instead
 * (its shadow pages go) and the guest retries the write natively.
 */
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

static void emulate_table_write(struct vcpu *v, uint64_t gpa)
{
	struct emu_state s;
	struct emu_outcome out;
	bool single_step;

	read_emu_state(v, &s);
	single_step = s.rflags & EMU_RFLAGS_TF;
	switch (emulate_instruction(&s, &vcpu_emu_ops, v, &out)) {
	case EMU_OK:
		write_emu_state(v, &s);
		/* The trap TF asks for after the instruction: the CPU delivers it on entry (pending-debug BS). */
		if (single_step)
			vmwrite(VMCS_GUEST_PENDING_DBG, vmread(VMCS_GUEST_PENDING_DBG) | PENDING_DBG_BS);
		v->vm->stats.emulated++;
		break;
	case EMU_EXCEPTION:
		if (out.exc.vector == EMU_VEC_PF)
			v->regs.cr2 = out.exc.cr2;
		vcpu_inject_exception(v, out.exc.vector, out.exc.has_error, out.exc.error_code);
		break;
	case EMU_UNHANDLED:
		log_debug("vmm: guest %s: cannot emulate the write at rip %#lx (%s): unprotecting gfn %#lx\n",
			  v->vm->name, s.rip, out.reason, gpa >> 12);
		unprotect_and_retry(v, gpa, out.reason);
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
		emulate_table_write(v, gpa);
		return;
	case MMU_PF_MMIO:
		vm_end(v->vm, VMM_STATUS_GUEST_UNHANDLED,
		       "access to guest-physical %#lx (linear %#lx) where there is neither RAM nor a device (rip %#lx)",
		       gpa, gva, vmread(VMCS_GUEST_RIP));
		return;
	case MMU_PF_NO_MEMORY:
		vm_end(v->vm, VMM_STATUS_NO_MEMORY, "out of memory for shadow page tables");
		return;
	case MMU_PF_BAD_FAULT:
		vm_end(v->vm, VMM_STATUS_GUEST_UNHANDLED,
		       "#PF with error code %#x at %#lx that no shadow entry can cause: a VMM bug", error_code, gva);
		return;
	}
}
