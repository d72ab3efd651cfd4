; Multiboot 1 header and 32-bit entry of every test guest: own GDT, stack and .bss, then guest_main().
;
; The loader (QEMU -kernel, GRUB or the VMM) enters in protected mode with
; paging and interrupts off, EAX = 0x2BADB002 and EBX = the multiboot info.
; ESP is undefined and the loader's GDT and IDT may be gone by the time we
; run, so we switch to our own stack and GDT before anything else.

MB_MAGIC   equ 0x1BADB002
MB_FLAGS   equ 0x00000003           ; page-aligned modules, memory info; no a.out kludge: the ELF headers place us

CODE_SEL   equ 0x08
DATA_SEL   equ 0x10
STACK_SIZE equ 16384

extern guest_main
extern guest_exit
extern runtime_init
extern __bss_start
extern __bss_end

section .multiboot
align 4
	dd MB_MAGIC
	dd MB_FLAGS
	dd -(MB_MAGIC + MB_FLAGS)

section .text
bits 32
global _start
_start:
	cli
	mov esp, stack_top
	push dword 0                    ; known EFLAGS: C code relies on DF = 0
	popfd

	lgdt [gdt_desc]
	jmp CODE_SEL:.reload_cs
.reload_cs:
	mov cx, DATA_SEL
	mov ds, cx
	mov es, cx
	mov fs, cx
	mov gs, cx
	mov ss, cx

	; Loaders zero .bss from the ELF headers, but a guest must not depend on
	; that; EAX and EBX (magic and info) are kept in ESI and EBP meanwhile.
	mov esi, eax
	mov ebp, ebx
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	xor eax, eax
	rep stosb

	mov esp, stack_top
	call runtime_init
	push ebp
	push esi
	xor ebp, ebp                    ; end of the frame chain for debuggers
	call guest_main
	add esp, 8
	push eax
	call guest_exit                 ; does not return
.hang:
	cli
	hlt
	jmp .hang

; Accessed bits preset, so loading a selector never writes to the table.
; The selectors from 0x18 on serve ring 3 (guest/lib/ring3.h); only
; ring3_init() fills in the TSS descriptor and loads TR.
section .data
align 8
global gdt
gdt:
	dq 0
	dq 0x00cf9b000000ffff           ; CODE_SEL: base 0, limit 4 GiB, 32-bit, execute/read
	dq 0x00cf93000000ffff           ; DATA_SEL: base 0, limit 4 GiB, read/write
	dq 0x00cffb000000ffff           ; 0x18 user code: as CODE_SEL with DPL 3
	dq 0x00cff3000000ffff           ; 0x20 user data: as DATA_SEL with DPL 3
	dq 0                            ; 0x28 TSS
gdt_end:

gdt_desc:
	dw gdt_end - gdt - 1
	dd gdt

section .bss
align 16
stack:
	resb STACK_SIZE
stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
