/* Helpers of the paging guests: tagged frames, fault probes and the memory layout check. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/paging.h"
#include "guest/lib/string.h"
#include "guest/lib/x86.h"

#define ONE_MIB		0x100000ull

extern char __bss_end[];	/* guest.ld: the end of the image */

void tag_pages(uintptr_t pa, uint32_t bytes)
{
	for (uint32_t off = 0; off < bytes; off += PAGE_SIZE) {
		volatile uint32_t *page = (volatile uint32_t *)(pa + off);

		page[0] = frame_tag(pa + off);
		page[PAGE_SIZE / 4 - 1] = frame_tag(pa + off + PAGE_SIZE - 4);
	}
}

static uint32_t probe_result(uint32_t got, uint32_t *value)
{
	if (exception_seen() == NO_EXCEPTION) {
		if (value)
			*value = got;
		return NO_PF;
	}
	return exception_last.error_code;
}

uint32_t pf_read(uintptr_t va, uint32_t *value)
{
	uint32_t v = 0;

	expect_exception(EXC_PF);
	asm volatile(ASM_TRY("1f") "movl (%1), %0\n1:" : "+r"(v) : "r"(va) : "memory");
	return probe_result(v, value);
}

uint32_t pf_write(uintptr_t va, uint32_t value)
{
	expect_exception(EXC_PF);
	asm volatile(ASM_TRY("1f") "movl %0, (%1)\n1:" : : "r"(value), "r"(va) : "memory");
	return probe_result(0, NULL);
}

/* A jump rather than a call: a fault on the fetch then leaves the stack as it was. */
uint32_t pf_exec(uintptr_t va, uint32_t *eax)
{
	uint32_t v = 0;
	uintptr_t back;

	expect_exception(EXC_PF);
	asm volatile(ASM_TRY("1f") "mov $1f, %1\n\tjmp *%2\n1:"
		     : "+a"(v), "=&c"(back)
		     : "r"(va)
		     : "memory");
	return probe_result(v, eax);
}

/*
 * POPF sets TF; the trap then comes after the instruction that follows, the
 * MOV, with EIP at label 1. The NOP there only matters if the trap comes
 * one instruction late: resuming at 1 then repeats the NOP, nothing else.
 * With no trap at all TF stays set, and the NOP traps instead.
 */
struct step_trap step_write(volatile uint32_t *at, uint32_t value)
{
	struct step_trap t;
	uintptr_t flags;

	write_dr6(DR6_INIT);
	expect_exception(EXC_DB);
	asm volatile(ASM_TRY("1f")
		     "mov $1f, %[next]\n\t"
		     "pushf\n\tpop %[flags]\n\tor %[tf], %[flags]\n\tpush %[flags]\n\tpopf\n\t"
		     "movl %[value], (%[at])\n"
		     "1:\tnop"
		     : [next] "=&r"(t.next_eip), [flags] "=&r"(flags)
		     : [tf] "i"(EFLAGS_TF), [value] "r"(value), [at] "r"(at)
		     : "memory", "cc");
	t.vector = exception_seen();
	t.eip = exception_last.eip;
	t.dr6 = exception_last.dr6;
	return t;
}

uint32_t rsvd_fault(uint32_t err)
{
	static int vmm = -1;	/* under_vmm() costs a CPUID exit: ask once */

	if (vmm < 0)
		vmm = under_vmm();
	if (!vmm && err != NO_PF && (err & PFEC_RSVD))
		return err | PFEC_P;
	return err;
}

void write_exec_stub(void *at)
{
	static const uint8_t stub[] = {
		0xb8, EXEC_STUB_RESULT & 0xff, EXEC_STUB_RESULT >> 8 & 0xff,
		EXEC_STUB_RESULT >> 16 & 0xff, EXEC_STUB_RESULT >> 24,		/* mov eax, imm32 */
		0xff, 0xe1,							/* jmp ecx / rcx */
	};

	memcpy(at, stub, sizeof(stub));
}

void check_memory_layout(const struct multiboot_info *mbi, uint64_t ram_top, uintptr_t image_limit)
{
	CHECK(mbi->flags & MBI_FLAG_MEM);
	uint64_t ram_end = ONE_MIB + (uint64_t)mbi->mem_upper * 1024;

	printf("guest: RAM up to 0x%llx, image ends at %p\n", (unsigned long long)ram_end, (void *)__bss_end);
	CHECK(ram_end >= ram_top);
	CHECK((uintptr_t)__bss_end <= image_limit);
}
