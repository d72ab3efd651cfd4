/* realmode: back to real mode from the multiboot entry: real-mode segments, INT through an IVT at 0, big real mode above 1 MiB, then protected mode again. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"
#include "guest/lib/string.h"

/*
 * The 16-bit code must run below 1 MiB, and the guest is linked at 1 MiB:
 * rm_blob (below) is copied to RM_BASE and entered there. Its code and data
 * name their addresses as RM(label), the label's place in the copy.
 *
 * rm_enter (offset 0), called from C: saves the registers, ESP, GDTR and
 * IDTR; loads its own GDT; loads DS with a flat 4 GiB data descriptor and
 * the other data registers with 64 KiB ones; far jumps to a 16-bit code
 * segment; clears CR0.PE; far jumps to CS = 0. In real mode: SS:SP on a
 * stack in the copy, IDTR = the IVT at 0 (limit 0x3ff) with vectors 0-31
 * pointing at a handler that reports an unexpected exception and exits,
 * and vector 0x42 at rm_int42; INT 0x42; a read through ES = RM_BASE >> 4;
 * a 32-bit read and write through DS at rm_big_addr (above 1 MiB: only the
 * limit DS kept from protected mode allows it); a line printed on COM1
 * with I/O exits taken in real mode. Then CR0.PE set again, a far jump to
 * 32-bit code, the runtime's GDTR, IDTR, ESP and registers back, ret.
 */
#define RM_BASE		0x8000u
#define RM_VECTOR	0x42
#define RM_MARKER	0x5245414cu	/* "LAER": read back through a real-mode segment */
#define BIG_PATTERN	0x600df00du
#define EFLAGS_IF	(1u << 9)

#define RM(label)	"(" #label " - rm_blob + 0x8000)"
#define STR_(x)		#x
#define STR(x)		STR_(x)

asm(".section .text.realmode_blob, \"ax\"\n"
    ".globl rm_blob, rm_blob_end, rm_cr0, rm_big_addr, rm_big_read, rm_seg_read\n"
    ".globl rm_int_ax, rm_int_cs, rm_int_flags, rm_sp_before, rm_sp_in\n"
    ".code32\n"
    "rm_blob:\n"
    "	pushal\n"
    "	movl %esp, " RM(rm_saved_esp) "\n"
    "	sgdt " RM(rm_saved_gdt) "\n"
    "	sidt " RM(rm_saved_idt) "\n"
    "	lgdt " RM(rm_gdt_desc) "\n"
    "	ljmp $0x08, $" RM(rm_pm32) "\n"
    "rm_pm32:\n"
    "	movw $0x10, %ax\n"		/* flat, 4 GiB limit: kept by DS into real mode */
    "	movw %ax, %ds\n"
    "	movw $0x20, %ax\n"		/* 64 KiB limit, as real mode has them */
    "	movw %ax, %es\n"
    "	movw %ax, %fs\n"
    "	movw %ax, %gs\n"
    "	movw %ax, %ss\n"
    "	ljmp $0x18, $" RM(rm_pm16) "\n"
    ".code16\n"
    "rm_pm16:\n"
    "	movl %cr0, %eax\n"
    "	andl $0xfffffffe, %eax\n"
    "	movl %eax, %cr0\n"
    "	ljmp $0, $" RM(rm_real) "\n"
    "rm_real:\n"
    "	xorw %ax, %ax\n"
    "	movw %ax, %ss\n"
    "	movw $" RM(rm_stack_top) ", %sp\n"
    "	lidt " RM(rm_ivt_desc) "\n"
    "	movl %cr0, %eax\n"
    "	movl %eax, " RM(rm_cr0) "\n"
    /* IVT: vectors 0-31 report an unexpected exception, RM_VECTOR is the test's. */
    "	xorw %bx, %bx\n"
    "1:	movw $" RM(rm_unexpected) ", (%bx)\n"
    "	movw $0, 2(%bx)\n"
    "	addw $4, %bx\n"
    "	cmpw $128, %bx\n"
    "	jb 1b\n"
    "	movw $" RM(rm_int42) ", " STR(RM_VECTOR) " * 4\n"
    "	movw $0, " STR(RM_VECTOR) " * 4 + 2\n"
    "	movw $0x1234, %ax\n"
    "	movw %sp, " RM(rm_sp_before) "\n"
    "	int $" STR(RM_VECTOR) "\n"
    "	movw %ax, " RM(rm_int_ax) "\n"
    /* A real-mode segment: base = selector << 4. */
    "	movw $(0x8000 >> 4), %ax\n"
    "	movw %ax, %es\n"
    "	movl %es:(rm_marker - rm_blob), %eax\n"
    "	movl %eax, " RM(rm_seg_read) "\n"
    /* Big real mode: a 32-bit offset above 1 MiB through DS. */
    "	movl " RM(rm_big_addr) ", %esi\n"
    "	movl (%esi), %eax\n"
    "	movl %eax, " RM(rm_big_read) "\n"
    "	notl %eax\n"
    "	movl %eax, (%esi)\n"
    "	movw $" RM(rm_msg) ", %si\n"
    "	call rm_puts\n"
    /* Back to protected mode. */
    "	lgdt " RM(rm_gdt_desc) "\n"
    "	movl %cr0, %eax\n"
    "	orl $1, %eax\n"
    "	movl %eax, %cr0\n"
    "	ljmpl $0x08, $" RM(rm_back32) "\n"
    ".code32\n"
    "rm_back32:\n"
    "	movw $0x10, %ax\n"
    "	movw %ax, %ds\n"
    "	movw %ax, %es\n"
    "	movw %ax, %fs\n"
    "	movw %ax, %gs\n"
    "	movw %ax, %ss\n"
    "	lgdt " RM(rm_saved_gdt) "\n"
    "	lidt " RM(rm_saved_idt) "\n"
    "	movl " RM(rm_saved_esp) ", %esp\n"
    "	popal\n"
    "	ret\n"
    ".code16\n"
    /* Entered through the IVT: CS = 0, FLAGS, CS and IP pushed, IF and TF cleared. */
    "rm_int42:\n"
    "	movw %sp, " RM(rm_sp_in) "\n"
    "	pushfw\n"
    "	popw " RM(rm_int_flags) "\n"
    "	movw %cs, " RM(rm_int_cs) "\n"
    "	notw %ax\n"
    "	iretw\n"
    "rm_unexpected:\n"
    "	xorw %ax, %ax\n"
    "	movw %ax, %ds\n"
    "	movw $" RM(rm_exc_msg) ", %si\n"
    "	call rm_puts\n"
    "	movb $3, %al\n"			/* EXIT_EXCEPTION */
    "	outb %al, $0xf4\n"
    "2:	hlt\n"
    "	jmp 2b\n"
    /* COM1 output of the zero-terminated string at DS:SI. */
    "rm_puts:\n"
    "	lodsb\n"
    "	testb %al, %al\n"
    "	jz 4f\n"
    "	movb %al, %bl\n"
    "	movw $0x3fd, %dx\n"
    "3:	inb %dx, %al\n"
    "	testb $0x20, %al\n"
    "	jz 3b\n"
    "	movw $0x3f8, %dx\n"
    "	movb %bl, %al\n"
    "	outb %al, %dx\n"
    "	jmp rm_puts\n"
    "4:	ret\n"
    ".balign 8\n"
    "rm_gdt:\n"
    "	.quad 0\n"
    "	.quad 0x00cf9b000000ffff\n"	/* 0x08: 32-bit code, base 0, 4 GiB */
    "	.quad 0x00cf93000000ffff\n"	/* 0x10: data, base 0, 4 GiB */
    "	.quad 0x00009b000000ffff\n"	/* 0x18: 16-bit code, base 0, 64 KiB */
    "	.quad 0x000093000000ffff\n"	/* 0x20: 16-bit data, base 0, 64 KiB */
    "rm_gdt_desc:	.word 5 * 8 - 1\n"
    "	.long " RM(rm_gdt) "\n"
    "rm_ivt_desc:	.word 0x3ff\n"
    "	.long 0\n"
    "rm_saved_gdt:	.word 0\n"
    "	.long 0\n"
    "rm_saved_idt:	.word 0\n"
    "	.long 0\n"
    ".balign 4\n"
    "rm_saved_esp:	.long 0\n"
    "rm_cr0:	.long 0\n"
    "rm_big_addr:	.long 0\n"
    "rm_big_read:	.long 0\n"
    "rm_seg_read:	.long 0\n"
    "rm_marker:	.long " STR(RM_MARKER) "\n"
    "rm_int_ax:	.word 0\n"
    "rm_int_cs:	.word 0xffff\n"
    "rm_int_flags:	.word 0xffff\n"
    "rm_sp_before:	.word 0\n"
    "rm_sp_in:	.word 0\n"
    "rm_msg:	.asciz \"guest: realmode: this line printed in real mode\\n\"\n"
    "rm_exc_msg:	.asciz \"guest: unexpected exception in real mode\\n\"\n"
    ".balign 16\n"
    "	.fill 512, 1, 0\n"
    "rm_stack_top:\n"
    "rm_blob_end:\n"
    ".code32\n"
    ".text\n");

extern char rm_blob[], rm_blob_end[], rm_cr0[], rm_big_addr[], rm_big_read[], rm_seg_read[];
extern char rm_int_ax[], rm_int_cs[], rm_int_flags[], rm_sp_before[], rm_sp_in[];

/* A variable of the copy at RM_BASE. */
#define RM_VAR(type, sym)	(*(volatile type *)(uintptr_t)(RM_BASE + (uint32_t)((sym) - rm_blob)))

static volatile uint32_t big_word;

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	uint32_t size = (uint32_t)(rm_blob_end - rm_blob);

	(void)magic;
	(void)mbi;
	printf("guest: realmode: %s\n", under_vmm() ? "running under the VMM" : "not under the VMM");
	CHECK(size < 0x1000);
	CHECK((uintptr_t)&big_word >= 0x100000);
	memcpy((void *)(uintptr_t)RM_BASE, rm_blob, size);
	RM_VAR(uint32_t, rm_big_addr) = (uint32_t)(uintptr_t)&big_word;
	big_word = BIG_PATTERN;

	asm volatile("call *%0" : : "r"(RM_BASE) : "memory");

	CHECK(read_cr0() & 1);
	CHECK_EQ(RM_VAR(uint32_t, rm_cr0) & 1, 0);
	printf("guest: realmode: CR0.PE was clear (CR0 0x%x in real mode)\n", RM_VAR(uint32_t, rm_cr0));
	CHECK_EQ(RM_VAR(uint16_t, rm_int_cs), 0);
	CHECK_EQ(RM_VAR(uint16_t, rm_int_ax), (uint16_t)~0x1234);
	CHECK_EQ(RM_VAR(uint16_t, rm_sp_in), RM_VAR(uint16_t, rm_sp_before) - 6);
	CHECK_EQ(RM_VAR(uint16_t, rm_int_flags) & (EFLAGS_IF | EFLAGS_TF), 0);
	printf("guest: realmode: INT 0x%x through the IVT at 0: 6 bytes pushed, IF clear\n", RM_VECTOR);
	CHECK_EQ(RM_VAR(uint32_t, rm_seg_read), RM_MARKER);
	printf("guest: realmode: a real-mode segment (ES = 0x%x) reads at selector << 4\n", RM_BASE >> 4);
	CHECK_EQ(RM_VAR(uint32_t, rm_big_read), BIG_PATTERN);
	CHECK_EQ(big_word, ~BIG_PATTERN);
	printf("guest: realmode: big real mode: read and wrote 0x%x above 1 MiB through DS\n",
	       (uint32_t)(uintptr_t)&big_word);
	return guest_pass("realmode");
}
