; Multiboot 1 header and entry of the 64-bit guests: 32-bit start, a 1:1 map of the first GiB, long mode, guest_main().
;
; The loader enters in 32-bit protected mode with paging off (see
; guest/lib/entry.asm). The 32-bit part sets up GDT, stack and .bss, builds
; 4-level tables mapping the first GiB 1:1 with 2 MiB pages (enough for the
; image and the multiboot info), enables PAE, EFER.LME and paging, and
; far-jumps into 64-bit code. The guests then build their own tables.

MB_MAGIC   equ 0x1BADB002
MB_FLAGS   equ 0x00000003           ; page-aligned modules, memory info

CODE32_SEL equ 0x08
DATA_SEL   equ 0x10
CODE64_SEL equ 0x18
STACK_SIZE equ 16384

CR0_PG     equ 1 << 31
CR4_PAE    equ 1 << 5
MSR_EFER   equ 0xc0000080
EFER_LME   equ 1 << 8
CPUID_EXT_FEATURES equ 0x80000001
CPUID_EXT_EDX_LM   equ 1 << 29
TABLE      equ 0x3                  ; present, writable: an entry pointing to a table
LARGE_PAGE equ 0x83                 ; present, writable, 2 MiB page
ENTRIES    equ 512
COM1_DATA  equ 0x3f8
DEBUG_EXIT_PORT equ 0xf4
EXIT_FAIL  equ 1

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
	push dword 0                    ; known EFLAGS: DF = 0
	popfd

	lgdt [gdt_desc]
	jmp CODE32_SEL:.reload_cs
.reload_cs:
	mov cx, DATA_SEL
	mov ds, cx
	mov es, cx
	mov fs, cx
	mov gs, cx
	mov ss, cx

	mov esi, eax                    ; magic and multiboot info, kept until guest_main()
	mov ebp, ebx
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	xor eax, eax
	rep stosb

	mov eax, CPUID_EXT_FEATURES - 1
	cpuid
	cmp eax, CPUID_EXT_FEATURES
	jb no_long_mode
	mov eax, CPUID_EXT_FEATURES
	cpuid
	test edx, CPUID_EXT_EDX_LM
	jz no_long_mode

	mov dword [boot_pml4], boot_pdpt + TABLE
	mov dword [boot_pdpt], boot_pd + TABLE
	mov edi, boot_pd
	mov eax, LARGE_PAGE
	mov ecx, ENTRIES
.fill:
	mov [edi], eax                  ; the upper halves are zero from .bss
	add eax, 0x200000
	add edi, 8
	loop .fill

	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, boot_pml4
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	or eax, CR0_PG                  ; with EFER.LME: IA-32e mode, compatibility mode until the jump
	mov cr0, eax
	jmp CODE64_SEL:long_mode

; Without printf yet: one fixed line straight to the UART, then exit value 1 (a failed check).
no_long_mode:
	mov esi, no_long_mode_msg
	mov dx, COM1_DATA
.next:
	lodsb
	test al, al
	jz .exit
	out dx, al
	jmp .next
.exit:
	mov al, EXIT_FAIL
	out DEBUG_EXIT_PORT, al
.hang:
	cli
	hlt
	jmp .hang

bits 64
long_mode:
	mov cx, DATA_SEL
	mov ds, cx
	mov es, cx
	mov fs, cx
	mov gs, cx
	mov ss, cx
	mov rsp, stack_top
	; Upper register halves are undefined after the switch: 32-bit moves zero them.
	mov r12d, esi
	mov r13d, ebp
	call runtime_init
	mov edi, r12d
	mov esi, r13d
	xor ebp, ebp                    ; end of the frame chain for debuggers
	call guest_main
	mov edi, eax
	call guest_exit                 ; does not return
.hang:
	cli
	hlt
	jmp .hang

section .rodata
no_long_mode_msg:
	db "guest: FAIL no 64-bit long mode (CPUID.80000001h:EDX.LM = 0)", 10, 0

; Accessed bits preset, so loading a selector never writes to the table.
section .data
align 16
global gdt
gdt:
	dq 0
	dq 0x00cf9b000000ffff           ; CODE32_SEL: the entry's 32-bit code
	dq 0x00cf93000000ffff           ; DATA_SEL
	dq 0x00af9b000000ffff           ; CODE64_SEL: L = 1
	dq 0x00cff3000000ffff           ; 0x20 user data: DPL 3
	dq 0x00affb000000ffff           ; 0x28 user code: L = 1, DPL 3
	dq 0, 0                         ; 0x30 TSS, 16 bytes: ring3_init() fills it in
gdt_end:

gdt_desc:
	dw gdt_end - gdt - 1
	dq gdt

section .bss
alignb 4096
boot_pml4:
	resb 4096
boot_pdpt:
	resb 4096
boot_pd:
	resb 4096
alignb 16
stack:
	resb STACK_SIZE
stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
