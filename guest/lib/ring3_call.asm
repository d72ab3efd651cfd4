; ring3_call() for the 32-bit guests: iretd into a function at CPL 3, and an interrupt gate back.

KERNEL_DS         equ 0x10          ; entry.asm's GDT
USER_CS           equ 0x18 | 3
USER_DS           equ 0x20 | 3
USER_EFLAGS       equ 0x3002        ; IOPL 3 so ring-3 code may print; IF = 0; bit 1 is always set
RING3_EXIT_VECTOR equ 0x30          ; guest/lib/ring3.h
USER_STACK_SIZE   equ 16384

section .text
bits 32

; uintptr_t ring3_call(uintptr_t (*fn)(uintptr_t), uintptr_t arg)
global ring3_call
ring3_call:
	push ebp
	push ebx
	push esi
	push edi
	mov [kernel_esp], esp
	mov eax, [esp + 20]             ; fn
	mov ecx, [esp + 24]             ; arg
	; fn's frame on the user stack: the return address leads to the exit gate.
	mov edx, user_stack_top - 8
	mov [edx + 4], ecx
	mov dword [edx], ring3_return
	; Data selectors with DPL 0 would be nulled by the iretd to CPL 3.
	mov bx, USER_DS
	mov ds, bx
	mov es, bx
	mov fs, bx
	mov gs, bx
	push dword USER_DS
	push edx
	push dword USER_EFLAGS
	push dword USER_CS
	push eax
	iretd

ring3_return:
	int RING3_EXIT_VECTOR           ; EAX, fn's result, passes through

; Entered at CPL 0 on the TSS stack, which is simply abandoned.
global ring3_exit_isr
ring3_exit_isr:
	mov esp, [kernel_esp]
	mov bx, KERNEL_DS
	mov ds, bx
	mov es, bx
	mov fs, bx
	mov gs, bx
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

section .bss
alignb 4
kernel_esp:
	resd 1
alignb 16
user_stack:
	resb USER_STACK_SIZE
user_stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
