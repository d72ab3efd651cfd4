/* apic_cr8: in 64-bit mode CR8 is the local APIC's TPR (TPR[7:4] = CR8[3:0]) both ways, and masks interrupts as TPR does. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

#define APIC_BASE	0xfee00000ull
#define REG_TPR		0x080
#define REG_SVR		0x0f0
#define REG_EOI		0x0b0
#define REG_IRR		0x200
#define REG_ICR_LO	0x300
#define ICR_SELF	(1u << 18)
#define VEC_LOW		0x45	/* class 4 */
#define PAGE_2M		0x83ull	/* present, writable, 2 MiB */
#define PAGE_PCD	0x10ull

/* The 4th GiB's page directory: the runtime maps only the first GiB, and the APIC lies at 0xfee00000. */
static uint64_t pd_4th_gib[512] __attribute__((aligned(4096)));
static volatile uint32_t count_low;

static uint32_t apic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(APIC_BASE + reg);
}

static void apic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(APIC_BASE + reg) = v;
}

void __attribute__((used)) irq_low_handler(void)
{
	count_low++;
	apic_write(REG_EOI, 0);
}

void irq_low(void);
__asm__(".globl irq_low\n"
	"irq_low:\n"
	"	push %rax\n push %rcx\n push %rdx\n push %rsi\n push %rdi\n"
	"	push %r8\n push %r9\n push %r10\n push %r11\n"
	"	call irq_low_handler\n"
	"	pop %r11\n pop %r10\n pop %r9\n pop %r8\n"
	"	pop %rdi\n pop %rsi\n pop %rdx\n pop %rcx\n pop %rax\n"
	"	iretq\n");

static uint64_t read_cr8(void)
{
	uint64_t v;

	asm volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

static void write_cr8(uint64_t v)
{
	asm volatile("mov %0, %%cr8" : : "r"(v) : "memory");
}

/* 1:1 map of the 2 MiB around the APIC, uncached, through a new page directory for 3-4 GiB. */
static void map_apic(void)
{
	uint64_t *pml4 = (uint64_t *)(uintptr_t)(read_cr3() & ~0xfffull);
	uint64_t *pdpt = (uint64_t *)(uintptr_t)(pml4[0] & 0x000ffffffffff000ull);

	pd_4th_gib[(APIC_BASE >> 21) & 511] = (APIC_BASE & ~0x1fffffull) | PAGE_2M | PAGE_PCD;
	pdpt[3] = (uint64_t)(uintptr_t)pd_4th_gib | 3;
	write_cr3(read_cr3());
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	asm volatile("cli");
	printf("guest: apic_cr8: %s\n", under_vmm() ? "running under the VMM" : "not under the VMM");
	map_apic();
	idt_set_gate(VEC_LOW, irq_low, 0);
	outb(0x21, 0xff);	/* PIC IRQs masked: only the APIC's own vector arrives */
	outb(0xa1, 0xff);
	apic_write(REG_SVR, 0x1ff);

	/* CR8 -> TPR and TPR -> CR8. */
	write_cr8(5);
	CHECK_EQ(apic_read(REG_TPR), 0x50);
	CHECK_EQ64(read_cr8(), 5);
	apic_write(REG_TPR, 0x3c);
	CHECK_EQ64(read_cr8(), 3);
	apic_write(REG_TPR, 0xf0);
	CHECK_EQ64(read_cr8(), 15);
	write_cr8(0);
	CHECK_EQ(apic_read(REG_TPR), 0);
	printf("guest: apic_cr8: CR8 and TPR[7:4] follow each other\n");

	/* CR8 = 5 holds vector 0x45 (class 4) until CR8 drops. */
	write_cr8(5);
	apic_write(REG_ICR_LO, ICR_SELF | VEC_LOW);
	asm volatile("sti; nop; cli" ::: "memory");
	CHECK_EQ(count_low, 0);
	CHECK((apic_read(REG_IRR + 0x20) >> (VEC_LOW - 64)) & 1);
	write_cr8(0);
	asm volatile("sti; nop; cli" ::: "memory");
	CHECK_EQ(count_low, 1);
	printf("guest: apic_cr8: CR8 5 held vector 0x45 until CR8 dropped to 0\n");

	/* Bits 63:4 of CR8 are reserved (#GP); QEMU TCG does not check them. */
	if (under_vmm()) {
		expect_exception(EXC_GP);
		asm volatile(ASM_TRY("1f") "mov %0, %%cr8\n1:" : : "r"(0x10ull) : "memory");
		CHECK_EQ(exception_seen(), EXC_GP);
		CHECK_EQ64(read_cr8(), 0);
	} else {
		printf("guest: apic_cr8: not under the VMM: skipped (QEMU TCG deviates from the SDM): reserved CR8 bits give #GP\n");
	}
	return guest_pass("apic_cr8");
}
