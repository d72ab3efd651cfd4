/* Helpers of the paging guests: entry bits, #PF error codes, tagged frames and fault probes. */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/multiboot.h"
#include "guest/lib/x86.h"

#define PAGE_SIZE	4096u

/* Entry bits common to every paging mode (low 32 bits of PAE and long-mode entries). */
#define PTE_P		(1u << 0)
#define PTE_RW		(1u << 1)
#define PTE_US		(1u << 2)
#define PTE_A		(1u << 5)
#define PTE_D		(1u << 6)
#define PTE_PS		(1u << 7)	/* in a PDE (or PDPTE): maps a large page */
#define PTE_NX		(1ull << 63)	/* PAE and long mode, with EFER.NXE */

/* A user-accessible read/write mapping: what most test entries start from. */
#define PTE_URW		(PTE_P | PTE_RW | PTE_US)

/* #PF error code bits. */
#define PFEC_P		(1u << 0)	/* a protection violation (else: not present) */
#define PFEC_W		(1u << 1)
#define PFEC_U		(1u << 2)	/* the access came from CPL 3 */
#define PFEC_RSVD	(1u << 3)
#define PFEC_ID		(1u << 4)	/* an instruction fetch (PAE and long mode with NXE) */

/* What the probes return when the access did not fault. */
#define NO_PF		0xffffffffu

/* What the code pf_exec() runs leaves in EAX. */
#define EXEC_STUB_RESULT	0x600dc0deu

/*
 * The word tag_pages() stores at physical address pa. Bit 31 is set and the
 * rest is pa / 4, so no two tagged words hold the same value and zeroed or
 * untouched memory never passes for a tagged frame (below 4 GiB).
 */
static inline uint32_t frame_tag(uint64_t pa)
{
	return 0x80000000u ^ (uint32_t)(pa >> 2);
}

/* Tags the first and last word of each 4 KiB page of [pa, pa + bytes), through the 1:1 mapping (or with paging off). */
void tag_pages(uintptr_t pa, uint32_t bytes);

/* The page mapped at va shows the tags of physical page pa (first and last word). */
#define CHECK_TAGGED(va, pa)						\
	do {								\
		CHECK_EQ(*(volatile uint32_t *)(uintptr_t)(va), frame_tag(pa)); \
		CHECK_EQ(*(volatile uint32_t *)((uintptr_t)(va) + PAGE_SIZE - 4), \
			 frame_tag((pa) + PAGE_SIZE - 4));		\
	} while (0)

/*
 * Probes: one access with #PF armed. Each returns the #PF error code, or
 * NO_PF if the access completed; exception_last.cr2 then holds the
 * faulting address. Any other exception is fatal as usual.
 */
uint32_t pf_read(uintptr_t va, uint32_t *value);	/* value may be NULL */
uint32_t pf_write(uintptr_t va, uint32_t value);
/* Jumps to va, where write_exec_stub() put code that sets EAX = EXEC_STUB_RESULT and jumps back. */
uint32_t pf_exec(uintptr_t va, uint32_t *eax);

/* The access faulted with error code `err`, and CR2 is va. */
#define CHECK_PF(access, err, va)					\
	do {								\
		CHECK_EQ(access, err);					\
		CHECK_EQ64(exception_last.cr2, (uintptr_t)(va));	\
	} while (0)

/*
 * For comparing the error code of a reserved-bit fault: the SDM sets P
 * there (the entry was present), QEMU 7.2 TCG leaves it clear. Outside our
 * VMM this adds P to an RSVD error code, so the guest passes on QEMU too;
 * under the VMM it returns err unchanged.
 */
uint32_t rsvd_fault(uint32_t err);

/* How a single-stepped instruction ended: the trap's vector (NO_EXCEPTION if none), its EIP and DR6, and the EIP it should have had. */
struct step_trap {
	int vector;
	uintptr_t eip, dr6;
	uintptr_t next_eip;	/* the address right after the stepped instruction */
};

/* Writes value to *at with one MOV executed under EFLAGS.TF, and catches the single-step #DB that should follow it. */
struct step_trap step_write(volatile uint32_t *at, uint32_t value);

/* The #DB came, right after the stepped instruction, and DR6 says single step. */
#define CHECK_STEP_TRAP(t)						\
	do {								\
		CHECK_EQ((t).vector, EXC_DB);				\
		CHECK_EQ64((t).eip, (t).next_eip);			\
		CHECK((t).dr6 & DR6_BS);				\
	} while (0)

/* 7 bytes, the same in 32- and 64-bit mode: mov eax, EXEC_STUB_RESULT; jmp ecx (or rcx). */
void write_exec_stub(void *at);

/* Fails unless RAM reaches at least ram_top and the guest image (with .bss) ends below image_limit. */
void check_memory_layout(const struct multiboot_info *mbi, uint64_t ram_top, uintptr_t image_limit);

#endif
