/* The VMM's hypercall ABI as the guests see it: VMCALL, number in EAX, arguments in EBX, ECX, EDX. */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <stdint.h>

#define HC_PING		0
#define HC_PUTS		1
#define HC_EXIT		2
/* Issue 5: memslots and the MMIO test device (docs/guests.md, "Hypercalls"). */
#define HC_MEMSLOT_ADD		16	/* a0 = gpa, a1 = bytes: slot id (> 0) */
#define HC_MEMSLOT_DELETE	17	/* a0 = slot id: 0 */
#define HC_MEMSLOT_MOVE		18	/* a0 = slot id, a1 = new gpa: 0, contents kept */
#define HC_MMIO_DEVICE_MOVE	19	/* a0 = new base gpa: 0, registers kept */
#define HC_MEMSLOT_GENERATION	20	/* the memslot generation (a 32-bit guest sees its low 32 bits) */
/* Issue 6: invalidating every translation, and the MMU's counters (docs/guests.md, "Hypercalls"). */
#define HC_MMU_ZAP_ALL		21	/* no arguments: 0 */
#define HC_MMU_STATS		22	/* a0 = one of HC_MMU_STAT_*: that counter; -22 for another index */

#define HC_MMU_STAT_SHADOW_PAGES	0	/* shadow pages in use (0 under EPT) */
#define HC_MMU_STAT_OBSOLETE		1	/* obsolete shadow pages not yet freed */
#define HC_MMU_STAT_INVALIDATIONS	2	/* invalidations of every shadow page (zap-alls included) */
#define HC_MMU_STAT_OBSOLETE_ZAPPED	3	/* obsolete pages the batches zapped */
#define HC_MMU_STAT_ZAP_BATCHES		4
#define HC_MMU_STAT_ZAP_LONGEST_BATCH	5	/* the most pages one batch zapped */
#define HC_MMU_STATS_COUNT		6

#define HC_PING_REPLY	0x564D4D01	/* "VMM" and ABI version 1 */
#define HC_PUTS_MAX	4096

#define HC_EPERM	(-1)
#define HC_ENOMEM	(-12)
#define HC_EFAULT	(-14)
#define HC_EINVAL	(-22)
#define HC_ENOSPC	(-28)
#define HC_ENOSYS	(-1000)		/* unknown number, like KVM's -KVM_ENOSYS */

/* The VMM writes the result to EAX and skips the 3-byte VMCALL; other registers are preserved. */
static inline long hypercall(uint32_t nr, uint32_t a0, uint32_t a1, uint32_t a2)
{
	long ret;

	asm volatile("vmcall"
		     : "=a"(ret)
		     : "a"(nr), "b"(a0), "c"(a1), "d"(a2)
		     : "memory");
	return ret;
}

#endif
