/* Emulating guest instructions against RAM and the MMIO bus, and the EPT exits that lead there (violation, misconfiguration). */
#include "mmu/spte.h"
#include "vmx/exits.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_ops.h"
#include "vmm/format.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/status.h"
#include "vmm/string.h"
#include "vmm/x86.h"

#define RFLAGS_VM	(1ull << 17)
#define PENDING_DBG_BS	(1ull << 14)
#define PAGE_4K		0x1000ull
#define PAGE_OFFSET	(PAGE_4K - 1)

/* EPT-violation exit qualification (SDM 28.2.1, table 28-7). */
#define EPT_QUAL_GLA_VALID	(1ull << 7)
#define EPT_QUAL_GLA_TRANSLATED	(1ull << 8)	/* with GLA_VALID: the access to the final address, not to a paging structure */

/* The callbacks' view of one emulation. */
struct emu_ctx {
	struct vcpu *v;
	struct vcpu_emulation *e;
};

/* One page's part of an access: guest RAM (host) or, when host is NULL, devices on the MMIO bus. */
struct piece {
	uint64_t gpa;
	unsigned len;
	void *host;
};

/* What a translation already knows about the page it found, sparing the memslot lookup. */
enum page_kind {
	PAGE_UNKNOWN,	/* look the gpa up */
	PAGE_RAM,	/* a shadow leaf maps it: guest RAM at the host address given */
	PAGE_NOT_RAM,	/* the MMU's fault found no memslot there in this exit (memslots change only in hypercalls) */
};

static enum emu_result page_fault(uint64_t linear, uint32_t error_code, struct emu_exception *exc)
{
	exc->vector = EMU_VEC_PF;
	exc->has_error = true;
	exc->error_code = error_code;
	exc->cr2 = linear;
	return EMU_EXCEPTION;
}

/*
 * Shadow mode: the MMU resolved the faulting linear page to hint_gpa's page
 * and checked the access the guest's tables allow for the faulting access
 * (on the fast path from the MMIO spte's access bits, whose D-bit rule
 * makes a write there need no walk).  Another access to that page may use
 * it when it asks no more: not a fetch, the same user/supervisor kind, and
 * a write only if the fault was one.  Anything else takes the software
 * walk, which checks permissions and sets A/D bits as the CPU would.
 */
static bool hint_covers(const struct vcpu_emulation *e, uint64_t linear, unsigned access)
{
	uint32_t ec = e->hint_error_code;

	return e->have_hint && (linear & ~PAGE_OFFSET) == (e->hint_gva & ~PAGE_OFFSET) &&
	       !(access & WALK_FETCH) && !(ec & PFERR_FETCH) &&
	       !(access & WALK_USER) == !(ec & PFERR_USER) &&
	       (!(access & WALK_WRITE) || (ec & PFERR_WRITE));
}

/*
 * Shadow mode tries, before the software walk of the guest's tables, the
 * MMU's hint and then the shadow leaf for the page (what the CPU itself
 * would use: exact, see mmu_spte_translate()).  The instruction fetch is
 * almost always served by the leaf, since the guest just ran that code.
 */
static enum emu_result translate(struct emu_ctx *c, uint64_t linear, unsigned access, uint64_t *gpa,
				 enum page_kind *kind, uint64_t *host_pa, struct emu_exception *exc)
{
	uint32_t error_code;

	if (hint_covers(c->e, linear, access)) {
		*gpa = (c->e->hint_gpa & ~PAGE_OFFSET) | (linear & PAGE_OFFSET);
		*kind = c->e->hint_not_ram ? PAGE_NOT_RAM : PAGE_UNKNOWN;
		return EMU_OK;
	}
	if (c->v->shadow && mmu_spte_translate(&c->v->mmu, linear, access, gpa, host_pa)) {
		*kind = PAGE_RAM;
		return EMU_OK;
	}
	*kind = PAGE_UNKNOWN;
	if (!vcpu_gva_to_gpa(c->v, linear, access, gpa, &error_code))
		return page_fault(linear, error_code, exc);
	return EMU_OK;
}

static enum emu_result nothing_there(struct emu_ctx *c, uint64_t gpa, uint64_t linear)
{
	c->e->nothing_there = true;
	c->e->nothing_gpa = gpa;
	c->e->nothing_linear = linear;
	return EMU_UNHANDLED;
}

/*
 * Splits [linear, linear + len) at the page boundary, translates every page
 * and finds what is at each gpa range, all before any byte moves, so that a
 * fault or an access to nothing leaves guest memory and devices untouched.
 */
static enum emu_result map_access(struct emu_ctx *c, uint64_t linear, unsigned len, unsigned access,
				  struct piece p[2], unsigned *n, struct emu_exception *exc)
{
	struct vm *vm = c->v->vm;
	unsigned first = (unsigned)(PAGE_4K - (linear & PAGE_OFFSET)), i;
	enum page_kind kind[2];
	uint64_t host_pa[2] = { 0, 0 };
	enum emu_result r;

	if (first > len)
		first = len;
	p[0].len = first;
	p[1].len = len - first;
	*n = first < len ? 2 : 1;
	for (i = 0; i < *n; i++) {
		r = translate(c, linear + (i ? first : 0), access, &p[i].gpa, &kind[i], &host_pa[i], exc);
		if (r != EMU_OK)
			return r;
	}
	for (i = 0; i < *n; i++) {
		uint64_t la = linear + (i ? first : 0);

		/* Memslots are page-granular: one page's part is all RAM or none of it. */
		if (kind[i] == PAGE_RAM)
			p[i].host = phys_to_virt(host_pa[i]);
		else if (kind[i] == PAGE_NOT_RAM)
			p[i].host = NULL;
		else
			p[i].host = vm_gpa_to_host(vm, p[i].gpa, p[i].len);
		if (p[i].host)
			continue;
		if (access & WALK_FETCH) {
			c->e->fetch_not_ram = true;
			c->e->nothing_gpa = p[i].gpa;
			c->e->nothing_linear = la;
			return EMU_UNHANDLED;
		}
		if (!mmio_bus_claims(&vm->mmio, p[i].gpa, p[i].len))
			return nothing_there(c, p[i].gpa, la);
	}
	return EMU_OK;
}

static enum emu_result read_access(struct emu_ctx *c, uint64_t linear, void *buf, unsigned len, unsigned access,
				   struct emu_exception *exc)
{
	struct piece p[2];
	unsigned n, i, done = 0;
	enum emu_result r = map_access(c, linear, len, access, p, &n, exc);

	if (r != EMU_OK)
		return r;
	for (i = 0; i < n; done += p[i].len, i++) {
		if (p[i].host)
			memcpy((char *)buf + done, p[i].host, p[i].len);
		else if (!mmio_bus_read(&c->v->vm->mmio, p[i].gpa, (char *)buf + done, p[i].len))
			return nothing_there(c, p[i].gpa, linear + done);	/* claimed a moment ago: cannot happen */
	}
	return EMU_OK;
}

static enum emu_result emu_fetch(void *ctx, uint64_t linear, void *buf, unsigned len, bool user,
				 struct emu_exception *exc)
{
	return read_access(ctx, linear, buf, len, WALK_FETCH | (user ? WALK_USER : 0), exc);
}

static enum emu_result emu_read(void *ctx, uint64_t linear, void *buf, unsigned len, bool user,
				struct emu_exception *exc)
{
	return read_access(ctx, linear, buf, len, vcpu_data_access(user, false), exc);
}

/* RAM through vcpu_write_guest(): in shadow mode the MMU sees writes to the guest tables it shadows (8 bytes at most a call). */
static void write_ram(struct vcpu *v, uint64_t gpa, const char *buf, unsigned len)
{
	unsigned done, chunk;

	for (done = 0; done < len; done += chunk) {
		chunk = len - done > 8 ? 8 : len - done;
		vcpu_write_guest(v, gpa + done, buf + done, chunk);
	}
}

static enum emu_result emu_write(void *ctx, uint64_t linear, const void *buf, unsigned len, bool user,
				 struct emu_exception *exc)
{
	struct emu_ctx *c = ctx;
	struct piece p[2];
	unsigned n, i, done = 0;
	enum emu_result r = map_access(c, linear, len, vcpu_data_access(user, true), p, &n, exc);

	if (r != EMU_OK)
		return r;
	for (i = 0; i < n; done += p[i].len, i++) {
		if (p[i].host)
			write_ram(c->v, p[i].gpa, (const char *)buf + done, p[i].len);
		else if (!mmio_bus_write(&c->v->vm->mmio, p[i].gpa, (const char *)buf + done, p[i].len))
			return nothing_there(c, p[i].gpa, linear + done);
	}
	return EMU_OK;
}

static void read_segment(void *ctx, unsigned sreg, struct emu_segment *seg)
{
	(void)ctx;
	uint32_t ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2 * sreg);

	seg->base = vmread(VMCS_GUEST_ES_BASE + 2 * sreg);
	seg->limit = (uint32_t)vmread(VMCS_GUEST_ES_LIMIT + 2 * sreg);
	seg->type = ar & 0xf;
	seg->db = ar & SEG_AR_DB;
	seg->usable = !(ar & SEG_AR_UNUSABLE);
}

/*
 * The guest's XMM registers for the SSE moves.  They are still live in the
 * CPU during the exit: a VM exit does not touch them, and the VMM never
 * uses SSE itself (VMM_CFLAGS has -mgeneral-regs-only -mno-mmx -mno-sse
 * -mno-sse2, and nothing in the VMM saves or switches FPU state), so no
 * code between the exit and here has changed them.  vmx.c turns VMX on
 * with CR4.OSFXSR set and CR0.TS/EM clear, so MOVDQU works; should either
 * ever differ, it is lifted around the one instruction and put back.  The
 * emulator only calls these after its own checks of the guest's CR0/CR4.
 */
#define XMM_CASE(n, insn) \
	case n: __asm__ volatile(insn : : "r"(buf) : "memory"); break

static void xmm_access(unsigned n, uint8_t *buf, bool write)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();

	if (!(cr4 & CR4_OSFXSR))
		write_cr4(cr4 | CR4_OSFXSR);
	if (cr0 & (CR0_TS | CR0_EM))
		write_cr0(cr0 & ~(CR0_TS | CR0_EM));
	if (write) {
		switch (n & 15) {
		XMM_CASE(0, "movdqu (%0), %%xmm0");   XMM_CASE(1, "movdqu (%0), %%xmm1");
		XMM_CASE(2, "movdqu (%0), %%xmm2");   XMM_CASE(3, "movdqu (%0), %%xmm3");
		XMM_CASE(4, "movdqu (%0), %%xmm4");   XMM_CASE(5, "movdqu (%0), %%xmm5");
		XMM_CASE(6, "movdqu (%0), %%xmm6");   XMM_CASE(7, "movdqu (%0), %%xmm7");
		XMM_CASE(8, "movdqu (%0), %%xmm8");   XMM_CASE(9, "movdqu (%0), %%xmm9");
		XMM_CASE(10, "movdqu (%0), %%xmm10"); XMM_CASE(11, "movdqu (%0), %%xmm11");
		XMM_CASE(12, "movdqu (%0), %%xmm12"); XMM_CASE(13, "movdqu (%0), %%xmm13");
		XMM_CASE(14, "movdqu (%0), %%xmm14"); XMM_CASE(15, "movdqu (%0), %%xmm15");
		}
	} else {
		switch (n & 15) {
		XMM_CASE(0, "movdqu %%xmm0, (%0)");   XMM_CASE(1, "movdqu %%xmm1, (%0)");
		XMM_CASE(2, "movdqu %%xmm2, (%0)");   XMM_CASE(3, "movdqu %%xmm3, (%0)");
		XMM_CASE(4, "movdqu %%xmm4, (%0)");   XMM_CASE(5, "movdqu %%xmm5, (%0)");
		XMM_CASE(6, "movdqu %%xmm6, (%0)");   XMM_CASE(7, "movdqu %%xmm7, (%0)");
		XMM_CASE(8, "movdqu %%xmm8, (%0)");   XMM_CASE(9, "movdqu %%xmm9, (%0)");
		XMM_CASE(10, "movdqu %%xmm10, (%0)"); XMM_CASE(11, "movdqu %%xmm11, (%0)");
		XMM_CASE(12, "movdqu %%xmm12, (%0)"); XMM_CASE(13, "movdqu %%xmm13, (%0)");
		XMM_CASE(14, "movdqu %%xmm14, (%0)"); XMM_CASE(15, "movdqu %%xmm15, (%0)");
		}
	}
	if (cr0 & (CR0_TS | CR0_EM))
		write_cr0(cr0);
	if (!(cr4 & CR4_OSFXSR))
		write_cr4(cr4);
}

#undef XMM_CASE

static void emu_xmm_read(void *ctx, unsigned n, uint8_t value[16])
{
	(void)ctx;
	xmm_access(n, value, false);
}

static void emu_xmm_write(void *ctx, unsigned n, const uint8_t value[16])
{
	(void)ctx;
	xmm_access(n, (uint8_t *)value, true);	/* only read through */
}

static void read_emu_state(struct vcpu *v, struct emu_state *s)
{
	uint32_t cs_ar = (uint32_t)vmread(VMCS_GUEST_CS_AR);
	unsigned i;

	for (i = 0; i < EMU_NR_GPRS; i++)
		s->gpr[i] = vcpu_gpr(v, i);
	s->rip = vmread(VMCS_GUEST_RIP);
	s->rflags = vmread(VMCS_GUEST_RFLAGS);
	/* The guest's own view of CR0 and CR4 (the read shadows where intercepted): EM, TS, OSFXSR. */
	s->cr0 = vcpu_cr0(v);
	s->cr4 = vcpu_cr4(v);
	s->mode = emu_mode_of(s->cr0 & CR0_PE, s->rflags & RFLAGS_VM, vcpu_long_mode_active(v),
			      cs_ar & SEG_AR_LONG, cs_ar & SEG_AR_DB);
	s->cpl = vcpu_cpl();
}

/* Segments are read from the VMCS when the emulator asks (read_segment). */
static const struct emu_ops vcpu_emu_ops = {
	.fetch = emu_fetch, .read = emu_read, .write = emu_write, .segment = read_segment,
	.xmm_read = emu_xmm_read, .xmm_write = emu_xmm_write,
};

/* Only what the instruction changed goes back (RSP lives in the VMCS: a VMWRITE each). */
static void write_emu_state(struct vcpu *v, const struct emu_state *s, const uint64_t *gpr_before,
			    uint64_t rflags_before)
{
	unsigned i;

	for (i = 0; i < EMU_NR_GPRS; i++) {
		if (s->gpr[i] != gpr_before[i])
			vcpu_set_gpr(v, i, s->gpr[i]);
	}
	vmwrite(VMCS_GUEST_RIP, s->rip);
	if (s->rflags != rflags_before)
		vmwrite(VMCS_GUEST_RFLAGS, s->rflags);
	/* The instruction completed: STI and MOV-SS blocking end with it. */
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~3ull);
}

enum emu_result vcpu_emulate(struct vcpu *v, struct vcpu_emulation *e)
{
	struct emu_ctx c = { v, e };
	struct emu_state s;
	uint64_t gpr_before[EMU_NR_GPRS], rflags_before;
	enum emu_result r;
	bool single_step;

	e->nothing_there = false;
	e->fetch_not_ram = false;
	read_emu_state(v, &s);
	memcpy(gpr_before, s.gpr, sizeof(gpr_before));
	rflags_before = s.rflags;
	e->rip = s.rip;
	single_step = s.rflags & EMU_RFLAGS_TF;
	r = emulate_instruction(&s, &vcpu_emu_ops, &c, &e->out);
	switch (r) {
	case EMU_OK:
		write_emu_state(v, &s, gpr_before, rflags_before);
		/* The trap TF asks for after the instruction (or a REP iteration): the CPU delivers it on entry (pending-debug BS). */
		if (single_step)
			vmwrite(VMCS_GUEST_PENDING_DBG, vmread(VMCS_GUEST_PENDING_DBG) | PENDING_DBG_BS);
		break;
	case EMU_EXCEPTION:
		if (e->out.exc.vector == EMU_VEC_PF)
			v->regs.cr2 = e->out.exc.cr2;
		vcpu_inject_exception(v, e->out.exc.vector, e->out.exc.has_error, e->out.exc.error_code);
		break;
	case EMU_UNHANDLED:
		break;
	}
	return r;
}

/* "0f b6 05 ..." for the log line. */
static void format_bytes(const uint8_t *b, unsigned n, char *buf, size_t size)
{
	size_t used = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < n && used < size; i++)
		used += (size_t)fmt_snprintf(buf + used, size - used, "%s%02x", i ? " " : "", b[i]);
	if (!n)
		fmt_snprintf(buf, size, "none");
}

void vcpu_emulate_mmio(struct vcpu *v, struct vcpu_emulation *e, uint64_t gpa)
{
	struct vm *vm = v->vm;
	char bytes[3 * EMU_MAX_INSN_LEN + 1];

	/* The CPU touched the device while delivering an event (an IDT, GDT or stack there): no instruction to emulate. */
	if (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID) {
		vm_end(vm, VMM_STATUS_GUEST_UNHANDLED,
		       "event delivery (vector %lu) touched guest-physical %#lx, which is not RAM (rip %#lx)",
		       vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VECTOR_MASK, gpa, vmread(VMCS_GUEST_RIP));
		return;
	}
	switch (vcpu_emulate(v, e)) {
	case EMU_OK:
		vm->mmu.stats.mmio_exits++;
		return;
	case EMU_EXCEPTION:
		return;
	case EMU_UNHANDLED:
		break;
	}
	if (e->nothing_there) {
		vm_end(vm, VMM_STATUS_GUEST_UNHANDLED,
		       "access to guest-physical %#lx (linear %#lx) where there is neither RAM nor a device (rip %#lx)",
		       e->nothing_gpa, e->nothing_linear, e->rip);
		return;
	}
	if (e->fetch_not_ram) {
		vm_end(vm, VMM_STATUS_GUEST_UNHANDLED,
		       "instruction fetch at linear %#lx from guest-physical %#lx, which is not RAM (rip %#lx)",
		       e->nothing_linear, e->nothing_gpa, e->rip);
		return;
	}
	format_bytes(e->out.insn, e->out.insn_len, bytes, sizeof(bytes));
	vm_end(vm, VMM_STATUS_GUEST_UNHANDLED,
	       "cannot emulate the MMIO access to guest-physical %#lx at rip %#lx: %s (bytes at rip: %s)",
	       gpa, e->rip, e->out.reason, bytes);
}

/* EPT mode: the exit gives no linear address; the emulator translates every access by the software walk. */
static void emulate_without_hint(struct vcpu *v, uint64_t gpa)
{
	struct vcpu_emulation e = { .have_hint = false };

	vcpu_emulate_mmio(v, &e, gpa);
}

/*
 * An access to a gpa with no RAM, from an EPT violation (qual valid) or a
 * stale MMIO spte (qual 0).  With caching, the leaf becomes an MMIO spte of
 * the current generation, so that the next access to the page exits as a
 * misconfiguration and skips this lookup.
 */
static void ept_mmio_slow(struct vcpu *v, uint64_t gpa, uint64_t qual)
{
	struct vm *vm = v->vm;

	/* The CPU's own walk of the guest's tables hit it: the guest keeps a page table outside RAM. */
	if ((qual & EPT_QUAL_GLA_VALID) && !(qual & EPT_QUAL_GLA_TRANSLATED)) {
		vm_end(vm, VMM_STATUS_GUEST_UNHANDLED,
		       "the page walk for linear %#lx read guest-physical %#lx, which is not RAM (rip %#lx)",
		       vmread(VMCS_GUEST_LINEAR_ADDRESS), gpa, vmread(VMCS_GUEST_RIP));
		return;
	}
	if (vm->mmu.mmio_caching) {
		/* NULL when the host is short of pages or past EPT_MMIO_TABLE_PAGES_MAX: served uncached. */
		uint64_t *leaf = ept_leaf(&vm->ept, gpa, true);

		if (leaf) {
			*leaf = make_mmio_spte(MMIO_SPTE_EPT, gpa >> 12, vm->memslot_generation, ACC_ALL);
			vm->mmu.stats.mmio_spte_created++;
		}
	}
	vm->mmu.stats.mmio_slow++;
	emulate_without_hint(v, gpa);
}

/* gpa is RAM now but its leaf is not present (a stale MMIO spte was just cleared): map the page, the access retries. */
static void ept_map_ram(struct vcpu *v, uint64_t gpa, const struct memslot *m)
{
	uint64_t page = gpa & ~PAGE_OFFSET;

	if (!ept_map(&v->vm->ept, page, m->host_pa + (page - m->base_gfn * PAGE_4K), PAGE_4K))
		vm_end(v->vm, VMM_STATUS_NO_MEMORY, "out of memory for EPT tables");
}

void handle_ept_violation(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t gpa = vmread(VMCS_GUEST_PHYSICAL_ADDRESS), qual = vmread(VMCS_EXIT_QUALIFICATION);
	const struct memslot *m;

	/* 4-level EPT translates 48 bits: a higher gpa (a host with MAXPHYADDR > 48) would alias a lower one. */
	if (gpa >> 48) {
		vm_end(vm, VMM_STATUS_GUEST_UNHANDLED,
		       "access to guest-physical %#lx, above the 48 bits 4-level EPT maps (rip %#lx)",
		       gpa, vmread(VMCS_GUEST_RIP));
		return;
	}
	m = vm_memslot_of(vm, gpa >> 12);

	if (m) {
		uint64_t *leaf = ept_leaf(&vm->ept, gpa, false);

		/* Memslots are mapped whole with every permission: a violation on one is not the guest's doing. */
		if (leaf && *leaf) {
			vm_end(vm, VMM_STATUS_GUEST_UNHANDLED,
			       "EPT violation at guest-physical %#lx, RAM mapped by entry %#lx (qualification %#lx, rip %#lx): a VMM bug",
			       gpa, *leaf, qual, vmread(VMCS_GUEST_RIP));
			return;
		}
		ept_map_ram(v, gpa, m);
		return;
	}
	ept_mmio_slow(v, gpa, qual);
}

void handle_ept_misconfig(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t gpa = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
	uint64_t *leaf = ept_leaf(&vm->ept, gpa, false);
	const struct memslot *m;

	/* Only MMIO sptes are misconfigured on purpose; anything else is the VMM's mistake. */
	if (!leaf || !is_mmio_spte(MMIO_SPTE_EPT, *leaf) || mmio_spte_gfn(*leaf) != gpa >> 12) {
		int level = 0;
		uint64_t entry = ept_lookup(&vm->ept, gpa, &level);

		vm_end(vm, VMM_STATUS_GUEST_UNHANDLED,
		       "EPT misconfiguration at guest-physical %#lx (level %d entry %#lx) that is no MMIO spte: a VMM bug",
		       gpa, level + 1, entry);
		return;
	}
	if (mmio_generation_current(mmio_spte_generation(*leaf), vm->memslot_generation)) {
		vm->mmu.stats.mmio_fast++;
		emulate_without_hint(v, gpa);
		return;
	}
	/* Made before the last memslot change: what is at gpa now decides. */
	vm->mmu.stats.mmio_generation_misses++;
	*leaf = 0;
	m = vm_memslot_of(vm, gpa >> 12);
	if (m)
		ept_map_ram(v, gpa, m);
	else
		ept_mmio_slow(v, gpa, 0);
}
