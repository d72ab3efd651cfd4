/* ioapic: the I/O APIC at 0xfec00000: registers, PIT IRQ 0 on GSI 2, pc-testdev lines edge and level, masking, remote IRR and EOI. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

#define IOAPIC_BASE	0xfec00000u
#define IOREGSEL	0x00
#define IOWIN		0x10
#define IOAPIC_EOI	0x40
#define REG_ID		0x00
#define REG_VERSION	0x01
#define REG_ARB		0x02
#define REG_REDTBL	0x10
#define PINS		24
#define RTE_LEVEL	(1u << 15)
#define RTE_REMOTE_IRR	(1u << 14)
#define RTE_MASKED	(1u << 16)

#define APIC_BASE	0xfee00000u
#define APIC_TPR	0x080
#define APIC_EOI	0x0b0
#define APIC_SVR	0x0f0
#define APIC_TMR	0x180
#define APIC_IRR	0x200

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1
#define PIC_VECTORS	0x20	/* 0x20-0x2f: the 8259s, which must stay silent */
#define PIT_CH0		0x40
#define PIT_CMD		0x43
#define PIT_DIVISOR	1193	/* about 1 kHz */
#define TESTDEV_IRQ	0x2000	/* + n: pc-testdev's ISA line n */

#define GSI_PIT		2	/* IRQ 0, through the MADT's override */
#define LINE_LEVEL	5	/* ISA lines nothing else uses on QEMU's pc machine */
#define LINE_EDGE	7
#define VEC_PIT		0x30
#define VEC_LEVEL	0x31
#define VEC_EDGE	0x32
#define SPURIOUS	0xff
#define TICKS		10
#define POLL_LIMIT	10000000u

static volatile uint32_t count[256];
/* How many deliveries of VEC_LEVEL the handler lets by before it lowers the line (before its EOI). */
static volatile uint32_t level_lower_after;

static uint32_t mmio_read(uint32_t addr)
{
	return *(volatile uint32_t *)(uintptr_t)addr;
}

static void mmio_write(uint32_t addr, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)addr = v;
}

static uint32_t ioapic_read(uint8_t reg)
{
	*(volatile uint8_t *)(uintptr_t)(IOAPIC_BASE + IOREGSEL) = reg;
	return mmio_read(IOAPIC_BASE + IOWIN);
}

static void ioapic_write(uint8_t reg, uint32_t v)
{
	*(volatile uint8_t *)(uintptr_t)(IOAPIC_BASE + IOREGSEL) = reg;
	mmio_write(IOAPIC_BASE + IOWIN, v);
}

/* Entry n: low word lo, physical destination APIC 0. */
static void route(unsigned n, uint32_t lo)
{
	ioapic_write((uint8_t)(REG_REDTBL + 2 * n + 1), 0);
	ioapic_write((uint8_t)(REG_REDTBL + 2 * n), lo);
}

static uint32_t entry_lo(unsigned n)
{
	return ioapic_read((uint8_t)(REG_REDTBL + 2 * n));
}

static bool apic_bit(uint32_t reg, unsigned vector)
{
	return (mmio_read(APIC_BASE + reg + 0x10 * (vector / 32)) >> (vector % 32)) & 1;
}

static void set_line(unsigned line, uint8_t level)
{
	outb((uint16_t)(TESTDEV_IRQ + line), level);
}

/* Called by the stubs with interrupts off. */
void __attribute__((used)) ioapic_irq(uint32_t vector)
{
	count[vector]++;
	if (vector == VEC_LEVEL && count[vector] > level_lower_after)
		set_line(LINE_LEVEL, 0);
	if (vector >= PIC_VECTORS && vector < PIC_VECTORS + 16) {
		outb(PIC2_CMD, 0x20);
		outb(PIC1_CMD, 0x20);
	} else if (vector != SPURIOUS) {
		mmio_write(APIC_BASE + APIC_EOI, 0);
	}
}

#define STUB(v)								\
	".globl ioapic_irq_" #v "\n"					\
	"ioapic_irq_" #v ":\n"						\
	"	pushal\n"						\
	"	pushl $" #v "\n"					\
	"	call ioapic_irq\n"					\
	"	addl $4, %esp\n"					\
	"	popal\n"						\
	"	iret\n"

#define PIC_STUBS(X) X(0x20) X(0x21) X(0x22) X(0x23) X(0x24) X(0x25) X(0x26) X(0x27) \
	X(0x28) X(0x29) X(0x2a) X(0x2b) X(0x2c) X(0x2d) X(0x2e) X(0x2f)
#define DECLARE(v) void ioapic_irq_##v(void);
#define GATE(v) idt_set_gate(v, ioapic_irq_##v, 0);
PIC_STUBS(DECLARE)
DECLARE(0x30) DECLARE(0x31) DECLARE(0x32) DECLARE(0xff)
__asm__(PIC_STUBS(STUB) STUB(0x30) STUB(0x31) STUB(0x32) STUB(0xff));

static void cli(void)
{
	asm volatile("cli" ::: "memory");
}

/*
 * A few instructions with IF = 1: whatever is deliverable is taken here
 * (QEMU TCG looks for interrupts only between translation blocks).
 */
static void settle(void)
{
	asm volatile("sti" ::: "memory");
	for (int k = 0; k < 100; k++)
		asm volatile("pause" ::: "memory");
	cli();
}

static uint32_t pic_count(void)
{
	uint32_t n = 0;

	for (unsigned v = PIC_VECTORS; v < PIC_VECTORS + 16; v++)
		n += count[v];
	return n;
}

/* The 8259 pair remapped to 0x20-0x2f and fully masked: only the I/O APIC may deliver. */
static void pic_mask_all(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	outb(PIC1_CMD, 0x11);
	outb(PIC1_DATA, PIC_VECTORS);
	outb(PIC1_DATA, 0x04);
	outb(PIC1_DATA, 0x01);
	outb(PIC2_CMD, 0x11);
	outb(PIC2_DATA, PIC_VECTORS + 8);
	outb(PIC2_DATA, 0x02);
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

/* Reset state, fixed values and the read-back of every register. */
static void check_registers(void)
{
	unsigned n;

	CHECK_EQ(ioapic_read(REG_VERSION), 0x170020);	/* version 0x20, 24 entries */
	CHECK_EQ(ioapic_read(REG_ID), 0);		/* the MADT's IOAPIC id 0 */
	ioapic_write(REG_ID, 0x0f000000);
	CHECK_EQ(ioapic_read(REG_ID), 0x0f000000);
	CHECK_EQ(ioapic_read(REG_ARB), 0x0f000000);
	ioapic_write(REG_ID, 0);
	CHECK_EQ(ioapic_read(REG_ID), 0);
	ioapic_write(REG_VERSION, 0);
	CHECK_EQ(ioapic_read(REG_VERSION), 0x170020);
	CHECK_EQ(*(volatile uint8_t *)(uintptr_t)(IOAPIC_BASE + IOREGSEL), REG_VERSION);
	for (n = 0; n < PINS; n++) {
		uint32_t lo = RTE_MASKED | RTE_LEVEL | (1u << 13) | (1u << 11) | (n & 1 ? 0x100u : 0) | (0x40 + n);

		/* Masked at reset (QEMU's and the 82093AA's state; no firmware unmasks them). */
		CHECK_EQ(entry_lo(n) & RTE_MASKED, RTE_MASKED);
		ioapic_write((uint8_t)(REG_REDTBL + 2 * n + 1), (0x10u + n) << 24);
		ioapic_write((uint8_t)(REG_REDTBL + 2 * n), lo);
		CHECK_EQ(entry_lo(n), lo);
		CHECK_EQ(ioapic_read((uint8_t)(REG_REDTBL + 2 * n + 1)), (0x10u + n) << 24);
		/* Remote IRR and delivery status are read only. */
		ioapic_write((uint8_t)(REG_REDTBL + 2 * n), RTE_MASKED | RTE_REMOTE_IRR | (1u << 12) | RTE_LEVEL);
		CHECK_EQ(entry_lo(n), RTE_MASKED | RTE_LEVEL);
		route(n, RTE_MASKED);
		CHECK_EQ(entry_lo(n), RTE_MASKED);
	}
	printf("guest: ioapic: version 0x170020, ID and all 24 redirection entries read back\n");
}

/* The PIT's IRQ 0 arrives on GSI 2, edge-triggered, and wakes sti; hlt; masked, it is lost. */
static void check_pit(void)
{
	uint32_t before, polls = 0;
	uint16_t prev, now;
	unsigned periods = 0;

	outb(PIT_CMD, 0x34);
	outb(PIT_CH0, PIT_DIVISOR & 0xff);
	outb(PIT_CH0, PIT_DIVISOR >> 8);
	route(GSI_PIT, VEC_PIT);
	for (unsigned i = 0; i < TICKS; i++) {
		before = count[VEC_PIT];
		asm volatile("sti; hlt; cli" ::: "memory");
		CHECK_EQ(count[VEC_PIT], before + 1);
	}
	CHECK_EQ(pic_count(), 0);
	printf("guest: ioapic: %u PIT ticks on GSI 2 woke sti; hlt\n", TICKS);

	/* Masked for five periods (the PIT's count reloading five times): no interrupt. */
	route(GSI_PIT, RTE_MASKED | VEC_PIT);
	settle();
	before = count[VEC_PIT];
	asm volatile("sti" ::: "memory");
	outb(PIT_CMD, 0x00);
	prev = (uint16_t)(inb(PIT_CH0) | inb(PIT_CH0) << 8);
	while (periods < 5) {
		outb(PIT_CMD, 0x00);
		now = (uint16_t)(inb(PIT_CH0) | inb(PIT_CH0) << 8);
		if (now > prev)
			periods++;
		prev = now;
		CHECK(++polls < POLL_LIMIT);
	}
	cli();
	CHECK_EQ(count[VEC_PIT], before);
	CHECK(!apic_bit(APIC_IRR, VEC_PIT));
	/* Stop the PIT: mode 0 with no count loaded never ends. */
	outb(PIT_CMD, 0x30);
	printf("guest: ioapic: masked GSI 2 delivered nothing for 5 PIT periods\n");
}

/* pc-testdev's line as an edge: one interrupt per rising edge, none while masked. */
static void check_edge_line(void)
{
	route(LINE_EDGE, VEC_EDGE);
	set_line(LINE_EDGE, 1);
	set_line(LINE_EDGE, 0);
	CHECK(apic_bit(APIC_IRR, VEC_EDGE));
	CHECK(!apic_bit(APIC_TMR, VEC_EDGE));
	settle();
	CHECK_EQ(count[VEC_EDGE], 1);
	route(LINE_EDGE, RTE_MASKED | VEC_EDGE);
	set_line(LINE_EDGE, 1);
	set_line(LINE_EDGE, 0);
	route(LINE_EDGE, VEC_EDGE);
	settle();
	CHECK_EQ(count[VEC_EDGE], 1);
	route(LINE_EDGE, RTE_MASKED);
	printf("guest: ioapic: edge line %u: one interrupt per edge, an edge while masked is lost\n", LINE_EDGE);
}

/* pc-testdev's line as a level: remote IRR, redelivery after EOI while high, held while masked, the EOI register. */
static void check_level_line(void)
{
	route(LINE_LEVEL, RTE_LEVEL | VEC_LEVEL);
	/* Raised with IF = 0: in the local APIC's IRR with its TMR bit, remote IRR set. */
	set_line(LINE_LEVEL, 1);
	CHECK(apic_bit(APIC_IRR, VEC_LEVEL));
	CHECK(apic_bit(APIC_TMR, VEC_LEVEL));
	CHECK(entry_lo(LINE_LEVEL) & RTE_REMOTE_IRR);
	/* The first EOI leaves the line high: it comes again; the second handler lowers it. */
	level_lower_after = 1;
	settle();
	CHECK_EQ(count[VEC_LEVEL], 2);
	CHECK(!(entry_lo(LINE_LEVEL) & RTE_REMOTE_IRR));
	printf("guest: ioapic: level line %u: remote IRR until EOI, delivered again while high\n", LINE_LEVEL);

	/* Raised while masked: held, and delivered when unmasked. */
	level_lower_after = 0;
	route(LINE_LEVEL, RTE_MASKED | RTE_LEVEL | VEC_LEVEL);
	set_line(LINE_LEVEL, 1);
	CHECK(!apic_bit(APIC_IRR, VEC_LEVEL));
	CHECK(!(entry_lo(LINE_LEVEL) & RTE_REMOTE_IRR));
	route(LINE_LEVEL, RTE_LEVEL | VEC_LEVEL);
	CHECK(apic_bit(APIC_IRR, VEC_LEVEL));
	settle();
	CHECK_EQ(count[VEC_LEVEL], 3);
	CHECK(!(entry_lo(LINE_LEVEL) & RTE_REMOTE_IRR));

	/* The I/O APIC's EOI register (version 0x20) clears remote IRR too. */
	set_line(LINE_LEVEL, 1);
	CHECK(entry_lo(LINE_LEVEL) & RTE_REMOTE_IRR);
	set_line(LINE_LEVEL, 0);
	mmio_write(IOAPIC_BASE + IOAPIC_EOI, VEC_LEVEL);
	CHECK(!(entry_lo(LINE_LEVEL) & RTE_REMOTE_IRR));
	settle();
	CHECK_EQ(count[VEC_LEVEL], 4);
	route(LINE_LEVEL, RTE_MASKED);
	printf("guest: ioapic: level line %u: held while masked, the EOI register clears remote IRR\n", LINE_LEVEL);
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	printf("guest: ioapic: %s\n", under_vmm() ? "running under the VMM" : "not under the VMM");
	PIC_STUBS(GATE)
	GATE(0x30) GATE(0x31) GATE(0x32) GATE(0xff)	/* VEC_PIT, VEC_LEVEL, VEC_EDGE, SPURIOUS */
	pic_mask_all();
	mmio_write(APIC_BASE + APIC_SVR, 0x100 | SPURIOUS);
	mmio_write(APIC_BASE + APIC_TPR, 0);
	/* Whatever the firmware left pending at the PIC or the APIC is taken (and counted) now. */
	settle();
	for (unsigned v = PIC_VECTORS; v < PIC_VECTORS + 16; v++)
		count[v] = 0;
	check_registers();
	check_edge_line();
	check_level_line();
	check_pit();
	CHECK_EQ(pic_count(), 0);
	return guest_pass("ioapic");
}
