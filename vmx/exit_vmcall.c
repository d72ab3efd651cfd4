/* VMCALL: the hypercall interface of the test guests (docs/guests.md). */
#include "vmx/exits.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_ops.h"
#include "vmm/log.h"
#include "vmm/x86.h"

#define HC_PING			0
#define HC_PUTS			1
#define HC_EXIT			2
#define HC_MEMSLOT_ADD		16
#define HC_MEMSLOT_DELETE	17
#define HC_MEMSLOT_MOVE		18
#define HC_MMIO_DEVICE_MOVE	19
#define HC_MEMSLOT_GENERATION	20
#define HC_MMU_ZAP_ALL		21
#define HC_MMU_STATS		22
#define HC_PING_ANSWER		0x564d4d01	/* "VMM", interface version 1 */
#define HC_PUTS_MAX		4096
#define HC_ENOSYS		(-1000)		/* as KVM's -KVM_ENOSYS */
#define HC_EPERM		(-1)
#define HC_EFAULT		(-14)
#define HC_EINVAL		(-22)

static int64_t hypercall_puts(struct vcpu *v, uint64_t gpa, uint64_t len)
{
	const char *text;

	if (len > HC_PUTS_MAX)
		return HC_EINVAL;
	text = vm_gpa_to_host(v->vm, gpa, len);
	if (!text)
		return HC_EFAULT;
	vm_console_write(v->vm, text, len);
	return 0;
}

/*
 * Invalidates every translation the VMM built for the guest.  Shadow mode:
 * every shadow page at once (in O(1), the pages freed in batches between
 * entries; zap=slow walks them all now).  EPT mode: the RAM mappings are
 * exact and made eagerly, so what the VMM builds on demand is the MMIO
 * entries: all dropped, and INVEPT.
 */
static int64_t hypercall_mmu_zap_all(struct vcpu *v)
{
	struct vm *vm = v->vm;

	if (v->shadow) {
		mmu_invalidate_all(&vm->mmu);
	} else {
		ept_drop_mmio(&vm->ept);
		ept_flush(&vm->ept);
	}
	return 0;
}

/* One MMU counter, so a guest can watch an invalidation's progress (docs/guests.md numbers them). */
static int64_t hypercall_mmu_stats(struct vcpu *v, uint64_t index)
{
	const struct mmu_stats *m = &v->vm->mmu.stats;

	switch (index) {
	case 0:
		return (int64_t)m->shadow_pages;
	case 1:
		return (int64_t)m->obsolete_pages;
	case 2:
		return (int64_t)m->invalidations;
	case 3:
		return (int64_t)m->obsolete_zapped;
	case 4:
		return (int64_t)m->zap_batches;
	case 5:
		return (int64_t)m->zap_longest_batch;
	default:
		return HC_EINVAL;
	}
}

void handle_vmcall(struct vcpu *v)
{
	uint64_t nr = v->regs.rax, a0 = v->regs.rbx, a1 = v->regs.rcx;
	int64_t result;

	v->vm->stats.hypercalls++;
	/* 64-bit arguments in 64-bit mode only (CS.L), as KVM's is_64_bit_hypercall(). */
	if (!vcpu_in_64bit_mode(v)) {
		nr &= 0xffffffffull;
		a0 &= 0xffffffffull;
		a1 &= 0xffffffffull;
	}
	if (vcpu_cpl() != 0) {
		result = HC_EPERM;	/* hypercalls are for the guest kernel, not its programs */
	} else {
		switch (nr) {
		case HC_PING:
			result = HC_PING_ANSWER;
			break;
		case HC_PUTS:
			result = hypercall_puts(v, a0, a1);
			break;
		case HC_EXIT:
			vm_guest_exit(v->vm, (uint32_t)a0);
			result = 0;
			break;
		/* vm.c checks every argument: ranges against MAXPHYADDR, alignment, sizes, overlaps, slot ids. */
		case HC_MEMSLOT_ADD:
			result = vm_memslot_create(v->vm, a0, a1);
			break;
		case HC_MEMSLOT_DELETE:
			result = vm_memslot_delete(v->vm, a0);
			break;
		case HC_MEMSLOT_MOVE:
			result = vm_memslot_move(v->vm, a0, a1);
			break;
		case HC_MMIO_DEVICE_MOVE:
			result = vm_testdev_move(v->vm, a0);
			break;
		case HC_MEMSLOT_GENERATION:
			result = (int64_t)v->vm->memslot_generation;
			break;
		case HC_MMU_ZAP_ALL:
			result = hypercall_mmu_zap_all(v);
			break;
		case HC_MMU_STATS:
			result = hypercall_mmu_stats(v, a0);
			break;
		default:
			result = HC_ENOSYS;
			break;
		}
	}
	v->regs.rax = (uint64_t)result;
	vcpu_skip_instruction(v);
}
