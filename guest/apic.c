/* apic: the local APIC at 0xfee00000: IA32_APIC_BASE, version, SVR, self-IPIs, TPR masking, EOI and ISR, timer modes. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

#define MSR_APIC_BASE	0x1b
#define APIC_BASE	0xfee00000u
#define REG_ID		0x020
#define REG_VERSION	0x030
#define REG_TPR		0x080
#define REG_PPR		0x0a0
#define REG_EOI		0x0b0
#define REG_SVR		0x0f0
#define REG_ISR		0x100
#define REG_IRR		0x200
#define REG_ESR		0x280
#define REG_ICR_LO	0x300
#define REG_ICR_HI	0x310
#define REG_LVT_TIMER	0x320
#define REG_LVT_LINT0	0x350
#define REG_LVT_ERROR	0x370
#define REG_TIMER_INIT	0x380
#define REG_TIMER_CUR	0x390
#define REG_TIMER_DIV	0x3e0
#define LVT_MASKED	(1u << 16)
#define LVT_PERIODIC	(1u << 17)
#define ICR_SELF	(1u << 18)
#define ICR_BUSY	(1u << 12)
#define SPURIOUS	0xff

#define VEC_ONE_SHOT	0x30
#define VEC_PERIODIC	0x31
#define VEC_IPI		0x40
#define VEC_LOW		0x45	/* class 4: held while TPR is 0x50 */
#define VEC_HIGH	0x65	/* class 6: passes TPR 0x50 */
#define VEC_ID		0x50	/* the fixed IPI sent by destination ID */
#define DIV_16		0x3
/* About 1 ms on QEMU's 1 GHz APIC bus divided by 16 (the VMM's timer runs at the same rate). */
#define TIMER_COUNT	62500u
#define PERIODIC_TICKS	10
#define SPIN_LIMIT	100000000u

static volatile uint32_t count[256];
static volatile uint32_t isr_seen[256];	/* ISR bit of the vector as its handler saw it */

static uint32_t apic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(APIC_BASE + reg);
}

static void apic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(APIC_BASE + reg) = v;
}

static bool reg256_bit(uint32_t reg, unsigned vector)
{
	return (apic_read(reg + 0x10 * (vector / 32)) >> (vector % 32)) & 1;
}

/* Called by the stubs below with interrupts off: counts, notes ISR, ends the interrupt. */
void __attribute__((used)) apic_irq(uint32_t vector)
{
	count[vector]++;
	isr_seen[vector] = reg256_bit(REG_ISR, vector);
	if (vector != SPURIOUS)	/* a spurious interrupt is not in service: no EOI */
		apic_write(REG_EOI, 0);
}

#define STUB(v)								\
	".globl irq_" #v "\n"						\
	"irq_" #v ":\n"							\
	"	pushal\n"						\
	"	pushl $" #v "\n"					\
	"	call apic_irq\n"					\
	"	addl $4, %esp\n"					\
	"	popal\n"						\
	"	iret\n"

void irq_0x30(void), irq_0x31(void), irq_0x40(void), irq_0x45(void), irq_0x65(void), irq_0x50(void),
	irq_0xff(void);
__asm__(STUB(0x30) STUB(0x31) STUB(0x40) STUB(0x45) STUB(0x65) STUB(0x50) STUB(0xff));

static void cli(void)
{
	asm volatile("cli" ::: "memory");
}

/* One instruction's interrupt window after STI: a pending interrupt is taken here. */
static void open_window(void)
{
	asm volatile("sti; nop; cli" ::: "memory");
}

static void self_ipi(uint8_t vector)
{
	apic_write(REG_ICR_LO, ICR_SELF | vector);
	CHECK_EQ(apic_read(REG_ICR_LO) & ICR_BUSY, 0);	/* delivery status: idle at once */
}

static void check_base_msr(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	CHECK_EQ64(base & ~0xfffull, APIC_BASE);
	CHECK(base & (1u << 11));	/* globally enabled */
	CHECK(base & (1u << 8));	/* the BSP */
	CHECK(!(base & (1u << 10)));	/* xAPIC mode, not x2APIC */
	printf("guest: apic: IA32_APIC_BASE 0x%x: xAPIC at 0x%x, enabled, BSP\n", (uint32_t)base, APIC_BASE);
}

static void check_registers(void)
{
	CHECK_EQ(apic_read(REG_VERSION), 0x50014);
	CHECK_EQ(apic_read(REG_ID) >> 24, 0);
	/* Software enable, spurious vector 0xff; it reads back. */
	apic_write(REG_SVR, 0x100 | SPURIOUS);
	CHECK_EQ(apic_read(REG_SVR) & 0x1ff, 0x100 | SPURIOUS);
	apic_write(REG_TPR, 0);
	CHECK_EQ(apic_read(REG_TPR), 0);
	CHECK_EQ(apic_read(REG_PPR), 0);
	apic_write(REG_LVT_ERROR, LVT_MASKED | 0xfe);
	apic_write(REG_ESR, 0);
	apic_write(REG_ESR, 0);
	CHECK_EQ(apic_read(REG_ESR), 0);
	/*
	 * Software disable sets every LVT mask bit and a write cannot clear
	 * them meanwhile (SDM 10.4.7.2; KVM does it).  QEMU 7.2 TCG leaves the
	 * LVTs alone: checked under the VMM only, with a line elsewhere.
	 */
	apic_write(REG_LVT_TIMER, LVT_MASKED | VEC_ONE_SHOT);
	apic_write(REG_SVR, SPURIOUS);
	CHECK_EQ(apic_read(REG_SVR) & 0x1ff, SPURIOUS);
	if (under_vmm()) {
		apic_write(REG_LVT_TIMER, VEC_ONE_SHOT);
		CHECK(apic_read(REG_LVT_TIMER) & LVT_MASKED);
	} else {
		printf("guest: apic: not under the VMM: skipped (QEMU TCG deviates from the SDM): software disable masks the LVTs\n");
	}
	apic_write(REG_SVR, 0x100 | SPURIOUS);
	apic_write(REG_LVT_TIMER, LVT_MASKED | VEC_ONE_SHOT);
	printf("guest: apic: version 0x50014, SVR software enable works\n");
}

static void check_self_ipi_and_eoi(void)
{
	/* With IF = 0 the IPI waits in IRR. */
	self_ipi(VEC_IPI);
	CHECK(reg256_bit(REG_IRR, VEC_IPI));
	CHECK_EQ(count[VEC_IPI], 0);
	open_window();
	CHECK_EQ(count[VEC_IPI], 1);
	CHECK_EQ(isr_seen[VEC_IPI], 1);		/* in service while its handler ran */
	CHECK(!reg256_bit(REG_ISR, VEC_IPI));	/* the EOI cleared it */
	CHECK(!reg256_bit(REG_IRR, VEC_IPI));
	/* No shorthand, physical destination = the own APIC ID. */
	apic_write(REG_ICR_HI, apic_read(REG_ID) & 0xff000000u);
	apic_write(REG_ICR_LO, VEC_ID);
	open_window();
	CHECK_EQ(count[VEC_ID], 1);
	/* INIT and start-up to all others (no other CPU exists): nothing arrives here, nothing breaks. */
	apic_write(REG_ICR_LO, (3u << 18) | 0x4500);
	apic_write(REG_ICR_LO, (3u << 18) | 0x4608);
	open_window();
	printf("guest: apic: self-IPIs delivered, EOI cleared ISR\n");
}

static void check_tpr(void)
{
	apic_write(REG_TPR, 0x50);
	CHECK_EQ(apic_read(REG_PPR), 0x50);
	self_ipi(VEC_LOW);
	open_window();
	CHECK_EQ(count[VEC_LOW], 0);		/* class 4 <= TPR class 5: held */
	CHECK(reg256_bit(REG_IRR, VEC_LOW));
	self_ipi(VEC_HIGH);
	open_window();
	CHECK_EQ(count[VEC_HIGH], 1);		/* class 6 passes */
	CHECK_EQ(count[VEC_LOW], 0);
	apic_write(REG_TPR, 0);
	open_window();
	CHECK_EQ(count[VEC_LOW], 1);		/* delivered once TPR dropped */
	CHECK(!reg256_bit(REG_IRR, VEC_LOW));
	printf("guest: apic: TPR 0x50 held vector 0x45 until it dropped\n");
}

static void check_one_shot(void)
{
	uint32_t spins = 0, cur;

	apic_write(REG_TIMER_DIV, DIV_16);
	apic_write(REG_LVT_TIMER, VEC_ONE_SHOT);
	apic_write(REG_TIMER_INIT, TIMER_COUNT);
	cur = apic_read(REG_TIMER_CUR);
	CHECK(cur <= TIMER_COUNT);
	while (count[VEC_ONE_SHOT] == 0) {
		asm volatile("sti; hlt; cli" ::: "memory");
		CHECK(++spins < 1000);
	}
	CHECK_EQ(count[VEC_ONE_SHOT], 1);
	CHECK_EQ(apic_read(REG_TIMER_CUR), 0);
	/* Once only: time passes (the count stays 0) and no second interrupt comes. */
	for (spins = 0; spins < 1000; spins++)
		(void)apic_read(REG_TIMER_CUR);
	open_window();
	CHECK_EQ(count[VEC_ONE_SHOT], 1);
	CHECK_EQ(apic_read(REG_TIMER_CUR), 0);
	printf("guest: apic: one-shot timer: 1 interrupt, count 0 after\n");
}

static void check_periodic(void)
{
	uint32_t spins = 0, cur;

	apic_write(REG_LVT_TIMER, LVT_PERIODIC | VEC_PERIODIC);
	apic_write(REG_TIMER_INIT, TIMER_COUNT);
	while (count[VEC_PERIODIC] < PERIODIC_TICKS) {
		asm volatile("sti; hlt; cli" ::: "memory");
		CHECK(++spins < 1000);
	}
	/* Still counting down from the initial count, period after period. */
	cur = apic_read(REG_TIMER_CUR);
	CHECK(cur > 0 && cur <= TIMER_COUNT);
	/* Stopped: initial count 0 (masked first, so no tick is in flight). */
	apic_write(REG_LVT_TIMER, LVT_MASKED | LVT_PERIODIC | VEC_PERIODIC);
	apic_write(REG_TIMER_INIT, 0);
	CHECK_EQ(apic_read(REG_TIMER_CUR), 0);
	CHECK_EQ(count[VEC_ONE_SHOT], 1);
	printf("guest: apic: periodic timer: %u interrupts woke sti; hlt\n", PERIODIC_TICKS);
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	cli();
	idt_set_gate(VEC_ONE_SHOT, irq_0x30, 0);
	idt_set_gate(VEC_PERIODIC, irq_0x31, 0);
	idt_set_gate(VEC_IPI, irq_0x40, 0);
	idt_set_gate(VEC_LOW, irq_0x45, 0);
	idt_set_gate(VEC_HIGH, irq_0x65, 0);
	idt_set_gate(VEC_ID, irq_0x50, 0);
	idt_set_gate(SPURIOUS, irq_0xff, 0);
	/* The PIC stays out of the way: every IRQ masked. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	printf("guest: apic: %s\n", under_vmm() ? "running under the VMM" : "not under the VMM");
	check_base_msr();
	check_registers();
	check_self_ipi_and_eoi();
	check_tpr();
	check_one_shot();
	check_periodic();
	CHECK_EQ(count[SPURIOUS], 0);
	return guest_pass("apic");
}
