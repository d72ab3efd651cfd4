; BIOS stage 2: A20, the E820 map, boot options and the VMM image, then 32-bit entry.
;
; Reads the image header (layout.inc), copies the boot options and the E820
; map into low memory as struct bios_boot_info (vmm/boot.h), loads the flat
; VMM image to 1 MiB through a bounce buffer in unreal mode, and jumps to its
; first byte in 32-bit protected mode with EAX = BOOT_MAGIC_BIOS.

%include "boot/layout.inc"

SMAP equ 0x534D4150

; struct bios_boot_info
INFO_E820_COUNT   equ BIOS_INFO_ADDR + 0
INFO_E820_SIZE    equ BIOS_INFO_ADDR + 4
INFO_CMDLINE      equ BIOS_INFO_ADDR + 8
INFO_BOOT_DRIVE   equ BIOS_INFO_ADDR + 12
INFO_IMAGE_BYTES  equ BIOS_INFO_ADDR + 16

; image header fields
HDR_MAGIC          equ HEADER_ADDR + 0
HDR_CMDLINE_LBA    equ HEADER_ADDR + 8
HDR_CMDLINE_BYTES  equ HEADER_ADDR + 12
HDR_KERNEL_LBA     equ HEADER_ADDR + 16
HDR_KERNEL_SECTORS equ HEADER_ADDR + 20
HDR_KERNEL_BYTES   equ HEADER_ADDR + 24

bits 16
org STAGE2_ADDR

stage2:
	mov [boot_drive], dl
	call serial_init

	call enable_a20
	call a20_is_on
	jnz .a20_ok
	mov si, msg_no_a20
	jmp boot_fail
.a20_ok:

	; Image header: check the magic, the boot options follow it.
	mov eax, HEADER_LBA
	mov cx, 1
	mov bx, HEADER_ADDR
	xor dx, dx
	call read_sectors
	mov si, HDR_MAGIC
	mov di, header_magic
	mov cx, 8
	repe cmpsb
	je .header_ok
	mov si, msg_bad_header
	jmp boot_fail
.header_ok:
	mov eax, [HDR_CMDLINE_LBA]
	mov cx, 1
	mov bx, CMDLINE_ADDR
	xor dx, dx
	call read_sectors
	mov byte [CMDLINE_ADDR + CMDLINE_BYTES - 1], 0

	call read_e820

	mov dword [INFO_E820_SIZE], 24
	mov dword [INFO_CMDLINE], CMDLINE_ADDR
	movzx eax, byte [boot_drive]
	mov [INFO_BOOT_DRIVE], eax
	mov eax, [HDR_KERNEL_BYTES]
	mov [INFO_IMAGE_BYTES], eax

	call load_kernel

	cli
	lgdt [gdt32_pointer]
	mov eax, cr0
	or al, 1
	mov cr0, eax
	jmp dword 0x08:protected_mode

; Reads CX sectors from LBA EAX into DX:BX (segment:offset); fails the boot on error.
read_sectors:
	mov [dap.count], cx
	mov [dap.offset], bx
	mov [dap.segment], dx
	mov [dap.lba], eax
	mov dword [dap.lba + 4], 0
	mov si, dap
	mov ah, 0x42
	mov dl, [boot_drive]
	int 0x13
	jc .failed
	ret
.failed:
	mov si, msg_read_failed
	jmp boot_fail

; Loads the flat image to KERNEL_LOAD_ADDR, BOUNCE_SECTORS at a time.
load_kernel:
	mov eax, [HDR_KERNEL_LBA]
	mov [next_lba], eax
	mov eax, [HDR_KERNEL_SECTORS]
	mov [sectors_left], eax
	mov dword [load_dest], KERNEL_LOAD_ADDR
.chunk:
	mov eax, [sectors_left]
	test eax, eax
	jz .done
	cmp eax, BOUNCE_SECTORS
	jbe .count_ok
	mov eax, BOUNCE_SECTORS
.count_ok:
	mov [chunk_sectors], ax
	mov cx, ax
	mov eax, [next_lba]
	xor bx, bx
	mov dx, BOUNCE_SEG
	call read_sectors

	; Unreal mode is re-entered for every chunk: a BIOS may reload segment
	; registers inside int 13h.
	call enter_unreal
	cli
	mov esi, BOUNCE_SEG * 16
	mov edi, [load_dest]
	movzx ecx, word [chunk_sectors]
	shl ecx, 7                  ; dwords per sector
	a32 rep movsd
	sti
	mov [load_dest], edi

	movzx eax, word [chunk_sectors]
	add [next_lba], eax
	sub [sectors_left], eax
	jmp .chunk
.done:
	ret

; Gives DS and ES 4 GiB limits while staying in real mode.
enter_unreal:
	cli
	push ds
	push es
	lgdt [gdt32_pointer]
	mov eax, cr0
	or al, 1
	mov cr0, eax
	mov bx, 0x10
	mov ds, bx
	mov es, bx
	and al, 0xFE
	mov cr0, eax
	pop es
	pop ds
	sti
	ret

; E820 into BIOS_INFO_E820; ACPI 3 entries marked "ignore" are skipped.
read_e820:
	mov di, BIOS_INFO_E820
	xor ebx, ebx
	xor bp, bp
.next:
	mov dword [di + 20], 1
	mov eax, 0xE820
	mov ecx, 24
	mov edx, SMAP
	int 0x15
	jc .end
	cmp eax, SMAP
	jne .end
	cmp ecx, 20
	jb .skip
	je .keep
	test byte [di + 20], 1
	jz .skip
.keep:
	inc bp
	add di, 24
	cmp bp, BIOS_E820_MAX
	jae .end
.skip:
	test ebx, ebx
	jnz .next
.end:
	movzx eax, bp
	mov [INFO_E820_COUNT], eax
	ret

enable_a20:
	mov ax, 0x2401
	int 0x15
	in al, 0x92
	test al, 2
	jnz .done
	or al, 2
	and al, 0xFE                ; bit 0 would reset the machine
	out 0x92, al
.done:
	ret

; ZF clear when A20 is on: 0000:0500 and FFFF:0510 are then different bytes.
a20_is_on:
	push ds
	push es
	xor ax, ax
	mov ds, ax
	mov ax, 0xFFFF
	mov es, ax
	mov al, [ds:0x500]
	push ax
	mov byte [ds:0x500], 0x00
	mov byte [es:0x510], 0xFF
	cmp byte [ds:0x500], 0xFF
	pop ax
	mov [ds:0x500], al
	pop es
	pop ds
	ret

%include "boot/rm_serial.inc"

bits 32
protected_mode:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov ss, ax
	mov esp, 0x7C00
	mov eax, BOOT_MAGIC_BIOS
	mov ebx, BIOS_INFO_ADDR
	mov ecx, KERNEL_LOAD_ADDR
	jmp ecx

align 8
gdt32:
	dq 0
	dq 0x00CF9A000000FFFF       ; 0x08: 32-bit code, flat
	dq 0x00CF92000000FFFF       ; 0x10: data, flat
gdt32_pointer:
	dw gdt32_pointer - gdt32 - 1
	dd gdt32

align 4
dap:
	db 16, 0
.count:   dw 0
.offset:  dw 0
.segment: dw 0
.lba:     dq 0

boot_drive:    db 0
chunk_sectors: dw 0
next_lba:      dd 0
sectors_left:  dd 0
load_dest:     dd 0
header_magic:  db "VMMIMG01"

msg_no_a20:      db "could not enable the A20 line", 10, 0
msg_bad_header:  db "the disk image header is missing (not a vmm.img?)", 10, 0
msg_read_failed: db "reading the VMM image from the disk failed", 10, 0
