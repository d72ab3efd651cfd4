; BIOS stage 2: A20, the E820 map, boot options, the VMM image and the boot
; modules, then 32-bit entry.
;
; Reads the image header (layout.inc) and checks it, copies the boot options
; and the E820 map into low memory as struct bios_boot_info (vmm/boot.h),
; loads the flat VMM image to 1 MiB and then each boot module from the first
; 4 KiB boundary above the VMM's end (its .bss included, from the image's
; .boot.head), all through one bounce-buffer loop in unreal mode, and jumps to
; the VMM's first byte in 32-bit protected mode with EAX = BOOT_MAGIC_BIOS.
; Everything must fit in the usable RAM that runs on from 1 MiB (E820), or the
; boot fails with a message and status 14.

%include "boot/layout.inc"

SMAP           equ 0x534D4150
E820_USABLE    equ 1
E820_ENTRY     equ 24
LOAD_LIMIT_MAX equ 0xFFFFF000      ; unreal-mode addresses are 32-bit
MSG_BUF_BYTES  equ 240

; struct bios_boot_info
INFO_E820_COUNT   equ BIOS_INFO_ADDR + 0
INFO_E820_SIZE    equ BIOS_INFO_ADDR + 4
INFO_CMDLINE      equ BIOS_INFO_ADDR + 8
INFO_BOOT_DRIVE   equ BIOS_INFO_ADDR + 12
INFO_IMAGE_BYTES  equ BIOS_INFO_ADDR + 16
INFO_MODULE_COUNT equ BIOS_INFO_ADDR + 20
INFO_MODULES      equ BIOS_INFO_ADDR + 24

; struct bios_module
BMOD_START   equ 0
BMOD_END     equ 4
BMOD_CMDLINE equ 8

; image header fields
HDR_MAGIC          equ HEADER_ADDR + HDR_OFF_MAGIC
HDR_CMDLINE_LBA    equ HEADER_ADDR + HDR_OFF_CMDLINE_LBA
HDR_CMDLINE_BYTES  equ HEADER_ADDR + HDR_OFF_CMDLINE_BYTES
HDR_KERNEL_LBA     equ HEADER_ADDR + HDR_OFF_KERNEL_LBA
HDR_KERNEL_SECTORS equ HEADER_ADDR + HDR_OFF_KERNEL_SECTORS
HDR_KERNEL_BYTES   equ HEADER_ADDR + HDR_OFF_KERNEL_BYTES
HDR_MODULE_COUNT   equ HEADER_ADDR + HDR_OFF_MODULE_COUNT
HDR_MODULE_TABLE   equ HEADER_ADDR + HDR_MODULES

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

	; Image header: check the magic and the fields, the boot options follow it.
	mov eax, HEADER_LBA
	mov cx, HEADER_SECTORS
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
	call check_header
	mov eax, [HDR_CMDLINE_LBA]
	mov cx, 1
	mov bx, CMDLINE_ADDR
	xor dx, dx
	call read_sectors
	mov bx, [HDR_CMDLINE_BYTES]         ; 1..CMDLINE_BYTES (check_header)
	mov byte [bx + CMDLINE_ADDR - 1], 0

	call read_e820
	call find_load_limit

	mov dword [INFO_E820_SIZE], E820_ENTRY
	mov dword [INFO_CMDLINE], CMDLINE_ADDR
	movzx eax, byte [boot_drive]
	mov [INFO_BOOT_DRIVE], eax
	mov eax, [HDR_KERNEL_BYTES]
	mov [INFO_IMAGE_BYTES], eax
	mov dword [INFO_MODULE_COUNT], 0
	mov dword [INFO_MODULES], BIOS_MODULES_ADDR

	call load_vmm
	call load_modules

	cli
	lgdt [gdt32_pointer]
	mov eax, cr0
	or al, 1
	mov cr0, eax
	jmp dword 0x08:protected_mode

; Fails the boot unless the header's fields agree with each other and with
; layout.inc: options size, VMM size and sectors, module count, and every
; module entry (after the VMM on the disk, command line NUL-terminated).
check_header:
	mov eax, [HDR_CMDLINE_BYTES]
	dec eax
	cmp eax, CMDLINE_BYTES - 1          ; 1..CMDLINE_BYTES, unsigned
	jbe .options_ok
	mov si, msg_bad_options
	jmp boot_fail
.options_ok:
	mov eax, [HDR_KERNEL_BYTES]
	test eax, eax
	jz .bad_vmm
	add eax, 511
	jc .bad_vmm
	shr eax, 9
	cmp eax, [HDR_KERNEL_SECTORS]
	jne .bad_vmm
	mov eax, [HDR_KERNEL_LBA]
	cmp eax, KERNEL_LBA
	jb .bad_vmm
	add eax, [HDR_KERNEL_SECTORS]
	jc .bad_vmm
	mov [modules_min_lba], eax

	mov eax, [HDR_MODULE_COUNT]
	cmp eax, IMAGE_MODULES_MAX
	jbe .count_ok
	push eax
	mov di, msg_buf
	mov si, msg_count_1
	call msg_str
	pop eax
	call msg_dec
	mov si, msg_count_2
	call msg_str
	mov eax, IMAGE_MODULES_MAX
	call msg_dec
	mov si, msg_count_3
	call msg_str
	jmp msg_fail
.count_ok:
	mov dword [cur_module], 0
	mov word [cur_entry], HDR_MODULE_TABLE
.entry:
	mov eax, [cur_module]
	cmp eax, [HDR_MODULE_COUNT]
	jae .done
	mov si, [cur_entry]
	lea di, [si + MOD_OFF_CMDLINE]
	mov cx, MODULE_CMDLINE_BYTES
	xor al, al
	repne scasb
	je .cmdline_ok
	mov si, msg_mod_unterminated
	jmp module_fail
.cmdline_ok:
	mov si, [cur_entry]
	mov eax, [si + MOD_OFF_LBA]
	cmp eax, [modules_min_lba]
	jae .lba_ok
	mov si, msg_mod_lba
	jmp module_fail
.lba_ok:
	inc dword [cur_module]
	add word [cur_entry], MODULE_ENTRY_SIZE
	jmp .entry
.done:
	ret
.bad_vmm:
	mov si, msg_bad_vmm
	jmp boot_fail

; Sets load_limit to the end of the usable RAM that runs on from 1 MiB,
; joining E820 entries that touch or overlap; at most LOAD_LIMIT_MAX.
; It stays KERNEL_LOAD_ADDR when no usable entry covers 1 MiB.
find_load_limit:
	mov dword [load_limit], KERNEL_LOAD_ADDR
.rescan:
	mov si, BIOS_INFO_E820
	mov cx, [INFO_E820_COUNT]
.entry:
	jcxz .done
	cmp dword [si + 16], E820_USABLE
	jne .next
	cmp dword [si + 4], 0
	jne .next                           ; starts at 4 GiB or above
	mov eax, [si]
	cmp eax, [load_limit]
	ja .next                            ; a gap before it
	mov edx, [si + 12]
	add eax, [si + 8]
	adc edx, 0
	jnz .cap                            ; runs to 4 GiB or beyond
	cmp eax, LOAD_LIMIT_MAX
	ja .cap
	cmp eax, [load_limit]
	jbe .next
	mov [load_limit], eax
	jmp .rescan                         ; an earlier entry may continue it
.next:
	add si, E820_ENTRY
	dec cx
	jmp .entry
.cap:
	mov dword [load_limit], LOAD_LIMIT_MAX
.done:
	ret

; Loads the flat VMM image to KERNEL_LOAD_ADDR, then reads its end (with .bss)
; from .boot.head into image_end and checks that it fits too.
load_vmm:
	cmp dword [load_limit], KERNEL_LOAD_ADDR
	jne .have_ram
	mov si, msg_no_ram
	jmp boot_fail
.have_ram:
	mov eax, [HDR_KERNEL_SECTORS]       ; < 2^23 (check_header)
	shl eax, 9
	add eax, KERNEL_LOAD_ADDR
	jc .too_big
	cmp eax, [load_limit]
	ja .too_big
	mov eax, [HDR_KERNEL_LBA]
	mov ecx, [HDR_KERNEL_SECTORS]
	mov edi, KERNEL_LOAD_ADDR
	call load_high

	call enter_unreal
	mov eax, [dword KERNEL_LOAD_ADDR + BOOT_HEAD_IMAGE_END]
	sti
	mov [image_end], eax
	mov edx, [HDR_KERNEL_BYTES]
	add edx, KERNEL_LOAD_ADDR
	cmp eax, edx
	jb .bad_end
	cmp eax, [load_limit]
	ja .too_big
	ret
.bad_end:
	push eax
	mov di, msg_buf
	mov si, msg_bad_end_1
	call msg_str
	pop eax
	call msg_hex
	mov si, msg_bad_end_2
	call msg_str
	jmp msg_fail
.too_big:                                   ; EAX: the end it needs
	push eax
	mov di, msg_buf
	mov si, msg_vmm_too_big
	call msg_str
	pop eax
	call msg_hex
	jmp limit_fail

; Loads every module of the header's table, each from the next 4 KiB boundary
; (the first above image_end), and records it at BIOS_MODULES_ADDR.
load_modules:
	mov eax, [image_end]                ; <= load_limit: no overflow
	add eax, 4095
	and eax, ~4095
	mov [module_dest], eax
	mov dword [cur_module], 0
	mov word [cur_entry], HDR_MODULE_TABLE
	mov word [cur_info], BIOS_MODULES_ADDR
.next:
	mov eax, [cur_module]
	cmp eax, [HDR_MODULE_COUNT]
	jae .done
	mov si, [cur_entry]
	mov eax, [si + MOD_OFF_BYTES]
	mov ecx, eax
	shr ecx, 9
	test eax, 511
	jz .whole
	inc ecx
.whole:
	mov [module_sectors], ecx
	; The whole sectors land in RAM: they must end below the limit.
	mov eax, ecx
	mov edx, 512
	mul edx
	test edx, edx
	jnz .no_fit
	add eax, [module_dest]
	jc .no_fit
	cmp eax, [load_limit]
	ja .no_fit

	mov di, [cur_info]
	mov eax, [module_dest]
	mov [di + BMOD_START], eax
	add eax, [si + MOD_OFF_BYTES]
	mov [di + BMOD_END], eax
	add eax, 4095                       ; <= load_limit: no overflow
	and eax, ~4095
	mov [next_module_dest], eax
	lea ax, [si + MOD_OFF_CMDLINE]
	movzx eax, ax
	mov [di + BMOD_CMDLINE], eax

	mov eax, [si + MOD_OFF_LBA]
	mov ecx, [module_sectors]
	mov edi, [module_dest]
	call load_high

	mov eax, [next_module_dest]
	mov [module_dest], eax
	inc dword [cur_module]
	mov eax, [cur_module]
	mov [INFO_MODULE_COUNT], eax
	add word [cur_entry], MODULE_ENTRY_SIZE
	add word [cur_info], BIOS_MODULE_SIZE
	jmp .next
.done:
	ret
.no_fit:
	call module_msg
	mov si, [cur_entry]
	mov eax, [si + MOD_OFF_BYTES]
	call msg_dec
	mov si, msg_mod_bytes_at
	call msg_str
	mov eax, [module_dest]
	call msg_hex
	mov si, msg_mod_no_fit
	call msg_str
	jmp limit_fail

; Reads ECX sectors from LBA EAX to the flat address EDI, BOUNCE_SECTORS at a time.
load_high:
	mov [next_lba], eax
	mov [sectors_left], ecx
	mov [load_dest], edi
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
	; registers inside int 13h (and an interrupt handler would, so none may run).
	call enter_unreal
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

; Gives DS and ES 4 GiB limits while staying in real mode.  Returns with
; interrupts off: the caller does its 32-bit accesses, then sti.
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
	ret

; E820 into BIOS_INFO_E820; ACPI 3 entries marked "ignore" are skipped.
read_e820:
	mov di, BIOS_INFO_E820
	xor ebx, ebx
	xor bp, bp
.next:
	mov dword [di + 20], 1
	mov eax, 0xE820
	mov ecx, E820_ENTRY
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
	add di, E820_ENTRY
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

; --- failure messages with numbers, built in msg_buf at DI ----------------

; Starts "boot module N ('CMDLINE'): " for the module cur_module/cur_entry.
module_msg:
	mov di, msg_buf
	mov si, msg_mod_1
	call msg_str
	mov eax, [cur_module]
	call msg_dec
	mov si, msg_mod_2
	call msg_str
	mov si, [cur_entry]
	add si, MOD_OFF_CMDLINE
	mov cx, MODULE_CMDLINE_BYTES
	call msg_strn
	mov si, msg_mod_3
	jmp msg_str

; Fails the boot with the module prefix and the string at SI.
module_fail:
	push si
	call module_msg
	pop si
	call msg_str
	jmp msg_fail

; Ends the message with ", but usable RAM from 1 MiB ends at LIMIT" and fails.
limit_fail:
	mov si, msg_limit
	call msg_str
	mov eax, [load_limit]
	call msg_hex
	jmp msg_fail

msg_fail:
	mov byte [di], 10
	mov byte [di + 1], 0
	mov si, msg_buf
	jmp boot_fail

; Appends AL, keeping room for msg_fail's newline and NUL.
msg_char:
	cmp di, msg_buf + MSG_BUF_BYTES - 2
	jae .full
	mov [di], al
	inc di
.full:
	ret

; Appends the NUL-terminated string at SI (msg_strn: at most CX characters); clobbers AL.
msg_str:
	mov cx, 0xFFFF
msg_strn:
	jcxz .done
.next:
	lodsb
	test al, al
	jz .done
	call msg_char
	loop .next
.done:
	ret

; Appends EAX in decimal.
msg_dec:
	mov ecx, 10
	xor bx, bx
.divide:
	xor edx, edx
	div ecx
	push dx
	inc bx
	test eax, eax
	jnz .divide
.digit:
	pop ax
	add al, '0'
	call msg_char
	dec bx
	jnz .digit
	ret

; Appends EAX as 0x and 8 hex digits.
msg_hex:
	mov edx, eax
	mov al, '0'
	call msg_char
	mov al, 'x'
	call msg_char
	mov cx, 8
.digit:
	rol edx, 4
	mov al, dl
	and al, 0x0F
	add al, '0'
	cmp al, '9'
	jbe .put
	add al, 'a' - '0' - 10
.put:
	call msg_char
	loop .digit
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

boot_drive:       db 0
chunk_sectors:    dw 0
cur_entry:        dw 0
cur_info:         dw 0
align 4
next_lba:         dd 0
sectors_left:     dd 0
load_dest:        dd 0
load_limit:       dd 0
image_end:        dd 0
modules_min_lba:  dd 0
module_dest:      dd 0
next_module_dest: dd 0
module_sectors:   dd 0
cur_module:       dd 0
header_magic:     db HEADER_MAGIC_STR

msg_no_a20:      db "could not enable the A20 line", 10, 0
msg_bad_header:  db "the disk image header is missing (not a vmm.img?)", 10, 0
msg_read_failed: db "reading the VMM image from the disk failed", 10, 0
msg_bad_options: db "bad disk image header: the boot options field is not 1 to 512 bytes", 10, 0
msg_bad_vmm:     db "bad disk image header: the VMM's LBA, size and sector count disagree", 10, 0
msg_no_ram:      db "the E820 memory map has no usable RAM at 1 MiB", 10, 0
msg_count_1:     db "bad disk image header: ", 0
msg_count_2:     db " boot modules, at most ", 0
msg_count_3:     db " fit", 0
msg_bad_end_1:   db "bad VMM image: its end address field (", 0
msg_bad_end_2:   db ") is below its own end", 0
msg_vmm_too_big: db "the VMM does not fit in RAM: it needs RAM up to ", 0
msg_mod_1:       db "module ", 0
msg_mod_2:       db " ('", 0
msg_mod_3:       db "'): ", 0
msg_mod_unterminated: db "bad disk image header: the command line is not NUL-terminated", 0
msg_mod_lba:     db "bad disk image header: its LBA is not after the VMM", 0
msg_mod_bytes_at: db " bytes at ", 0
msg_mod_no_fit:  db " do not fit in RAM", 0
msg_limit:       db ", usable RAM from 1 MiB ends at ", 0

msg_buf: times MSG_BUF_BYTES db 0
