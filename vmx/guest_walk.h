/* Guest linear-to-physical translation through the guest's own page tables (EPT mode). */
#ifndef VMX_GUEST_WALK_H
#define VMX_GUEST_WALK_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

#define PF_PRESENT	(1u << 0)
#define PF_WRITE	(1u << 1)
#define PF_USER		(1u << 2)

/*
 * Walks the guest's tables for the mode it is in (paging off, 32-bit with
 * PSE, PAE, 4-level).  Returns 0 with *gpa, or -1 with the #PF error code
 * the access would raise.  Permissions beyond presence and writability are
 * not checked and accessed/dirty bits are not set: the VMM uses it for the
 * memory operands of instructions it completes on the guest's behalf (string
 * I/O); the shadow MMU brings the complete walker.
 */
int guest_linear_to_physical(struct vcpu *v, uint64_t linear, bool write, uint64_t *gpa,
			     uint32_t *pf_error);

#endif
