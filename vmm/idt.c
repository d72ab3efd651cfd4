/* IDT setup and the fatal-exception report (vector, error code, RIP, CR2, registers). */
#include <stddef.h>
#include "vmm/exit.h"
#include "vmm/idt.h"
#include "vmm/log.h"
#include "vmm/status.h"
#include "vmm/x86.h"

#define SEL_CODE64		0x08
#define GATE_INTERRUPT		0x8e	/* present, DPL 0, 64-bit interrupt gate */
#define IST_DOUBLE_FAULT	1
#define IST_NMI			2	/* also #MC: both can arrive on a broken stack */

#define VEC_NMI			2
#define VEC_DOUBLE_FAULT	8
#define VEC_MACHINE_CHECK	18

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

struct idt_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const uint64_t isr_stub_table[256];

static struct idt_gate idt[256] __attribute__((aligned(16)));

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "reserved",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "reserved", "reserved",
	"reserved", "reserved", "reserved", "reserved", "#HV", "#VC", "#SX", "reserved",
};

static void set_gate(unsigned vector, uint64_t handler, uint8_t ist)
{
	struct idt_gate *g = &idt[vector];

	g->offset_low = (uint16_t)handler;
	g->selector = SEL_CODE64;
	g->ist = ist;
	g->type = GATE_INTERRUPT;
	g->offset_mid = (uint16_t)(handler >> 16);
	g->offset_high = (uint32_t)(handler >> 32);
	g->reserved = 0;
}

/* The VMM runs with interrupts off; masking the PICs keeps a stray IRQ from landing on an exception vector. */
static void mask_legacy_pics(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void idt_init(void)
{
	struct idt_pointer ptr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	unsigned v;

	for (v = 0; v < 256; v++)
		set_gate(v, isr_stub_table[v], 0);
	set_gate(VEC_DOUBLE_FAULT, isr_stub_table[VEC_DOUBLE_FAULT], IST_DOUBLE_FAULT);
	set_gate(VEC_NMI, isr_stub_table[VEC_NMI], IST_NMI);
	set_gate(VEC_MACHINE_CHECK, isr_stub_table[VEC_MACHINE_CHECK], IST_NMI);
	__asm__ volatile("lidt %0" : : "m"(ptr));
	mask_legacy_pics();
}

static const char *vector_name(uint64_t vector)
{
	return vector < 32 ? exception_names[vector] : "interrupt";
}

void exception_dispatch(struct cpu_frame *f)
{
	static int reporting;

	if (reporting++) {
		/* Faulting while reporting a fault: print the least possible and stop. */
		log_error("vmm: exception %lu inside the exception report\n", f->vector);
		vmm_exit(VMM_STATUS_CRASH);
	}
	log_error("vmm: exception %lu (%s) error=%#lx rip=%#lx cr2=%#lx\n",
		  f->vector, vector_name(f->vector), f->error_code, f->rip, read_cr2());
	log_error("vmm:   rax=0x%016lx rbx=0x%016lx rcx=0x%016lx rdx=0x%016lx\n",
		  f->rax, f->rbx, f->rcx, f->rdx);
	log_error("vmm:   rsi=0x%016lx rdi=0x%016lx rbp=0x%016lx rsp=0x%016lx\n",
		  f->rsi, f->rdi, f->rbp, f->rsp);
	log_error("vmm:   r8 =0x%016lx r9 =0x%016lx r10=0x%016lx r11=0x%016lx\n",
		  f->r8, f->r9, f->r10, f->r11);
	log_error("vmm:   r12=0x%016lx r13=0x%016lx r14=0x%016lx r15=0x%016lx\n",
		  f->r12, f->r13, f->r14, f->r15);
	log_error("vmm:   cs=%#lx ss=%#lx rflags=%#lx cr0=%#lx cr3=%#lx cr4=%#lx\n",
		  f->cs, f->ss, f->rflags, read_cr0(), read_cr3(), read_cr4());
	vmm_exit(VMM_STATUS_CRASH);
}
