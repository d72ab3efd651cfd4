/* Ring 3 for the 32-bit guests: a TSS giving CPL-3 exceptions a ring-0 stack, and the gate that ends ring3_call(). */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/ring3.h"

#define KERNEL_DS		0x10	/* entry.asm's GDT */
#define TSS_SEL			0x28
#define TSS_TYPE_AVAILABLE	0x89	/* present, DPL 0, 32-bit TSS, not busy */
#define RING0_STACK_SIZE	8192

struct __attribute__((packed)) tss32 {
	uint32_t link, esp0, ss0;
	uint32_t unused[22];		/* the hardware task-switch state; no task switches here */
	uint16_t trap, iomap_base;
};

_Static_assert(sizeof(struct tss32) == 104, "the 32-bit TSS is 104 bytes");

extern uint64_t gdt[];			/* entry.asm */
void ring3_exit_isr(void);		/* ring3_call.asm */

static struct tss32 tss;
static uint8_t ring0_stack[RING0_STACK_SIZE] __attribute__((aligned(16)));

static uint64_t tss_descriptor(uint32_t base, uint32_t limit)
{
	return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)TSS_TYPE_AVAILABLE << 40 | (uint64_t)(limit >> 16 & 0xf) << 48 |
	       (uint64_t)(base >> 24) << 56;
}

void ring3_init(void)
{
	static bool done;	/* LTR of a busy TSS would #GP */

	if (done)
		return;
	tss.esp0 = (uint32_t)(ring0_stack + sizeof(ring0_stack));
	tss.ss0 = KERNEL_DS;
	tss.iomap_base = sizeof(tss);	/* no I/O bitmap: ring 3 gets its ports from IOPL 3 */
	gdt[TSS_SEL / 8] = tss_descriptor((uint32_t)&tss, sizeof(tss) - 1);
	asm volatile("ltr %w0" : : "r"(TSS_SEL) : "memory");
	idt_set_gate(RING3_EXIT_VECTOR, ring3_exit_isr, 3);
	done = true;
}
