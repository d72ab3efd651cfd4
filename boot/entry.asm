; Common 32-bit entry of both boot paths: long mode, GDT, TSS, then boot_main() in C.
;
; Entered in 32-bit protected mode with paging off and flat segments, either
; from a multiboot 1 loader (EAX = 0x2BADB002, EBX = multiboot info) or from our
; BIOS stage 2 (EAX = BOOT_MAGIC_BIOS, EBX = struct bios_boot_info).  Both end
; in boot_main(magic, info) on the boot stack with all of the first 4 GiB
; identity-mapped; vmm/paging.c maps RAM above that.

%include "boot/layout.inc"

MB_MAGIC        equ 0x1BADB002
MB_FLAGS        equ 0x00000003      ; page-align modules, give memory info
MB_LOADER_MAGIC equ 0x2BADB002

CR0_PE  equ 1 << 0
CR0_MP  equ 1 << 1
CR0_NE  equ 1 << 5
CR0_WP  equ 1 << 16
CR0_NW  equ 1 << 29
CR0_CD  equ 1 << 30
CR0_PG  equ 1 << 31
CR4_PAE equ 1 << 5
EFER_MSR equ 0xC0000080
EFER_LME equ 1 << 8
EFER_NXE equ 1 << 11

SEL_CODE64 equ 0x08
SEL_DATA   equ 0x10
SEL_TSS    equ 0x28

BOOT_STACK_SIZE equ 64 * 1024
IST_STACK_SIZE  equ 16 * 1024

extern boot_main
extern __bss_start
extern __bss_end
extern __image_end
global _start32
global gdt64
global tss64
global boot_pml4

section .boot.head progbits alloc exec nowrite align=16
bits 32
	; The BIOS stage 2 jumps here, to the first byte of the image.
	jmp _start32
	; A negative count here means the jmp outgrew its room.
	times BOOT_HEAD_IMAGE_END - ($ - $$) db 0xCC
	; Stage 2 reads this from the loaded image: its boot modules go above it.
	dd __image_end
	align 4
multiboot_header:
	dd MB_MAGIC
	dd MB_FLAGS
	dd -(MB_MAGIC + MB_FLAGS)

section .boot.text progbits alloc exec nowrite align=16
bits 32
_start32:
	cli
	cld
	mov [boot_magic], eax
	mov [boot_info], ebx

	; Zero .bss before anything lives there: page tables and stacks are in it.
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd

	mov esp, boot_stack_top

	; Long mode is required; say so on COM1 rather than triple-faulting.
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, 1 << 29
	jz no_long_mode
	mov [ext_features_edx], edx

	; Identity-map 0-4 GiB with 2 MiB pages: PML4[0] -> PDPT[0..3] -> 4 PDs.
	mov eax, boot_pdpt
	or eax, 0x3
	mov [boot_pml4], eax
	mov edi, boot_pdpt
	mov eax, boot_pd
	or eax, 0x3
	mov ecx, 4
.fill_pdpt:
	mov [edi], eax
	add eax, 4096
	add edi, 8
	loop .fill_pdpt

	mov edi, boot_pd
	mov eax, 0x83               ; present, writable, 2 MiB page
	xor edx, edx                ; bits 63:32 of the frame
	mov ecx, 4 * 512
.fill_pd:
	mov [edi], eax
	mov [edi + 4], edx
	add eax, 0x200000
	adc edx, 0
	add edi, 8
	loop .fill_pd

	lgdt [gdt64_pointer]
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax

	; Exactly PAE: whatever a loader or firmware left in CR4 (LA57, PKE, SMEP, SMAP, CET) must not
	; change what the tables below mean or reach the VMM's own state.
	mov eax, CR4_PAE
	mov cr4, eax
	mov eax, boot_pml4
	mov cr3, eax

	mov ecx, EFER_MSR
	rdmsr
	or eax, EFER_LME
	test dword [ext_features_edx], 1 << 20
	jz .no_nx
	or eax, EFER_NXE
.no_nx:
	wrmsr

	; CR0.NE is required by VMXON; WP keeps the VMM honest about read-only
	; pages.  Some BIOSes hand over with the caches off (CD/NW): turn them on.
	mov eax, cr0
	and eax, ~(CR0_CD | CR0_NW)
	or eax, CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_PG
	mov cr0, eax
	jmp SEL_CODE64:long_mode_entry

no_long_mode:
	mov esi, msg_no_long_mode
.next:
	lodsb
	test al, al
	jz .done
	mov ah, al
	mov dx, COM1_PORT + 5
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov al, ah
	mov dx, COM1_PORT
	out dx, al
	jmp .next
.done:
	mov dx, COM1_PORT + 5
.drain:
	in al, dx
	test al, 0x40               ; transmitter empty: an emulator ended sooner drops the tail
	jz .drain
	mov al, VMM_STATUS_BOOT_FAILED
	out ISA_DEBUG_EXIT_PORT, al
	mov dx, BOCHS_EXIT_PORT
	mov ax, 0x8A00
	out dx, ax
	mov ax, 0x8AE0
	out dx, ax
.halt:
	hlt
	jmp .halt

bits 64
long_mode_entry:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top

	; The TSS descriptor's base is split across the entry; fill it in now.
	lea rax, [rel tss64]
	mov [rel gdt64.tss + 2], ax
	shr rax, 16
	mov [rel gdt64.tss + 4], al
	mov [rel gdt64.tss + 7], ah
	shr rax, 16
	mov [rel gdt64.tss + 8], eax
	lea rax, [rel df_stack_top]
	mov [rel tss64 + 0x24], rax         ; IST1: #DF
	lea rax, [rel nmi_stack_top]
	mov [rel tss64 + 0x2C], rax         ; IST2: NMI and #MC
	mov ax, SEL_TSS
	ltr ax

	mov edi, [rel boot_magic]
	mov esi, [rel boot_info]
	xor ebp, ebp
	call boot_main
.halt:
	cli
	hlt
	jmp .halt

section .data
align 16
gdt64:
	dq 0
	dq 0x00AF9A000000FFFF   ; 0x08: 64-bit code, ring 0
	dq 0x00CF92000000FFFF   ; 0x10: data, ring 0
	dq 0x00CF9A000000FFFF   ; 0x18: 32-bit code (kept for mode switches)
	dq 0                    ; 0x20: unused
.tss:
	dw 103                  ; 0x28: 64-bit TSS, limit = sizeof(tss) - 1
	dw 0
	db 0
	db 0x89                 ; present, type 9 (available 64-bit TSS)
	db 0
	db 0
	dq 0
gdt64_end:

gdt64_pointer:
	dw gdt64_end - gdt64 - 1
	dq gdt64

align 16
tss64:
	times 0x66 db 0
	dw 104                  ; I/O map base past the limit: no permission bitmap

boot_magic:       dd 0
boot_info:        dd 0
ext_features_edx: dd 0

msg_no_long_mode:
	db "vmm: error: this CPU has no 64-bit long mode", 10
	db "vmm: exit status 14", 10, 0

section .bss
alignb 4096
boot_pml4: resb 4096
boot_pdpt: resb 4096
boot_pd:   resb 4 * 4096
alignb 16
boot_stack:     resb BOOT_STACK_SIZE
boot_stack_top:
df_stack:       resb IST_STACK_SIZE
df_stack_top:
nmi_stack:      resb IST_STACK_SIZE
nmi_stack_top:
