# Make fragment for the test guests: small multiboot kernels the VMM (and QEMU -kernel) runs.
#
# Included by the top-level Makefile, which defines BUILD, Q and the
# $(BUILD)/flags.% rule; the defaults below only serve standalone use.

BUILD ?= build
Q ?= @

GUEST_NAMES := hello cpuid io vmx_insn hypercall triple_fault loop exitcost pic_pit \
	paging32 paging_pae rmap_chain pfbench mmio mmiobench zapwork \
	fwcfg pci testdev
# ACPI tables and the PM timer (guest/acpi.c).
GUEST_NAMES += acpi
# MSR rules and CPUID consistency (guest/msr.c, guest/cpuid_check.c).
GUEST_NAMES += msr cpuid_check
# The local APIC (guest/apic.c).
GUEST_NAMES += apic
# Debug registers across exits, and real mode / big real mode (guest/debugreg.c, guest/realmode.c).
GUEST_NAMES += debugreg realmode
# The I/O APIC (guest/ioapic.c).
GUEST_NAMES += ioapic
# Multiboot modules given to a guest (guest/modules.c), with the module files its rows pass.
GUEST_NAMES += modules
# Linked at 4 MiB, as many QEMU test kernels are (guest/lib/guest.ld takes GUEST_LOAD_BASE).
GUEST_NAMES += bigimage
$(BUILD)/guest/bigimage.elf: GUEST_EXTRA_LDFLAGS := --defsym=GUEST_LOAD_BASE=0x400000

# Guests that run in 64-bit long mode, on the runtime in guest/lib64/.
GUEST64_NAMES := paging64
# CR8 is the local APIC's TPR: reachable only in 64-bit mode (guest/apic_cr8.c).
GUEST64_NAMES += apic_cr8

GUEST_CC   ?= gcc
GUEST_NASM ?= nasm
GUEST_LD   ?= ld

# Freestanding, no FPU/SIMD state: the guests run with whatever CR0/CR4
# the loader left, so they must not touch x87/SSE registers.
GUEST_COMMON_CFLAGS := -ffreestanding -fno-pic -fno-pie -nostdlib \
	-fno-stack-protector -fno-asynchronous-unwind-tables -mno-sse -mno-mmx \
	-O2 -g -Wall -Wextra -Werror -std=gnu11 -I. -MMD -MP
GUEST_CFLAGS := -m32 -march=i686 $(GUEST_COMMON_CFLAGS)
# No red zone: exceptions at CPL 0 push onto the interrupted code's stack.
GUEST64_CFLAGS := -m64 -mcmodel=small -mno-red-zone $(GUEST_COMMON_CFLAGS)
GUEST_NASMFLAGS := -f elf32 -g -F dwarf
GUEST_LDFLAGS := -m elf_i386 -nostdlib -z max-page-size=0x1000 -z noexecstack -T guest/lib/guest.ld
GUEST64_NASMFLAGS := -f elf64 -g -F dwarf
GUEST64_LDFLAGS := -m elf_x86_64 -nostdlib -z max-page-size=0x1000 -z noexecstack -T guest/lib64/guest.ld

GUEST_OBJDIR   := $(BUILD)/guest/obj
GUEST_LIB_C    := $(sort $(wildcard guest/lib/*.c))
GUEST_LIB_ASM  := $(sort $(wildcard guest/lib/*.asm))
GUEST_LIB_OBJS := $(GUEST_LIB_C:guest/%.c=$(GUEST_OBJDIR)/%.o) $(GUEST_LIB_ASM:guest/%.asm=$(GUEST_OBJDIR)/%.o)
GUEST_MAIN_OBJS := $(GUEST_NAMES:%=$(GUEST_OBJDIR)/%.o)
GUEST_C_OBJS   := $(GUEST_LIB_C:guest/%.c=$(GUEST_OBJDIR)/%.o) $(GUEST_MAIN_OBJS)
GUEST_ASM_OBJS := $(GUEST_LIB_ASM:guest/%.asm=$(GUEST_OBJDIR)/%.o)

# The 64-bit runtime: entry, IDT, stubs and ring 3 from guest/lib64/, the
# mode-independent C of guest/lib/ compiled again for 64-bit.
GUEST64_OBJDIR   := $(BUILD)/guest/obj64
GUEST64_SHARED_C := $(addprefix guest/lib/,exception.c paging.c printf.c runtime.c serial.c string.c vmm_detect.c)
GUEST64_LIB_C    := $(GUEST64_SHARED_C) $(sort $(wildcard guest/lib64/*.c))
GUEST64_LIB_ASM  := $(sort $(wildcard guest/lib64/*.asm))
GUEST64_LIB_OBJS := $(GUEST64_LIB_C:guest/%.c=$(GUEST64_OBJDIR)/%.o) $(GUEST64_LIB_ASM:guest/%.asm=$(GUEST64_OBJDIR)/%.o)
GUEST64_C_OBJS   := $(GUEST64_LIB_C:guest/%.c=$(GUEST64_OBJDIR)/%.o) $(GUEST64_NAMES:%=$(GUEST64_OBJDIR)/%.o)
GUEST64_ASM_OBJS := $(GUEST64_LIB_ASM:guest/%.asm=$(GUEST64_OBJDIR)/%.o)

# bad_elf and not_elf are inputs the VMM's loader must refuse.
GUEST_ELFS := $(GUEST_NAMES:%=$(BUILD)/guest/%.elf) $(BUILD)/guest/bad_elf.elf $(BUILD)/guest/not_elf.elf \
	$(BUILD)/guest/hello64.elf $(GUEST64_NAMES:%=$(BUILD)/guest/%.elf)

.PHONY: guests
guests: $(GUEST_ELFS)

$(GUEST_C_OBJS): $(GUEST_OBJDIR)/%.o: guest/%.c $(BUILD)/flags.GUEST_CFLAGS
	@mkdir -p $(@D)
	@echo "  GUESTCC $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_ASM_OBJS): $(GUEST_OBJDIR)/%.o: guest/%.asm $(BUILD)/flags.GUEST_NASMFLAGS
	@mkdir -p $(@D)
	@echo "  GUESTAS $<"
	$(Q)$(GUEST_NASM) $(GUEST_NASMFLAGS) -MD $(@:.o=.d) -MP -o $@ $<

# guest.ld puts the multiboot header first, whatever the object order.
$(GUEST_NAMES:%=$(BUILD)/guest/%.elf): $(BUILD)/guest/%.elf: $(GUEST_OBJDIR)/%.o $(GUEST_LIB_OBJS) \
		guest/lib/guest.ld $(BUILD)/flags.GUEST_LDFLAGS
	@echo "  GUESTLD $@"
	$(Q)$(GUEST_LD) $(GUEST_EXTRA_LDFLAGS) $(GUEST_LDFLAGS) -o $@ $(GUEST_LIB_OBJS) $<

$(GUEST64_C_OBJS): $(GUEST64_OBJDIR)/%.o: guest/%.c $(BUILD)/flags.GUEST64_CFLAGS
	@mkdir -p $(@D)
	@echo "  GUESTCC $< (64-bit)"
	$(Q)$(GUEST_CC) $(GUEST64_CFLAGS) -c $< -o $@

$(GUEST64_ASM_OBJS): $(GUEST64_OBJDIR)/%.o: guest/%.asm $(BUILD)/flags.GUEST64_NASMFLAGS
	@mkdir -p $(@D)
	@echo "  GUESTAS $<"
	$(Q)$(GUEST_NASM) $(GUEST64_NASMFLAGS) -MD $(@:.o=.d) -MP -o $@ $<

# An ELF64 file whose entry is 32-bit code. QEMU -kernel wants ELF32:
# objcopy -O elf32-i386 turns it into one without changing the code.
$(GUEST64_NAMES:%=$(BUILD)/guest/%.elf): $(BUILD)/guest/%.elf: $(GUEST64_OBJDIR)/%.o $(GUEST64_LIB_OBJS) \
		guest/lib64/guest.ld $(BUILD)/flags.GUEST64_LDFLAGS
	@echo "  GUESTLD $@"
	$(Q)$(GUEST_LD) $(GUEST64_LDFLAGS) -o $@ $(GUEST64_LIB_OBJS) $<

# hello as an ELF64 file: the multiboot entry stays 32-bit code, as in any ELF64 multiboot kernel.
$(BUILD)/guest/hello64.elf: $(BUILD)/guest/hello.elf
	@echo "  GUESTGEN $@"
	$(Q)objcopy -O elf64-x86-64 $< $@

# A real ELF header whose segments run past the end of the file.
$(BUILD)/guest/bad_elf.elf: $(BUILD)/guest/hello.elf
	@echo "  GUESTGEN $@"
	$(Q)head -c 200 $< > $@

$(BUILD)/guest/not_elf.elf:
	@mkdir -p $(@D)
	@echo "  GUESTGEN $@"
	$(Q)printf 'This is a text file, not an ELF executable.\nThe VMM must refuse to load it.\n' > $@

# QEMU -kernel loads ELF32 files only: apic_cr8 converted, for its qemu-guest row.
GUEST_ELFS += $(BUILD)/guest/apic_cr8.elf32
guests: $(BUILD)/guest/apic_cr8.elf32
$(BUILD)/guest/apic_cr8.elf32: $(BUILD)/guest/apic_cr8.elf
	@echo "  GUESTGEN $@"
	$(Q)objcopy -O elf32-i386 $< $@

-include $(GUEST_C_OBJS:.o=.d) $(GUEST_ASM_OBJS:.o=.d) $(GUEST64_C_OBJS:.o=.d) $(GUEST64_ASM_OBJS:.o=.d)

# The modules guest's inputs: KEY=VALUE text, and 1 MiB that cannot fit with the guest in guest_mem=2M.
guests: $(BUILD)/guest/modules.cfg $(BUILD)/guest/modules-1m.bin
$(BUILD)/guest/modules.cfg:
	@mkdir -p $(@D)
	@echo "  GUESTGEN $@"
	$(Q)printf '# settings for guest/modules.c\ngreeting=hello\nanswer=42\n\npath=/boot/x=y\r\n' > $@

$(BUILD)/guest/modules-1m.bin:
	@mkdir -p $(@D)
	@echo "  GUESTGEN $@"
	$(Q)head -c 1048576 /dev/zero | tr '\0' 'x' > $@
