/* guest_linear_to_physical(): a minimal walk of the guest's page tables. */
#include "vmx/guest_walk.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_ops.h"
#include "vmm/x86.h"

#define PTE_P		(1ull << 0)
#define PTE_RW		(1ull << 1)
#define PTE_PS		(1ull << 7)
#define ADDR_MASK_52	0x000ffffffffff000ull

static bool read_entry(struct vcpu *v, uint64_t gpa, unsigned size, uint64_t *entry)
{
	void *p = vm_gpa_to_host(v->vm, gpa, size);

	if (!p)
		return false;
	*entry = size == 8 ? *(uint64_t *)p : *(uint32_t *)p;
	return true;
}

static int fault(bool present, bool write, uint32_t *pf_error)
{
	*pf_error = (present ? PF_PRESENT : 0) | (write ? PF_WRITE : 0) |
		    (vcpu_cpl() == 3 ? PF_USER : 0);
	return -1;
}

/* Walks `levels` levels of 8-byte entries from `table`; a PS bit ends the walk at levels 2 and 3. */
static int walk64(struct vcpu *v, uint64_t table, int levels, uint64_t linear, bool write,
		  uint64_t *gpa, uint32_t *pf_error)
{
	int level;

	for (level = levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t e;

		if (!read_entry(v, table + ((linear >> shift) & 511) * 8, 8, &e) || !(e & PTE_P))
			return fault(false, write, pf_error);
		if (write && !(e & PTE_RW))
			return fault(true, write, pf_error);
		if (level == 1 || (level <= 3 && (e & PTE_PS))) {
			uint64_t page_mask = (1ull << shift) - 1;

			*gpa = (e & ADDR_MASK_52 & ~page_mask) | (linear & page_mask);
			return 0;
		}
		table = e & ADDR_MASK_52;
	}
	return fault(false, write, pf_error);
}

int guest_linear_to_physical(struct vcpu *v, uint64_t linear, bool write, uint64_t *gpa,
			     uint32_t *pf_error)
{
	uint64_t cr0 = vmread(VMCS_GUEST_CR0), cr4 = vmread(VMCS_GUEST_CR4);
	uint64_t cr3 = vmread(VMCS_GUEST_CR3), pde, pte;

	if (!(cr0 & CR0_PG)) {
		*gpa = linear & 0xffffffffull;
		return 0;
	}
	if (vmread(VMCS_GUEST_EFER) & EFER_LMA)
		return walk64(v, cr3 & ADDR_MASK_52, 4, linear, write, gpa, pf_error);
	linear &= 0xffffffffull;
	if (cr4 & CR4_PAE) {
		uint64_t pdpte = vmread(VMCS_GUEST_PDPTE0 + 2 * ((linear >> 30) & 3));

		if (!(pdpte & PTE_P))
			return fault(false, write, pf_error);
		return walk64(v, pdpte & ADDR_MASK_52, 2, linear, write, gpa, pf_error);
	}
	/* 32-bit paging: 4-byte entries, 4 MiB pages with CR4.PSE. */
	if (!read_entry(v, (cr3 & 0xfffff000ull) + (linear >> 22) * 4, 4, &pde) || !(pde & PTE_P))
		return fault(false, write, pf_error);
	if (write && !(pde & PTE_RW))
		return fault(true, write, pf_error);
	if ((cr4 & CR4_PSE) && (pde & PTE_PS)) {
		*gpa = (pde & 0xffc00000ull) | ((pde & 0x1fe000ull) << 19) | (linear & 0x3fffff);
		return 0;
	}
	if (!read_entry(v, (pde & 0xfffff000ull) + ((linear >> 12) & 1023) * 4, 4, &pte) ||
	    !(pte & PTE_P))
		return fault(false, write, pf_error);
	if (write && !(pte & PTE_RW))
		return fault(true, write, pf_error);
	*gpa = (pte & 0xfffff000ull) | (linear & 0xfff);
	return 0;
}
