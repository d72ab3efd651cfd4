; Exception entry stubs for vectors 0-31: one frame layout for all, then exception_dispatch() in C.
;
; Vectors without a CPU error code push a zero so struct exc_frame
; (guest/lib/guest.h) is the same for every vector. The C side may rewrite
; the saved EIP to resume at a recovery point; iretd then goes there.

extern exception_dispatch

; Vectors for which the CPU pushes an error code.
%define HAS_ERROR_CODE(v) ((v) == 8 || (v) == 10 || (v) == 11 || (v) == 12 || (v) == 13 || (v) == 14 || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

section .text
bits 32

%assign v 0
%rep 32
isr_stub_ %+ v:
%if !HAS_ERROR_CODE(v)
	push dword 0
%endif
	push dword v
	jmp exception_common
%assign v v + 1
%endrep

exception_common:
	pushad
	cld                             ; the faulting code may have had DF = 1; C needs DF = 0
	push esp                        ; struct exc_frame *
	call exception_dispatch
	add esp, 4
	popad
	add esp, 8                      ; vector and error code
	iretd

section .rodata
align 4
global isr_stub_table
isr_stub_table:
%assign v 0
%rep 32
	dd isr_stub_ %+ v
%assign v v + 1
%endrep

section .note.GNU-stack noalloc noexec nowrite progbits
