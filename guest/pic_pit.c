/* pic_pit: the 8259 pair and PIT channel 0 deliver IRQ 0 through the IDT; masks, EOI, latches and port 0x61. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1
#define PIC_EOI		0x20
#define PIC_EOI_IRQ0	0x60	/* specific EOI of level 0 */
#define OCW3_READ_IRR	0x0a
#define OCW3_READ_ISR	0x0b
#define IRQ_BASE	0x20
#define PIT_CH0		0x40
#define PIT_CH2		0x42
#define PIT_CMD		0x43
#define PORT61		0x61
#define PIT_DIVISOR	1193	/* about 1 kHz */
#define TICKS		20
#define POLL_LIMIT	10000000u

/* eoi_mode: how the IRQ 0 handler ends the interrupt. */
#define EOI_NONSPECIFIC	0
#define EOI_SPECIFIC	1
#define EOI_NONE	2

volatile uint32_t irq0_count, other_irq_count, eoi_mode;

void irq0_entry(void);
void other_irq_entry(void);

/* Interrupt gates: IF is clear inside; the handlers touch only EAX and the counters. */
__asm__(
	".globl irq0_entry\n"
	"irq0_entry:\n"
	"	pushl %eax\n"
	"	incl irq0_count\n"
	"	movl eoi_mode, %eax\n"
	"	cmpl $" "0" ", %eax\n"
	"	jne 1f\n"
	"	movb $0x20, %al\n"
	"	outb %al, $0x20\n"
	"	jmp 3f\n"
	"1:	cmpl $1, %eax\n"
	"	jne 3f\n"
	"	movb $0x60, %al\n"
	"	outb %al, $0x20\n"
	"3:	popl %eax\n"
	"	iret\n"
	".globl other_irq_entry\n"
	"other_irq_entry:\n"
	"	pushl %eax\n"
	"	incl other_irq_count\n"
	"	movb $0x20, %al\n"
	"	outb %al, $0xa0\n"
	"	outb %al, $0x20\n"
	"	popl %eax\n"
	"	iret\n");

static void pic_remap(uint8_t master_mask, uint8_t slave_mask)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	outb(PIC1_CMD, 0x11);		/* ICW1: edge, cascade, ICW4 */
	outb(PIC1_DATA, IRQ_BASE);
	outb(PIC1_DATA, 0x04);		/* slave on IR2 */
	outb(PIC1_DATA, 0x01);		/* 8086 mode, normal EOI */
	outb(PIC2_CMD, 0x11);
	outb(PIC2_DATA, IRQ_BASE + 8);
	outb(PIC2_DATA, 0x02);
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, master_mask);
	outb(PIC2_DATA, slave_mask);
}

static uint8_t pic_read(uint8_t ocw3)
{
	outb(PIC1_CMD, ocw3);
	return inb(PIC1_CMD);
}

static uint16_t pit_latch(uint8_t channel)
{
	uint8_t lo, hi;

	outb(PIT_CMD, (uint8_t)(channel << 6));
	lo = inb(PIT_CH0 + channel);
	hi = inb(PIT_CH0 + channel);
	return (uint16_t)(lo | hi << 8);
}

/* Spins (interrupts as they are) until channel 0 has reloaded n times: n periods have passed. */
static void wait_periods(unsigned n)
{
	uint16_t prev = pit_latch(0), now;
	uint32_t polls = 0;

	while (n) {
		now = pit_latch(0);
		if (now > prev)
			n--;
		prev = now;
		CHECK(++polls < POLL_LIMIT);
	}
}

/*
 * Spins until channel 0 is half-way through a period: the last tick's
 * edge has surely reached the PIC (QEMU raises it from a timer callback
 * that may run a little after the count reloads) and the next is half a
 * period away, so a check made now sees only the interrupts it expects.
 */
static void wait_mid_period(void)
{
	uint32_t polls = 0;
	uint16_t c;

	do {
		c = pit_latch(0);
		CHECK(++polls < POLL_LIMIT);
	} while (c > PIT_DIVISOR / 2 || c < PIT_DIVISOR / 4);
}

static inline void sti(void) { asm volatile("sti" ::: "memory"); }

/*
 * A few instructions with interrupts as they are: an interrupt made
 * deliverable by the previous instruction is taken here (QEMU TCG only
 * looks between translation blocks, so one NOP is not enough), and the
 * 1 ms period is far longer, so no new tick comes in.
 */
static void settle(void)
{
	for (int k = 0; k < 100; k++)
		asm volatile("pause" ::: "memory");
}
static inline void cli(void) { asm volatile("cli" ::: "memory"); }

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	uint32_t before, i, polls;
	uint16_t c1, c2;

	(void)magic;
	(void)mbi;
	idt_set_gate(IRQ_BASE, irq0_entry, 0);
	for (i = 1; i < 16; i++)
		idt_set_gate(IRQ_BASE + (int)i, other_irq_entry, 0);
	pic_remap(0xfe, 0xff);
	CHECK_EQ(inb(PIC1_DATA), 0xfe);
	CHECK_EQ(inb(PIC2_DATA), 0xff);

	/* PIT channel 0, mode 2, about 1 kHz. */
	outb(PIT_CMD, 0x34);
	outb(PIT_CH0, PIT_DIVISOR & 0xff);
	outb(PIT_CH0, PIT_DIVISOR >> 8);
	/* Under QEMU the BIOS's 18.2 Hz tick may already wait in IRR: take it before counting. */
	sti();
	settle();
	cli();

	/* 1. sti; hlt wakes on each tick, and each wake-up is one tick. */
	for (i = 0; i < TICKS; i++) {
		before = irq0_count;
		asm volatile("sti; hlt; cli" ::: "memory");
		CHECK_EQ(irq0_count, before + 1);
	}
	printf("guest: pic_pit: %u IRQ 0 ticks woke sti; hlt\n", TICKS);

	/* 2. The counter runs down between reloads (a latch reads it). */
	c1 = pit_latch(0);
	c2 = pit_latch(0);
	CHECK(c1 >= 1 && c1 <= PIT_DIVISOR && c2 >= 1 && c2 <= PIT_DIVISOR);
	wait_periods(2);
	CHECK_EQ(other_irq_count, 0);

	/* 3. A masked IRQ is held in IRR and not delivered; unmasking delivers it at once. */
	outb(PIC1_DATA, 0xff);
	before = irq0_count;
	sti();
	wait_periods(3);
	cli();
	CHECK_EQ(irq0_count, before);
	CHECK(pic_read(OCW3_READ_IRR) & 1);
	wait_mid_period();
	sti();
	outb(PIC1_DATA, 0xfe);
	settle();
	cli();
	CHECK_EQ(irq0_count, before + 1);
	printf("guest: pic_pit: masked IRQ 0 held in IRR, delivered on unmask\n");

	/* 4. Without EOI the in-service IRQ 0 blocks further ticks; an EOI lets the held one in. */
	eoi_mode = EOI_NONE;
	before = irq0_count;
	sti();
	wait_periods(1);
	wait_periods(3);
	cli();
	CHECK_EQ(irq0_count, before + 1);
	CHECK_EQ(pic_read(OCW3_READ_ISR), 0x01);
	CHECK(pic_read(OCW3_READ_IRR) & 1);
	eoi_mode = EOI_SPECIFIC;
	wait_mid_period();
	sti();
	outb(PIC1_CMD, PIC_EOI);	/* non-specific EOI from outside the handler */
	settle();
	cli();
	CHECK_EQ(irq0_count, before + 2);
	/* The handler's specific EOI cleared ISR. */
	CHECK_EQ(pic_read(OCW3_READ_ISR), 0x00);
	for (i = 0; i < 3; i++) {
		before = irq0_count;
		asm volatile("sti; hlt; cli" ::: "memory");
		CHECK_EQ(irq0_count, before + 1);
	}
	eoi_mode = EOI_NONSPECIFIC;
	printf("guest: pic_pit: EOI: no EOI blocks IRQ 0, specific and non-specific EOI end it\n");

	/* 5. Mode 0 one-shot: one tick, then no more (with a periodic check that time passed). */
	outb(PIT_CMD, 0x30);
	outb(PIT_CH0, 0x00);
	outb(PIT_CH0, 0x10);		/* 4096 ticks */
	/* A periodic tick that came while printing with IF = 0 waits in IRR: take it first. */
	sti();
	settle();
	cli();
	before = irq0_count;
	asm volatile("sti; hlt; cli" ::: "memory");
	CHECK_EQ(irq0_count, before + 1);
	outb(PIT_CMD, 0xb0);		/* channel 2 mode 0 as a clock: 0x61 bit 5 polled as calibrations do */
	outb(PORT61, (uint8_t)((inb(PORT61) & ~0x02) | 0x01));
	outb(PIT_CH2, 0x00);
	outb(PIT_CH2, 0x30);		/* 12288 ticks: three channel 0 counts */
	CHECK_EQ(inb(PORT61) & 0x20, 0);
	sti();
	for (polls = 0; !(inb(PORT61) & 0x20); polls++)
		CHECK(polls < POLL_LIMIT);
	cli();
	CHECK_EQ(irq0_count, before + 1);
	printf("guest: pic_pit: one-shot IRQ 0 fired once; port 0x61 OUT2 rose after %u polls\n", polls);

	CHECK_EQ(other_irq_count, 0);
	outb(PIC1_DATA, 0xff);
	return guest_pass("pic_pit");
}
