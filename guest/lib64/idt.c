/* The 64-bit guest IDT: exception stubs on vectors 0-31, other vectors not present until idt_set_gate(). */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

#define IDT_VECTORS	256
#define EXC_VECTORS	32
#define CODE_SEL	0x18		/* entry.asm's 64-bit code segment */
#define GATE_INTR64	0x8e		/* present, DPL 0, 64-bit interrupt gate: IF stays clear */
#define GATE_DPL_SHIFT	5

struct __attribute__((packed)) idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;			/* 0: the current stack, or RSP0 from CPL 3 */
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
};

extern const uint64_t isr_stub_table[EXC_VECTORS];

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));

void idt_set_gate(int vector, void (*handler)(void), int dpl)
{
	uint64_t addr = (uintptr_t)handler;

	idt[vector] = (struct idt_gate){
		.offset_lo = addr & 0xffff,
		.selector = CODE_SEL,
		.type_attr = GATE_INTR64 | dpl << GATE_DPL_SHIFT,
		.offset_mid = addr >> 16 & 0xffff,
		.offset_hi = addr >> 32,
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
