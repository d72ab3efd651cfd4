/* Ring 3 for the 64-bit guests: a TSS whose RSP0 takes CPL-3 exceptions, and the gate that ends ring3_call(). */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/ring3.h"

#define TSS_SEL			0x30	/* entry.asm's GDT: 16 bytes at 0x30 */
#define TSS_TYPE_AVAILABLE	0x89	/* present, DPL 0, 64-bit TSS, not busy */
#define RING0_STACK_SIZE	8192

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];		/* the stacks for CPL 0-2 */
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
};

_Static_assert(sizeof(struct tss64) == 104, "the 64-bit TSS is 104 bytes");

extern uint64_t gdt[];			/* entry.asm */
void ring3_exit_isr(void);		/* ring3_call.asm */

static struct tss64 tss;
static uint8_t ring0_stack[RING0_STACK_SIZE] __attribute__((aligned(16)));

void ring3_init(void)
{
	static bool done;	/* LTR of a busy TSS would #GP */
	uint64_t base = (uintptr_t)&tss, limit = sizeof(tss) - 1;

	if (done)
		return;
	tss.rsp[0] = (uintptr_t)(ring0_stack + sizeof(ring0_stack));
	tss.iomap_base = sizeof(tss);	/* no I/O bitmap: ring 3 gets its ports from IOPL 3 */
	gdt[TSS_SEL / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 |
			   (uint64_t)TSS_TYPE_AVAILABLE << 40 | (limit >> 16 & 0xf) << 48 |
			   (base >> 24 & 0xff) << 56;
	gdt[TSS_SEL / 8 + 1] = base >> 32;
	asm volatile("ltr %w0" : : "r"(TSS_SEL) : "memory");
	idt_set_gate(RING3_EXIT_VECTOR, ring3_exit_isr, 3);
	done = true;
}
