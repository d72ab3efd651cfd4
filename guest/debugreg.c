/* debugreg: DR0-DR3, DR6 and DR7 keep the guest's values across VM exits, and hardware breakpoints armed before an exit fire after it. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

#define DR7_FIXED1	0x400u		/* bit 10 reads 1 */
#define DR7_L0		(1u << 0)
#define DR7_L1		(1u << 2)
#define DR6_B0		(1u << 0)
#define DR6_B1		(1u << 1)
#define DR6_B_ALL	0xfu

/*
 * Every breakpoint enabled, locally and globally, with LE and GE, and every
 * RW/LEN field different (no I/O breakpoints: those need CR4.DE): RW0=01
 * LEN0=11, RW1=11 LEN1=01, RW2=00 LEN2=00, RW3=01 LEN3=00. Bits 11-15 (GD
 * among them) stay clear. The addresses below are never touched, so nothing
 * fires while these values sit in the registers.
 */
#define DR7_PATTERN	0x107d07ffu
static const uint32_t dr_pattern[4] = { 0x00ab0000, 0x00ab1002, 0x00ab2000, 0x00ab3004 };

static uint32_t read_dr(int n)
{
	uint32_t v = 0;

	switch (n) {
	case 0: asm volatile("mov %%dr0, %0" : "=r"(v)); break;
	case 1: asm volatile("mov %%dr1, %0" : "=r"(v)); break;
	case 2: asm volatile("mov %%dr2, %0" : "=r"(v)); break;
	case 3: asm volatile("mov %%dr3, %0" : "=r"(v)); break;
	case 6: asm volatile("mov %%dr6, %0" : "=r"(v)); break;
	case 7: asm volatile("mov %%dr7, %0" : "=r"(v)); break;
	}
	return v;
}

static void write_dr(int n, uint32_t v)
{
	switch (n) {
	case 0: asm volatile("mov %0, %%dr0" : : "r"(v) : "memory"); break;
	case 1: asm volatile("mov %0, %%dr1" : : "r"(v) : "memory"); break;
	case 2: asm volatile("mov %0, %%dr2" : : "r"(v) : "memory"); break;
	case 3: asm volatile("mov %0, %%dr3" : : "r"(v) : "memory"); break;
	case 6: asm volatile("mov %0, %%dr6" : : "r"(v) : "memory"); break;
	case 7: asm volatile("mov %0, %%dr7" : : "r"(v) : "memory"); break;
	}
}

/* Exits under the VMM (CPUID, OUT to port 0x80, IN from COM1's LSR); plain instructions elsewhere. */
static void force_exits(unsigned rounds)
{
	for (unsigned i = 0; i < rounds; i++) {
		(void)cpuid(0, 0);
		outb(0x80, (uint8_t)i);
		(void)inb(0x3fd);
	}
}

static void check_all(const char *when)
{
	for (int n = 0; n < 4; n++)
		CHECK_EQ(read_dr(n), dr_pattern[n]);
	CHECK_EQ(read_dr(6), DR6_INIT | (DR6_B0 | DR6_B1));
	CHECK_EQ(read_dr(7), DR7_PATTERN);
	printf("guest: debugreg: DR0-DR3, DR6, DR7 kept %s\n", when);
}

static void check_values(void)
{
	for (int n = 0; n < 4; n++)
		write_dr(n, dr_pattern[n]);
	write_dr(6, DR6_INIT | DR6_B0 | DR6_B1);
	write_dr(7, DR7_PATTERN);
	check_all("with no exit between");
	force_exits(1);
	check_all("across CPUID and port I/O exits");
	force_exits(200);
	check_all("across 600 exits");
	/* Bit 10 reads 1 whatever is written. (Bits 11, 12, 14 and 15 are not checked: QEMU TCG keeps what is written there.) */
	write_dr(7, 0);
	force_exits(1);
	CHECK_EQ(read_dr(7), DR7_FIXED1);
	write_dr(6, 0);
	force_exits(1);
	CHECK_EQ(read_dr(6), DR6_INIT);
	for (int n = 0; n < 4; n++)
		write_dr(n, 0);
}

static volatile uint32_t watched;

/* A data breakpoint (a trap: EIP after the write) armed, then an exit, then the write. */
static void check_data_breakpoint(void)
{
	uint32_t after;

	write_dr(0, (uint32_t)(uintptr_t)&watched);
	write_dr(6, DR6_INIT);
	write_dr(7, DR7_FIXED1 | DR7_L0 | (1u << 16) | (3u << 18));	/* RW0 = write, LEN0 = 4 bytes */
	expect_exception(EXC_DB);
	asm volatile(ASM_TRY("1f")
		     "movl $1f, %[after]\n\t"
		     "xorl %%eax, %%eax\n\t"
		     "cpuid\n\t"
		     "movl $0x5a5a, %[w]\n"
		     "1:"
		     : [after] "=&m"(after), [w] "=m"(watched)
		     :
		     : "eax", "ebx", "ecx", "edx", "memory");
	CHECK_EQ(exception_seen(), EXC_DB);
	CHECK_EQ(exception_last.eip, after);
	CHECK_EQ(exception_last.dr6 & DR6_B_ALL, DR6_B0);
	CHECK_EQ(watched, 0x5a5a);
	write_dr(7, DR7_FIXED1);
	printf("guest: debugreg: data breakpoint armed before a CPUID exit fired on the write after it\n");
}

/* An instruction breakpoint (a fault: EIP at the instruction) armed, then an exit, then the fetch. */
static void check_insn_breakpoint(void)
{
	uint32_t at;

	write_dr(6, DR6_INIT);
	expect_exception(EXC_DB);
	asm volatile(ASM_TRY("1f")
		     "movl $2f, %%eax\n\t"
		     "movl %%eax, %[at]\n\t"
		     "movl %%eax, %%dr1\n\t"
		     "movl %[dr7], %%eax\n\t"
		     "movl %%eax, %%dr7\n\t"
		     "xorl %%eax, %%eax\n\t"
		     "cpuid\n\t"
		     "outb %%al, $0x80\n"
		     "2: nop\n"
		     "1:"
		     : [at] "=&m"(at)
		     : [dr7] "i"(DR7_FIXED1 | DR7_L1)	/* RW1 = 00, LEN1 = 00: execution */
		     : "eax", "ebx", "ecx", "edx", "memory");
	CHECK_EQ(exception_seen(), EXC_DB);
	CHECK_EQ(exception_last.eip, at);
	CHECK_EQ(exception_last.dr6 & DR6_B_ALL, DR6_B1);
	write_dr(7, DR7_FIXED1);
	write_dr(6, DR6_INIT);
	write_dr(0, 0);
	write_dr(1, 0);
	printf("guest: debugreg: instruction breakpoint armed before CPUID and I/O exits fired\n");
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	printf("guest: debugreg: %s\n", under_vmm() ? "running under the VMM" : "not under the VMM");
	CHECK_EQ(read_dr(7), DR7_FIXED1);	/* the state a loader hands over: no breakpoint armed */
	check_values();
	check_data_breakpoint();
	check_insn_breakpoint();
	return guest_pass("debugreg");
}
