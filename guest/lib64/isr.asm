; Exception entry stubs of the 64-bit guests, vectors 0-31: one frame layout for all, then exception_dispatch() in C.
;
; As in guest/lib/isr.asm: a zero stands in for a missing error code, and
; the C side may rewrite the saved RIP to resume at a recovery point. The
; CPU aligns RSP to 16 before pushing; 7 + 15 quadwords keep it aligned
; for the call.

extern exception_dispatch

%define HAS_ERROR_CODE(v) ((v) == 8 || (v) == 10 || (v) == 11 || (v) == 12 || (v) == 13 || (v) == 14 || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

section .text
bits 64

%assign v 0
%rep 32
isr_stub_ %+ v:
%if !HAS_ERROR_CODE(v)
	push qword 0
%endif
	push qword v
	jmp exception_common
%assign v v + 1
%endrep

; Pushed in the reverse order of struct exc_frame (guest/lib/guest.h).
exception_common:
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
	mov rdi, rsp                    ; struct exc_frame *
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
	add rsp, 16                     ; vector and error code
	iretq

section .rodata
align 8
global isr_stub_table
isr_stub_table:
%assign v 0
%rep 32
	dq isr_stub_ %+ v
%assign v v + 1
%endrep

section .note.GNU-stack noalloc noexec nowrite progbits
