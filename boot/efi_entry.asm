; UEFI entry of vmm.efi and the trampoline from UEFI's long mode down to the VMM's 32-bit entry.
;
; The VMM is position-dependent (linked and run at 1 MiB, boot/vmm.ld); vmm.efi
; is a relocatable loader that carries the flat VMM image (build/vmm.bin) and
; copies it there.  The trampoline leaves long mode so that the VMM is entered
; exactly as from our BIOS stage 2: 32-bit protected mode, paging off, flat
; segments, EAX = magic, EBX = struct bios_boot_info.

%include "boot/layout.inc"

BOOT_MAGIC_UEFI equ 0x49464555      ; vmm/boot.h
CR0_PG   equ 1 << 31
CR4_PCIDE equ 1 << 17
EFER_MSR equ 0xC0000080
EFER_LME equ 1 << 8

extern efi_main
global efi_start
global efi_trampoline_start
global efi_trampoline_end
global efi_payload_start
global efi_payload_end

section .text
bits 64
; PE entry: RCX = image handle, RDX = system table (Microsoft x64 ABI).  RSP is
; 8 mod 16 here; 40 bytes keep the ABI's alignment and 32-byte shadow space.
efi_start:
	sub rsp, 40
	call efi_main
	add rsp, 40
	ret

; void trampoline(uint32_t info, uint32_t entry), Microsoft ABI: ECX, EDX.
; Runs from a copy in a page below 4 GiB that UEFI identity-maps, after
; ExitBootServices(); it is position-independent and uses no stack after
; the far return, so any such page works.
efi_trampoline_start:
	cli
	mov edi, ecx
	mov esi, edx
	; PCIDE cannot be set while paging is turned off; OVMF leaves it clear, others may not.
	mov rax, cr4
	and rax, ~CR4_PCIDE
	mov cr4, rax
	lea rax, [rel tramp_gdt]
	mov [rel tramp_gdtr + 2], rax
	lgdt [rel tramp_gdtr]
	lea rax, [rel tramp_compat]
	push qword 0x08
	push rax
	o64 retf                    ; to 32-bit compatibility mode, same (identity-mapped) page

bits 32
tramp_compat:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov ss, ax
	; Paging off first (leaves IA-32e mode), then EFER.LME may be cleared.
	mov eax, cr0
	and eax, ~CR0_PG
	mov cr0, eax
	mov ecx, EFER_MSR
	rdmsr
	and eax, ~EFER_LME
	wrmsr
	mov eax, BOOT_MAGIC_UEFI
	mov ebx, edi
	jmp esi

align 8
tramp_gdt:
	dq 0
	dq 0x00CF9A000000FFFF       ; 0x08: 32-bit code
	dq 0x00CF92000000FFFF       ; 0x10: data
tramp_gdtr:
	dw 3 * 8 - 1
	dq 0                        ; filled in with the copy's address
efi_trampoline_end:

; The flat VMM image, its first byte the 32-bit entry (boot/entry.asm .boot.head).
section .rdata
align 16
efi_payload_start:
	incbin "vmm.bin"
efi_payload_end:
