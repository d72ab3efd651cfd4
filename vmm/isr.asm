; Interrupt entry stubs: one per vector, all funnelled into exception_dispatch(frame).
;
; Every stub leaves the same frame (struct cpu_frame in vmm/idt.h): the CPU's
; push, an error code (a zero where the CPU pushes none), the vector, and the
; fifteen general registers.

extern exception_dispatch
global isr_stub_table

section .text
bits 64

%macro isr_stub 1
isr_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
	push qword %1               ; the CPU pushed an error code
%else
	push qword 0
	push qword %1
%endif
	jmp isr_common
%endmacro

%assign vector 0
%rep 256
	isr_stub vector
%assign vector vector + 1
%endrep

isr_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	cld
	mov rdi, rsp                ; 16-byte aligned: 22 qwords above the CPU's aligned frame
	call exception_dispatch
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16                 ; vector and error code
	iretq

section .rodata
align 8
isr_stub_table:
%assign vector 0
%rep 256
	dq isr_ %+ vector
%assign vector vector + 1
%endrep
