; BIOS boot sector: loads stage 2 with int 13h extended reads and jumps to it.

%include "boot/layout.inc"

bits 16
org 0x7C00

start:
	cli
	xor ax, ax
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov sp, 0x7C00
	jmp 0:.canonical_cs         ; some BIOSes enter at 07C0:0000
.canonical_cs:
	sti
	cld
	mov [boot_drive], dl

	mov ah, 0x41
	mov bx, 0x55AA
	int 0x13
	jc .no_extensions
	cmp bx, 0xAA55
	jne .no_extensions
	test cx, 1                  ; packet (DAP) access supported
	jz .no_extensions

	mov si, stage2_dap
	mov ah, 0x42
	mov dl, [boot_drive]
	int 0x13
	jc .read_failed

	mov dl, [boot_drive]
	jmp 0:STAGE2_ADDR

.no_extensions:
	mov si, msg_no_extensions
	jmp boot_fail
.read_failed:
	mov si, msg_read_failed
	jmp boot_fail

%include "boot/rm_serial.inc"

align 4
stage2_dap:
	db 16, 0
	dw STAGE2_SECTORS
	dw STAGE2_ADDR, 0           ; offset, segment
	dq STAGE2_LBA

boot_drive: db 0

msg_no_extensions: db "the BIOS has no int 13h extensions", 10, 0
msg_read_failed:   db "reading stage 2 from the disk failed", 10, 0

	times 510 - ($ - $$) db 0
	dw 0xAA55
