; The BIOS disk image: MBR, stage 2, header, boot options, VMM, boot modules.
; Assembled by scripts/mkimage.sh with -DMBR_BIN=..., -DSTAGE2_BIN=...,
; -DVMM_BIN=... and, when there are modules, -DMODULES_INC=... naming a file
; that defines (layout.inc and docs/boot.md describe the fields):
;   MODULE_COUNT         the number of modules, at most IMAGE_MODULES_MAX
;   MODULE_TABLE         a macro emitting MODULE_COUNT module table entries
;   MODULE_DATA          a macro emitting the modules' bytes, each starting on a
;                        sector boundary; the entries find them by label

%include "boot/layout.inc"

%ifdef MODULES_INC
%include MODULES_INC
%else
%define MODULE_COUNT 0
%macro MODULE_TABLE 0
%endmacro
%macro MODULE_DATA 0
%endmacro
%endif

%if MODULE_COUNT > IMAGE_MODULES_MAX
%error "too many boot modules for the image header"
%endif

bits 16
org 0

	incbin MBR_BIN
stage2_start:
	incbin STAGE2_BIN
stage2_end:
	; A negative count here means stage 2 outgrew its sectors.
	times STAGE2_SECTORS * 512 - (stage2_end - stage2_start) db 0

	; Each part starts at its LBA from layout.inc (a negative count: it cannot).
	times HEADER_LBA * 512 - ($ - $$) db 0
header:
	db HEADER_MAGIC_STR
	dd CMDLINE_LBA
	dd CMDLINE_BYTES
	dd KERNEL_LBA
	dd (vmm_end - vmm_start + 511) / 512
	dd vmm_end - vmm_start
	dd MODULE_COUNT
	times HDR_MODULES - ($ - header) db 0
module_table:
	MODULE_TABLE
	; A negative count here means the table outgrew the header.
	times HEADER_SECTORS * 512 - ($ - header) db 0

	times CMDLINE_LBA * 512 - ($ - $$) db 0
cmdline:
	times CMDLINE_BYTES db 0

	times KERNEL_LBA * 512 - ($ - $$) db 0
vmm_start:
	incbin VMM_BIN
vmm_end:
	MODULE_DATA
	times (512 - ($ - $$) % 512) % 512 db 0
	times (DISK_CYLINDER_BYTES - ($ - $$) % DISK_CYLINDER_BYTES) % DISK_CYLINDER_BYTES db 0
