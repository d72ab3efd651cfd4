; The BIOS disk image build/vmm.img: MBR, stage 2, header, boot options, VMM.
; Assembled with -DVMM_BIN=..., -DMBR_BIN=..., -DSTAGE2_BIN=... (see Makefile).

%include "boot/layout.inc"

bits 16
org 0

	incbin MBR_BIN
stage2_start:
	incbin STAGE2_BIN
stage2_end:
	; A negative count here means stage 2 outgrew its sectors.
	times STAGE2_SECTORS * 512 - (stage2_end - stage2_start) db 0

header:
	db "VMMIMG01"
	dd CMDLINE_LBA
	dd CMDLINE_BYTES
	dd KERNEL_LBA
	dd (vmm_end - vmm_start + 511) / 512
	dd vmm_end - vmm_start
	times 512 - ($ - header) db 0

cmdline:
	times CMDLINE_BYTES db 0

vmm_start:
	incbin VMM_BIN
vmm_end:
	times (DISK_CYLINDER_BYTES - ($ - $$) % DISK_CYLINDER_BYTES) % DISK_CYLINDER_BYTES db 0
