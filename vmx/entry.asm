; VM entry and exit: every guest GPR and CR2 loaded before VMLAUNCH/VMRESUME, saved after the exit.
;
; int vmx_enter(struct guest_regs *regs, int launched)
;   returns 0 after a VM exit, 1 if the entry instruction failed with
;   VMfailInvalid (no current VMCS), 2 with VMfailValid (see the VM-instruction
;   error field).  HOST_RSP is written on every call, so the exit lands on the
;   stack frame of the call that entered.

%include "vmx/guest_regs.inc"

VMCS_HOST_RSP equ 0x6C14
VMCS_HOST_RIP equ 0x6C16

global vmx_enter
global vmx_exit_landing

section .text
bits 64

vmx_enter:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi                        ; the regs pointer, found again at the exit

	mov rax, VMCS_HOST_RSP
	vmwrite rax, rsp
	jbe .fail_before_entry
	lea rdx, [rel vmx_exit_landing]
	mov rax, VMCS_HOST_RIP
	vmwrite rax, rdx
	jbe .fail_before_entry

	mov rax, [rdi + GR_CR2]
	mov cr2, rax
	test esi, esi                   ; MOVs below leave the flags alone
	mov rax, [rdi + GR_RAX]
	mov rbx, [rdi + GR_RBX]
	mov rcx, [rdi + GR_RCX]
	mov rdx, [rdi + GR_RDX]
	mov rsi, [rdi + GR_RSI]
	mov rbp, [rdi + GR_RBP]
	mov r8,  [rdi + GR_R8]
	mov r9,  [rdi + GR_R9]
	mov r10, [rdi + GR_R10]
	mov r11, [rdi + GR_R11]
	mov r12, [rdi + GR_R12]
	mov r13, [rdi + GR_R13]
	mov r14, [rdi + GR_R14]
	mov r15, [rdi + GR_R15]
	mov rdi, [rdi + GR_RDI]
	jnz .resume
	vmlaunch
	jmp .entry_failed
.resume:
	vmresume
.entry_failed:
	; Still the host: the guest registers are in the CPU, the flags say why.
	mov eax, 1
	jc .restore_host
	mov eax, 2
	jmp .restore_host
.fail_before_entry:
	mov eax, 2
.restore_host:
	add rsp, 8                      ; the regs pointer
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

vmx_exit_landing:
	; RSP = HOST_RSP: the regs pointer is on top.  Only RSP and RIP were
	; loaded from the host-state area; every other GPR is the guest's.
	push rdi
	mov rdi, [rsp + 8]
	mov [rdi + GR_RAX], rax
	mov [rdi + GR_RBX], rbx
	mov [rdi + GR_RCX], rcx
	mov [rdi + GR_RDX], rdx
	mov [rdi + GR_RSI], rsi
	mov [rdi + GR_RBP], rbp
	mov [rdi + GR_R8],  r8
	mov [rdi + GR_R9],  r9
	mov [rdi + GR_R10], r10
	mov [rdi + GR_R11], r11
	mov [rdi + GR_R12], r12
	mov [rdi + GR_R13], r13
	mov [rdi + GR_R14], r14
	mov [rdi + GR_R15], r15
	pop rax
	mov [rdi + GR_RDI], rax
	mov rax, cr2
	mov [rdi + GR_CR2], rax
	xor eax, eax
	jmp vmx_enter.restore_host
