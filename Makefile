# Build, run and test the VMM.  `make run` and `make test` are the two entry points.

BUILD    ?= build
CC       := gcc
HOST_CC  := gcc
NASM     := nasm
LD       := ld
OBJCOPY  := objcopy

# The VMM: freestanding, no red zone (interrupts use the kernel stack), no SSE
# (the VMM never saves guest FPU state around its own code).
VMM_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie \
	-mno-red-zone -mgeneral-regs-only -mno-mmx -mno-sse -mno-sse2 -mcmodel=small \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
	-fno-tree-loop-distribute-patterns -fno-strict-aliasing \
	-Wall -Wextra -Werror -I. -MMD -MP
VMM_NASMFLAGS := -f elf64 -g -I./
VMM_LDFLAGS := -m elf_x86_64 -nostdlib -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T boot/vmm.ld

# Hosted tests of the portable parts, under ASan and UBSan.
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -I. \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOST_LDLIBS := -lcmocka

VMM_C_SRCS   := $(sort $(wildcard vmm/*.c vmx/*.c mmu/*.c devices/*.c))
VMM_ASM_SRCS := boot/entry.asm vmm/isr.asm vmx/entry.asm
VMM_OBJS     := $(VMM_C_SRCS:%.c=$(BUILD)/obj/%.o) $(VMM_ASM_SRCS:%.asm=$(BUILD)/obj/%.o)

# vmm.efi, the UEFI loader (boot/efi_*): Microsoft-ABI calls into the firmware, position-
# independent code (the firmware loads it anywhere and applies its .reloc), no red zone
# (firmware interrupt handlers share the stack).  It carries build/vmm.bin.
EFI_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib -fpie -fvisibility=hidden \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -Wall -Wextra -Werror -I. -MMD -MP
EFI_NASMFLAGS := -f elf64 -I./ -I$(BUILD)/
# PE32+, subsystem 10 (EFI application); --dynamicbase marks it relocatable, which needs .reloc.
EFI_LDFLAGS := -m i386pep --subsystem 10 -e efi_start --dynamicbase --enable-reloc-section \
	-nostdlib -T boot/efi.ld
EFI_OBJS := $(BUILD)/efi/boot/efi_entry.o $(BUILD)/efi/boot/efi_main.o $(BUILD)/efi/boot/efi_memmap.o \
	$(BUILD)/efi/boot/efi_modlist.o

.DEFAULT_GOAL := all
include $(wildcard tests/unit/*.mk tests/bench/*.mk tests/fuzz/*.mk)
include guest/guest.mk

# The built-in guests packed into build/vmm.img; `make run` runs them in this order.
IMAGE_GUESTS := $(foreach g,hello cpuid io vmx_insn hypercall exitcost,$(BUILD)/guest/$(g).elf)
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/test_%)

.PHONY: all vmm efi unit-tests run test test-unit test-boot deps clean help
all: vmm unit-tests guests
vmm: $(BUILD)/vmm.img $(BUILD)/vmm.elf32 $(BUILD)/vmm-esp.img
unit-tests: $(UNIT_BINS)

help:
	@echo "make run   [HOST=auto|bochs|qemu-kvm|qemu-tcg] [CPU=<bochs model>] [VMM_ARGS='log=debug']"
	@echo "           [GUEST='k1.elf k2.elf'] [ARGS='guest args']  run your own multiboot kernels"
	@echo "           [MODULE='file[:args] ...']  multiboot modules for each guest in GUEST"
	@echo "           [FIRMWARE=bios|uefi]  uefi: build/vmm-esp.img under OVMF (QEMU hosts only)"
	@echo "make efi   build/vmm.efi and the FAT ESP image build/vmm-esp.img"
	@echo "make test  unit tests (ASan/UBSan) and boot tests under Bochs and QEMU"
	@echo "make clean"

# Flags are prerequisites: a changed flag rebuilds what it affects.
$(BUILD)/flags.%: FORCE
	@mkdir -p $(@D)
	@echo '$($*)' | cmp -s - $@ || echo '$($*)' > $@
FORCE:
.PRECIOUS: $(BUILD)/flags.%

# V=1 shows whole command lines.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c $(BUILD)/flags.VMM_CFLAGS
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(VMM_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.asm $(BUILD)/flags.VMM_NASMFLAGS
	@mkdir -p $(@D)
	@echo "  NASM    $<"
	$(Q)$(NASM) $(VMM_NASMFLAGS) -MD $(@:.o=.d) -MP -o $@ $<

$(BUILD)/vmm.elf64: $(VMM_OBJS) boot/vmm.ld $(BUILD)/flags.VMM_LDFLAGS
	@echo "  LD      $@"
	$(Q)$(LD) $(VMM_LDFLAGS) -o $@ $(VMM_OBJS)

# QEMU's multiboot loader takes only ELF32; the code inside stays 64-bit after the 32-bit entry.
$(BUILD)/vmm.elf32: $(BUILD)/vmm.elf64
	$(OBJCOPY) -O elf32-i386 $< $@

$(BUILD)/vmm.bin: $(BUILD)/vmm.elf64
	$(OBJCOPY) -O binary $< $@

$(BUILD)/boot/%.bin: boot/%.asm boot/layout.inc boot/rm_serial.inc
	@mkdir -p $(@D)
	$(NASM) -f bin -I./ -o $@ $<

# Guest files (no ":ARGS") that build/vmm.img carries as boot modules; scripts/mkimage.sh.
IMAGE_GUESTS ?=
$(BUILD)/vmm.img: scripts/mkimage.sh boot/image.asm boot/layout.inc $(BUILD)/boot/mbr.bin \
		$(BUILD)/boot/stage2.bin $(BUILD)/vmm.bin $(IMAGE_GUESTS) $(BUILD)/flags.IMAGE_GUESTS
	@echo "  MKIMAGE $@"
	$(Q)scripts/mkimage.sh --mbr $(BUILD)/boot/mbr.bin --stage2 $(BUILD)/boot/stage2.bin \
		$@ $(BUILD)/vmm.bin $(IMAGE_GUESTS)

$(BUILD)/efi/%.o: %.c $(BUILD)/flags.EFI_CFLAGS
	@mkdir -p $(@D)
	@echo "  CC      $< (efi)"
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

$(BUILD)/efi/boot/efi_entry.o: boot/efi_entry.asm $(BUILD)/vmm.bin $(BUILD)/flags.EFI_NASMFLAGS
	@mkdir -p $(@D)
	@echo "  NASM    $<"
	$(Q)$(NASM) $(EFI_NASMFLAGS) -MD $(@:.o=.d) -MP -o $@ $<

$(BUILD)/vmm.efi: $(EFI_OBJS) boot/efi.ld $(BUILD)/flags.EFI_LDFLAGS
	@echo "  LD      $@"
	$(Q)$(LD) $(EFI_LDFLAGS) -o $@ $(EFI_OBJS)

# The EFI system partition: a FAT image with the removable-media boot path OVMF tries first,
# and the guests of IMAGE_GUESTS in EFI/VMM/ with the MODULES.TXT that lists them (docs/boot.md).
$(BUILD)/vmm-esp.img: $(BUILD)/vmm.efi $(IMAGE_GUESTS) $(BUILD)/flags.IMAGE_GUESTS
	@echo "  ESP     $@"
	$(Q)rm -f $@.tmp $@.modules
	$(Q)mformat -i $@.tmp -C -T 65536 -h 64 -s 32 -v VMMESP ::
	$(Q)mmd -i $@.tmp ::/EFI ::/EFI/BOOT ::/EFI/VMM
	$(Q)mcopy -i $@.tmp $< ::/EFI/BOOT/BOOTX64.EFI
	$(Q)for g in $(IMAGE_GUESTS); do echo "$${g##*/}"; done >$@.modules
	$(Q)$(if $(IMAGE_GUESTS),mcopy -i $@.tmp $(IMAGE_GUESTS) ::/EFI/VMM/ &&) \
		mcopy -i $@.tmp $@.modules ::/EFI/VMM/MODULES.TXT
	$(Q)rm -f $@.modules
	$(Q)mv $@.tmp $@

efi: $(BUILD)/vmm.efi $(BUILD)/vmm-esp.img

.SECONDEXPANSION:
HEADERS := $(wildcard vmm/*.h vmx/*.h mmu/*.h devices/*.h tests/unit/*.h)
$(BUILD)/tests/test_%: tests/unit/test_%.c $$(UNIT_SRCS_$$*) $(HEADERS) $(BUILD)/flags.HOST_CFLAGS
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -o $@ $(filter %.c,$^) $(HOST_LDLIBS)

deps:
	@scripts/deps.sh

# HOST, CPU, VMM_ARGS, GUEST, ARGS (and the rest below) reach scripts/run through the environment.
export HOST CPU VMM_ARGS BIOS BOOT MEM TIMEOUT GUEST ARGS MODULE FIRMWARE
run: deps
	@$(MAKE) --no-print-directory vmm $(if $(filter uefi,$(FIRMWARE)),efi)
	scripts/run

test: deps
	@$(MAKE) --no-print-directory all
	tests/run-all.sh

test-unit: unit-tests
	tests/run-all.sh unit

test-boot: vmm
	tests/run-all.sh boot

clean:
	rm -rf $(BUILD)

-include $(VMM_OBJS:.o=.d) $(EFI_OBJS:.o=.d)
