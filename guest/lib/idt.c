/* The 32-bit guest IDT: exception stubs on vectors 0-31, other vectors not present until idt_set_gate(). */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

#define IDT_VECTORS	256
#define EXC_VECTORS	32
#define CODE_SEL	0x08		/* entry.asm's GDT */
#define GATE_INTR32	0x8e		/* present, DPL 0, 32-bit interrupt gate: IF stays clear */
#define GATE_DPL_SHIFT	5

struct __attribute__((packed)) idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t zero;
	uint8_t type_attr;
	uint16_t offset_hi;
};

extern const uint32_t isr_stub_table[EXC_VECTORS];

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(8)));

void idt_set_gate(int vector, void (*handler)(void), int dpl)
{
	uint32_t addr = (uint32_t)handler;

	idt[vector] = (struct idt_gate){
		.offset_lo = addr & 0xffff,
		.selector = CODE_SEL,
		.type_attr = GATE_INTR32 | dpl << GATE_DPL_SHIFT,
		.offset_hi = addr >> 16,
	};
}

/* A vector with no gate raises #NP, which lands in the exception stubs like any other fault. */
void idt_init(void)
{
	for (int v = 0; v < EXC_VECTORS; v++)
		idt_set_gate(v, (void (*)(void))isr_stub_table[v], 0);
	struct table_desc d = { .limit = sizeof(idt) - 1, .base = (uintptr_t)idt };
	lidt(&d);
}
