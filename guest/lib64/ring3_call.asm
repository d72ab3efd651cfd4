; ring3_call() for the 64-bit guests: iretq into a function at CPL 3, and an interrupt gate back.

DATA_SEL          equ 0x10          ; entry.asm's GDT
USER_DS           equ 0x20 | 3
USER_CS           equ 0x28 | 3
USER_RFLAGS       equ 0x3002        ; IOPL 3 so ring-3 code may print; IF = 0; bit 1 is always set
RING3_EXIT_VECTOR equ 0x30          ; guest/lib/ring3.h
USER_STACK_SIZE   equ 16384

section .text
bits 64

; uintptr_t ring3_call(uintptr_t (*fn)(uintptr_t) = rdi, uintptr_t arg = rsi)
global ring3_call
ring3_call:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	mov [kernel_rsp], rsp
	; fn's return address leads to the exit gate; RSP = 8 mod 16 at entry, as after a call.
	mov rax, user_stack_top - 8
	mov qword [rax], ring3_return
	push qword USER_DS
	push rax
	push qword USER_RFLAGS
	push qword USER_CS
	push rdi
	mov rdi, rsi
	iretq

ring3_return:
	int RING3_EXIT_VECTOR           ; RAX, fn's result, passes through

; Entered at CPL 0 on the TSS stack, which is simply abandoned; SS is null after the gate.
global ring3_exit_isr
ring3_exit_isr:
	mov rsp, [kernel_rsp]
	mov cx, DATA_SEL
	mov ss, cx
	mov ds, cx
	mov es, cx
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

section .bss
alignb 8
kernel_rsp:
	resq 1
alignb 16
user_stack:
	resb USER_STACK_SIZE
user_stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
