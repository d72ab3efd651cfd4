/* The guest IDT for vectors 0-31: report unexpected exceptions, resume expected ones at an ASM_TRY() label. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

#define IDT_VECTORS	32
#define CODE_SEL	0x08		/* entry.asm's GDT */
#define GATE_INTR32	0x8e		/* present, DPL 0, 32-bit interrupt gate: IF stays clear */

struct __attribute__((packed)) idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t zero;
	uint8_t type_attr;
	uint16_t offset_hi;
};

extern const uint32_t isr_stub_table[IDT_VECTORS];
void exception_dispatch(struct exc_frame *f);

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(8)));

volatile struct exception_record exception_last = { .vector = NO_EXCEPTION };
volatile uint32_t exception_resume_eip;
static volatile int expected_vector = NO_EXCEPTION;
static volatile int caught_vector = NO_EXCEPTION;

void idt_init(void)
{
	for (int v = 0; v < IDT_VECTORS; v++) {
		uint32_t addr = isr_stub_table[v];

		idt[v] = (struct idt_gate){
			.offset_lo = addr & 0xffff,
			.selector = CODE_SEL,
			.type_attr = GATE_INTR32,
			.offset_hi = addr >> 16,
		};
	}
	struct table_desc d = { .limit = sizeof(idt) - 1, .base = (uint32_t)idt };
	lidt(&d);
}

void expect_exception(int vector)
{
	caught_vector = NO_EXCEPTION;
	exception_resume_eip = 0;
	expected_vector = vector;
}

int exception_seen(void)
{
	int v = caught_vector;

	expected_vector = NO_EXCEPTION;
	exception_resume_eip = 0;
	caught_vector = NO_EXCEPTION;
	return v;
}

/* One shot: a second fault of the same kind before the next expect_exception() is unexpected. */
static bool try_resume(struct exc_frame *f)
{
	if (exception_resume_eip == 0 || (int)f->vector != expected_vector)
		return false;
	f->eip = exception_resume_eip;
	exception_resume_eip = 0;
	expected_vector = NO_EXCEPTION;
	caught_vector = f->vector;
	return true;
}

void exception_dispatch(struct exc_frame *f)
{
	exception_last.vector = f->vector;
	exception_last.error_code = f->error_code;
	exception_last.eip = f->eip;
	if (try_resume(f))
		return;
	printf("guest: unexpected exception %u at 0x%08x, error code 0x%x\n",
	       f->vector, f->eip, f->error_code);
	guest_exit(EXIT_EXCEPTION);
}
