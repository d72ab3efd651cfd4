# Make fragment for the test guests: small 32-bit multiboot kernels the VMM (and QEMU -kernel) runs.
#
# Included by the top-level Makefile, which defines BUILD, Q and the
# $(BUILD)/flags.% rule; the defaults below only serve standalone use.

BUILD ?= build
Q ?= @

GUEST_NAMES := hello cpuid io vmx_insn hypercall triple_fault loop exitcost

GUEST_CC   ?= gcc
GUEST_NASM ?= nasm
GUEST_LD   ?= ld

# 32-bit, freestanding, no FPU/SIMD state: the guests run with whatever
# CR0/CR4 the loader left, so they must not touch x87/SSE registers.
GUEST_CFLAGS := -m32 -march=i686 -ffreestanding -fno-pic -fno-pie -nostdlib \
	-fno-stack-protector -fno-asynchronous-unwind-tables -mno-sse -mno-mmx \
	-O2 -g -Wall -Wextra -Werror -std=gnu11 -I. -MMD -MP
GUEST_NASMFLAGS := -f elf32 -g -F dwarf
GUEST_LDFLAGS := -m elf_i386 -nostdlib -z max-page-size=0x1000 -z noexecstack -T guest/lib/guest.ld

GUEST_OBJDIR   := $(BUILD)/guest/obj
GUEST_LIB_C    := $(sort $(wildcard guest/lib/*.c))
GUEST_LIB_ASM  := $(sort $(wildcard guest/lib/*.asm))
GUEST_LIB_OBJS := $(GUEST_LIB_C:guest/%.c=$(GUEST_OBJDIR)/%.o) $(GUEST_LIB_ASM:guest/%.asm=$(GUEST_OBJDIR)/%.o)
GUEST_MAIN_OBJS := $(GUEST_NAMES:%=$(GUEST_OBJDIR)/%.o)
GUEST_C_OBJS   := $(GUEST_LIB_C:guest/%.c=$(GUEST_OBJDIR)/%.o) $(GUEST_MAIN_OBJS)
GUEST_ASM_OBJS := $(GUEST_LIB_ASM:guest/%.asm=$(GUEST_OBJDIR)/%.o)

# bad_elf and not_elf are inputs the VMM's loader must refuse.
GUEST_ELFS := $(GUEST_NAMES:%=$(BUILD)/guest/%.elf) $(BUILD)/guest/bad_elf.elf $(BUILD)/guest/not_elf.elf \
	$(BUILD)/guest/hello64.elf

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
	$(Q)$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $(GUEST_LIB_OBJS) $<

# A real ELF header whose segments run past the end of the file.
# hello as an ELF64 file: the multiboot entry stays 32-bit code, as in any ELF64 multiboot kernel.
$(BUILD)/guest/hello64.elf: $(BUILD)/guest/hello.elf
	@echo "  GUESTGEN $@"
	$(Q)objcopy -O elf64-x86-64 $< $@

$(BUILD)/guest/bad_elf.elf: $(BUILD)/guest/hello.elf
	@echo "  GUESTGEN $@"
	$(Q)head -c 200 $< > $@

$(BUILD)/guest/not_elf.elf:
	@mkdir -p $(@D)
	@echo "  GUESTGEN $@"
	$(Q)printf 'This is a text file, not an ELF executable.\nThe VMM must refuse to load it.\n' > $@

-include $(GUEST_C_OBJS:.o=.d) $(GUEST_ASM_OBJS:.o=.d)
