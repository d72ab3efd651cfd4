/* Runs one instruction on the host CPU in 64-, 32- or 16-bit mode, for the emulator's differential test. */
#include <string.h>

#include <asm/ldt.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tests/unit/emulate_native.h"

/* XMM0-15 to and from struct native_regs at %rdi (offset 136 on), shared by both runners. */
#define LOAD_XMM_FROM_RDI \
	"	movdqu 136(%rdi), %xmm0\n" \
	"	movdqu 152(%rdi), %xmm1\n" \
	"	movdqu 168(%rdi), %xmm2\n" \
	"	movdqu 184(%rdi), %xmm3\n" \
	"	movdqu 200(%rdi), %xmm4\n" \
	"	movdqu 216(%rdi), %xmm5\n" \
	"	movdqu 232(%rdi), %xmm6\n" \
	"	movdqu 248(%rdi), %xmm7\n" \
	"	movdqu 264(%rdi), %xmm8\n" \
	"	movdqu 280(%rdi), %xmm9\n" \
	"	movdqu 296(%rdi), %xmm10\n" \
	"	movdqu 312(%rdi), %xmm11\n" \
	"	movdqu 328(%rdi), %xmm12\n" \
	"	movdqu 344(%rdi), %xmm13\n" \
	"	movdqu 360(%rdi), %xmm14\n" \
	"	movdqu 376(%rdi), %xmm15\n"
#define STORE_XMM_TO_RDI \
	"	movdqu %xmm0, 136(%rdi)\n" \
	"	movdqu %xmm1, 152(%rdi)\n" \
	"	movdqu %xmm2, 168(%rdi)\n" \
	"	movdqu %xmm3, 184(%rdi)\n" \
	"	movdqu %xmm4, 200(%rdi)\n" \
	"	movdqu %xmm5, 216(%rdi)\n" \
	"	movdqu %xmm6, 232(%rdi)\n" \
	"	movdqu %xmm7, 248(%rdi)\n" \
	"	movdqu %xmm8, 264(%rdi)\n" \
	"	movdqu %xmm9, 280(%rdi)\n" \
	"	movdqu %xmm10, 296(%rdi)\n" \
	"	movdqu %xmm11, 312(%rdi)\n" \
	"	movdqu %xmm12, 328(%rdi)\n" \
	"	movdqu %xmm13, 344(%rdi)\n" \
	"	movdqu %xmm14, 360(%rdi)\n" \
	"	movdqu %xmm15, 376(%rdi)\n"

/*
 * Between the loads and the stores every general register belongs to the
 * instruction, so the way back to the C world goes through three words in
 * .data reached RIP-relative: the host RSP, the regs pointer, and a scratch
 * word (first the code address, then the instruction's RDI).  XMM0-15 are
 * loaded and stored too (all caller-saved: no host state to keep); in 16-
 * and 32-bit code only XMM0-7 are reachable, the others keep their values.  Only MOVs
 * run between POPFQ, the instruction and PUSHFQ: none of them touch flags.
 */
__asm__(
	".pushsection .data\n"
	".balign 8\n"
	"native_host_rsp: .quad 0\n"
	"native_regs_ptr: .quad 0\n"
	"native_scratch: .quad 0\n"
	".popsection\n"
	".text\n"
	".globl native_run\n"
	".type native_run, @function\n"
	"native_run:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	mov %rsp, native_host_rsp(%rip)\n"
	"	mov %rdi, native_regs_ptr(%rip)\n"
	"	mov %rsi, native_scratch(%rip)\n"
	LOAD_XMM_FROM_RDI
	"	pushq 128(%rdi)\n"
	"	popfq\n"
	"	mov 0(%rdi), %rax\n"
	"	mov 8(%rdi), %rcx\n"
	"	mov 16(%rdi), %rdx\n"
	"	mov 24(%rdi), %rbx\n"
	"	mov 40(%rdi), %rbp\n"
	"	mov 48(%rdi), %rsi\n"
	"	mov 64(%rdi), %r8\n"
	"	mov 72(%rdi), %r9\n"
	"	mov 80(%rdi), %r10\n"
	"	mov 88(%rdi), %r11\n"
	"	mov 96(%rdi), %r12\n"
	"	mov 104(%rdi), %r13\n"
	"	mov 112(%rdi), %r14\n"
	"	mov 120(%rdi), %r15\n"
	"	mov 32(%rdi), %rsp\n"
	"	mov 56(%rdi), %rdi\n"
	"	jmp *native_scratch(%rip)\n"
	".globl native_return\n"
	"native_return:\n"
	"	mov %rdi, native_scratch(%rip)\n"
	"	mov native_regs_ptr(%rip), %rdi\n"
	STORE_XMM_TO_RDI
	"	mov %rax, 0(%rdi)\n"
	"	mov %rcx, 8(%rdi)\n"
	"	mov %rdx, 16(%rdi)\n"
	"	mov %rbx, 24(%rdi)\n"
	"	mov %rsp, 32(%rdi)\n"
	"	mov %rbp, 40(%rdi)\n"
	"	mov %rsi, 48(%rdi)\n"
	"	mov %r8, 64(%rdi)\n"
	"	mov %r9, 72(%rdi)\n"
	"	mov %r10, 80(%rdi)\n"
	"	mov %r11, 88(%rdi)\n"
	"	mov %r12, 96(%rdi)\n"
	"	mov %r13, 104(%rdi)\n"
	"	mov %r14, 112(%rdi)\n"
	"	mov %r15, 120(%rdi)\n"
	"	mov native_scratch(%rip), %rax\n"
	"	mov %rax, 56(%rdi)\n"
	"	mov native_host_rsp(%rip), %rsp\n"
	"	pushfq\n"
	"	popq 128(%rdi)\n"
	"	cld\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	ret\n"
	".size native_run, . - native_run\n");

extern const char native_return[];

/* JMP [RIP+0] followed by the absolute address it reads. */
void native_append_return(uint8_t *p)
{
	static const uint8_t jmp_rip_indirect[6] = { 0xff, 0x25, 0, 0, 0, 0 };
	uint64_t target = (uint64_t)(uintptr_t)native_return;

	memcpy(p, jmp_rip_indirect, sizeof(jmp_rip_indirect));
	memcpy(p + sizeof(jmp_rip_indirect), &target, sizeof(target));
}

/*
 * The legacy-mode variant.  The host's data selectors and FS/GS bases are
 * saved in .data before the test's selectors go in, and restored, SS first,
 * before anything touches the stack or TLS again.  The far jump reads its
 * m16:32 pointer from .data too: no register is free once they are loaded.
 */
__asm__(
	".pushsection .data\n"
	".balign 8\n"
	"native_far: .long 0, 0\n"
	"native_host_fs_base: .quad 0\n"
	"native_host_gs_base: .quad 0\n"
	"native_host_sel: .word 0, 0, 0, 0, 0\n"
	".popsection\n"
	".text\n"
	".globl native_run_legacy\n"
	".type native_run_legacy, @function\n"
	"native_run_legacy:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	mov %rsp, native_host_rsp(%rip)\n"
	"	mov %rdi, native_regs_ptr(%rip)\n"
	"	rdfsbase %rax\n"
	"	mov %rax, native_host_fs_base(%rip)\n"
	"	rdgsbase %rax\n"
	"	mov %rax, native_host_gs_base(%rip)\n"
	"	mov %es, native_host_sel+0(%rip)\n"
	"	mov %ss, native_host_sel+2(%rip)\n"
	"	mov %ds, native_host_sel+4(%rip)\n"
	"	mov %fs, native_host_sel+6(%rip)\n"
	"	mov %gs, native_host_sel+8(%rip)\n"
	"	mov 0(%rsi), %eax\n"
	"	mov %eax, native_far(%rip)\n"
	"	movzwl 4(%rsi), %eax\n"
	"	mov %eax, native_far+4(%rip)\n"
	"	mov 6(%rsi), %es\n"
	"	mov 8(%rsi), %ss\n"
	"	mov 10(%rsi), %ds\n"
	"	mov 12(%rsi), %fs\n"
	"	mov 14(%rsi), %gs\n"
	LOAD_XMM_FROM_RDI
	"	pushq 128(%rdi)\n"
	"	popfq\n"
	"	mov 0(%rdi), %rax\n"
	"	mov 8(%rdi), %rcx\n"
	"	mov 16(%rdi), %rdx\n"
	"	mov 24(%rdi), %rbx\n"
	"	mov 40(%rdi), %rbp\n"
	"	mov 48(%rdi), %rsi\n"
	"	mov 32(%rdi), %rsp\n"
	"	mov 56(%rdi), %rdi\n"
	"	ljmpl *native_far(%rip)\n"
	".globl native_legacy_return\n"
	"native_legacy_return:\n"
	"	mov %rdi, native_scratch(%rip)\n"
	"	mov native_regs_ptr(%rip), %rdi\n"
	STORE_XMM_TO_RDI
	"	mov %rax, 0(%rdi)\n"
	"	mov %rcx, 8(%rdi)\n"
	"	mov %rdx, 16(%rdi)\n"
	"	mov %rbx, 24(%rdi)\n"
	"	mov %rsp, 32(%rdi)\n"
	"	mov %rbp, 40(%rdi)\n"
	"	mov %rsi, 48(%rdi)\n"
	"	mov native_scratch(%rip), %rax\n"
	"	mov %rax, 56(%rdi)\n"
	"	mov native_host_sel+2(%rip), %ss\n"
	"	mov native_host_rsp(%rip), %rsp\n"
	"	pushfq\n"
	"	popq 128(%rdi)\n"
	"	mov native_host_sel+0(%rip), %es\n"
	"	mov native_host_sel+4(%rip), %ds\n"
	"	mov native_host_sel+6(%rip), %fs\n"
	"	mov native_host_sel+8(%rip), %gs\n"
	"	mov native_host_fs_base(%rip), %rax\n"
	"	wrfsbase %rax\n"
	"	mov native_host_gs_base(%rip), %rax\n"
	"	wrgsbase %rax\n"
	"	cld\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	ret\n"
	".size native_run_legacy, . - native_run_legacy\n"
	".globl native_restore_fs_base\n"
	".type native_restore_fs_base, @function\n"
	"native_restore_fs_base:\n"
	"	mov native_host_fs_base(%rip), %rax\n"
	"	wrfsbase %rax\n"
	"	ret\n"
	".size native_restore_fs_base, . - native_restore_fs_base\n");

extern const char native_legacy_return[];

bool native_legacy_supported(void)
{
	return getauxval(AT_HWCAP2) & 2;	/* HWCAP2_FSGSBASE */
}

uint16_t native_ldt_segment(unsigned index, uint32_t base, uint32_t limit, bool code, bool big)
{
	bool pages = limit > 0xfffff;
	struct user_desc d = {
		.entry_number = index,
		.base_addr = base,
		.limit = pages ? limit >> 12 : limit,
		.seg_32bit = big,
		.contents = code ? 2 : 0,
		.limit_in_pages = pages,
		.useable = 1,
	};

	if (syscall(SYS_modify_ldt, 1, &d, sizeof(d)) != 0)
		return 0;
	return (uint16_t)(index << 3 | 4 | 3);	/* TI = LDT, RPL 3 */
}

/* JMP FAR ptr16:32 to the 64-bit user code segment (with 66 in 16-bit code). */
unsigned native_append_legacy_return(uint8_t *p, bool code16, uint32_t trampoline)
{
	unsigned n = 0;

	if (code16)
		p[n++] = 0x66;
	p[n++] = 0xea;
	memcpy(p + n, &trampoline, 4);
	n += 4;
	p[n++] = 0x33;
	p[n++] = 0x00;
	return n;
}

void native_write_legacy_trampoline(uint8_t *p)
{
	static const uint8_t jmp_rip_indirect[6] = { 0xff, 0x25, 0, 0, 0, 0 };
	uint64_t target = (uint64_t)(uintptr_t)native_legacy_return;

	memcpy(p, jmp_rip_indirect, sizeof(jmp_rip_indirect));
	memcpy(p + sizeof(jmp_rip_indirect), &target, sizeof(target));
}
