#!/usr/bin/env bash
# tests/boot/boot-tests.sh: boot the VMM under Bochs and QEMU, in parallel, and check what it prints.
set -euo pipefail

# ---- the cases ---------------------------------------------------------------
# One line per case:  tcase NAME STATUS RUNNER-OPTIONS... -- REGEX...
# STATUS is the exit status scripts/run must give. Each REGEX (grep -E, matched
# against the serial log with CRs removed) must match some line; '!REGEX' must
# match none. Every case also checks that the log ends with "vmm: exit status STATUS".
cases() {
	# The MMU modes the paging guests run in, separated by spaces (env MMU_MODES).
	MMU_MODES=${MMU_MODES:-ept shadow}
	tcase bochs-skylake 0 --host bochs --args guest=none --cpu corei7_skylake_x -- '^vmx: revision=0x[0-9a-f]+ ept=yes vpid=yes unrestricted_guest=yes ept_ad=yes .*maxphyaddr=40' '^vmx: vmxon ok' '^vmx: vmxoff ok'
	tcase bochs-penryn 0 --host bochs --args guest=none --cpu core2_penryn_t9600 -- '^vmx: revision=0x[0-9a-f]+ ept=no vpid=no unrestricted_guest=no ept_ad=no' '^vmx: vmxon ok'
	tcase bochs-seabios 0 --host bochs --args guest=none --bios seabios --cpu corei7_skylake_x -- '^vmx: IA32_FEATURE_CONTROL was unlocked: enabled VMX and locked it' '^vmx: vmxon ok'
	tcase bochs-sandy-bridge 0 --host bochs --args guest=none --cpu corei7_sandy_bridge_2600k -- '^vmx: revision=0x[0-9a-f]+ ept=yes vpid=yes unrestricted_guest=yes ept_ad=no ' '^vmx: vmxon ok'
	tcase bochs-lynnfield 0 --host bochs --args guest=none --cpu corei5_lynnfield_750 -- '^vmx: revision=0x[0-9a-f]+ ept=yes vpid=yes unrestricted_guest=no ept_ad=no ' '^vmx: vmxon ok'
	tcase bochs-no-long-mode 14 --host bochs --cpu p4_willamette -- '^vmm: error: this CPU has no 64-bit long mode'
	tcase qemu-ram-above-4g 2 --host qemu-tcg --boot multiboot --mem 5000 --args "log=debug" -- '^vmm: paging: identity-mapped up to 0x1[0-9a-f]{8} ' '^vmm: memory: 49[0-9]{2} MiB usable'
	tcase bochs-no-vmx 2 --host bochs --cpu p4_prescott_celeron_336 -- '^vmm: error: VT-x is not available'
	tcase bochs-bad-option 6 --host bochs --args "bogus=1" -- "^vmm: error: unknown boot option 'bogus=1'"
	# Guests (EPT mode).  build/vmm.img carries the built-in guests that pass; guest 0 writes 0 -> status 1.
	tcase bochs-guests-builtin 1 --host bochs -- '^\[hello\] guest: PASS hello$' '^\[cpuid\] guest: running under the VMM$' '^\[cpuid\] guest: PASS cpuid$' '^\[io\] guest: rep outsb across a page boundary works$' '^\[io\] guest: PASS io$' '^\[vmx_insn\] guest: vmxon raised #UD$' '^\[vmx_insn\] guest: PASS vmx_insn$' '^\[hypercall\] guest: hello through HC_PUTS$' '^\[hypercall\] guest: PASS hypercall$' '^\[exitcost\] guest: exitcost cpuid=[0-9]+ io_out=[0-9]+ io_in=[0-9]+$' '^stats: guest=io mmu=ept exits=[0-9]+ io=[0-9]+ io_string_elements=[1-9]' '^vmm: guest exitcost: exit status 1$' '!exit status (1[68]|2[0-6])$'
	# The same under shadow paging: paging-off guests run on the identity-mapped shadow root.
	tcase bochs-guests-builtin-shadow 1 --host bochs --args mmu=shadow -- '^\[hello\] guest: PASS hello$' '^\[cpuid\] guest: PASS cpuid$' '^\[io\] guest: rep outsb across a page boundary works$' '^\[io\] guest: PASS io$' '^\[vmx_insn\] guest: PASS vmx_insn$' '^\[hypercall\] guest: PASS hypercall$' '^\[exitcost\] guest: PASS exitcost$' '^stats: guest=io mmu=shadow exits=[0-9]+ .* pf_fixed=[1-9][0-9]* ' '^vmm: guest exitcost: exit status 1$' '!exit status (1[68]|2[0-6])$'
	tcase bochs-guest-failures-shadow 16 --host bochs --guest build/guest/triple_fault.elf --guest build/guest/loop.elf --guest 'build/guest/hello64.elf:from elf64' --args 'mmu=shadow watchdog=100M guest_mem=16M' -- '^vmm: guest triple_fault: triple fault at rip 0x' '^vmm: guest triple_fault: exit status 16$' '^vmm: guest loop: watchdog: still running after 100000000 TSC cycles' '^vmm: guest loop: exit status 20$' '^\[hello64\] guest: PASS hello$' '^vmx: vmxoff ok$'
	tcase bochs-bad-mmu 6 --host bochs --args 'mmu=tdp' -- "^vmm: error: bad value 'tdp' for boot option 'mmu'"
	# Without EPT or unrestricted guest the default is shadow paging; mmu=ept is refused there.
	tcase bochs-lynnfield-guests 1 --host bochs --cpu corei5_lynnfield_750 --guest build/guest/paging_pae.elf --guest build/guest/paging32.elf --args 'guest_mem=16M watchdog=3G' -- '^vmm: guest paging_pae: .*mmu=shadow$' '^\[paging_pae\] guest: PASS paging_pae$' '^\[paging32\] guest: PASS paging32$' '^vmm: guest paging32: exit status 1$'
	tcase bochs-lynnfield-mmu-ept 22 --host bochs --cpu corei5_lynnfield_750 --guest build/guest/hello.elf --args 'mmu=ept guest_mem=16M' -- '^vmm: guest hello: refused: mmu=ept needs EPT with unrestricted guest'
	tcase bochs-guest-failures 16 --host bochs --guest build/guest/triple_fault.elf --guest build/guest/bad_elf.elf --guest build/guest/not_elf.elf --guest 'build/guest/hello.elf:one two' --guest build/guest/loop.elf --args 'watchdog=100M guest_mem=16M' -- '^\[triple_fault\] guest: about to triple-fault$' '^vmm: guest triple_fault: triple fault at rip 0x' '^vmm: guest triple_fault: exit status 16$' '^vmm: guest bad_elf: refused: ' '^vmm: guest bad_elf: exit status 22$' '^vmm: guest not_elf: refused: not an ELF file' '^vmm: guest not_elf: exit status 22$' "^\[hello\] guest: args 'one two'$" '^vmm: guest hello: exit status 1$' '^vmm: guest loop: watchdog: still running after 100000000 TSC cycles' '^vmm: guest loop: exit status 20$' '^vmx: vmxoff ok$'
	tcase bochs-guest-elf64 1 --host bochs --guest 'build/guest/hello64.elf:from elf64' --args guest_mem=16M -- '^vmm: guest hello64: ELF64 entry 0x' "^\[hello64\] guest: args 'from elf64'$" '^\[hello64\] guest: PASS hello$'
	tcase bochs-watchdog-off 1 --host bochs --args 'guest=hello watchdog=0' -- '^\[hello\] guest: PASS hello$' '^vmm: guest hello: exit status 1$'
	tcase bochs-guest-select 1 --host bochs --args 'guest=io,hello' -- '^vmm: guest io: exit status 1$' '^vmm: guest hello: exit status 1$' '!^\[cpuid\]'
	tcase bochs-guest-unknown 6 --host bochs --args 'guest=hello,nosuch' -- "^vmm: error: guest=: no module named 'nosuch'$"
	tcase bochs-guest-too-big 22 --host bochs --args 'guest=hello guest_mem=3G' -- '^vmm: guest hello: refused: guest_mem=3072M does not fit'
	# A guest's own multiboot modules (--guest-module, guest/modules.c): the KEY=VALUE file's bytes
	# (crc32 of build/guest/modules.cfg as guest/guest.mk writes it), its string, its lines; guest=
	# picks guests by name and each keeps its modules. A module too big for guest_mem is named.
	local mmode
	for mmode in $MMU_MODES; do
		tcase "bochs-modules-$mmode" 1 --host bochs --guest build/guest/hello.elf --guest 'build/guest/modules.elf:mods=1 name=modules.cfg arg=t=1 line=answer=42' --guest-module 'build/guest/modules.cfg:t=1' --args "mmu=$mmode guest=modules,hello guest_mem=16M" -- "^vmm: guest modules: module 0 'modules.cfg t=1' at \[0x[0-9a-f]*000, 0x[0-9a-f]+\), 73 bytes$" "^\[modules\] guest: modules: module 0 'modules.cfg t=1' at \[0x[0-9a-f]*000, 0x[0-9a-f]+\) 73 bytes crc32=82d2ca0b$" '^\[modules\] guest: modules: module 0: 3 KEY=VALUE lines$' '^\[modules\] guest: modules: line=answer=42 found in module 0$' '^\[modules\] guest: PASS modules$' '^vmm: guest modules: exit status 1$' '^\[hello\] guest: PASS hello$' "^stats: guest=modules mmu=$mmode "
	done
	tcase bochs-modules-too-big 22 --host bochs --guest 'build/guest/modules.elf:mods=1' --guest-module build/guest/modules-1m.bin --guest build/guest/hello.elf --args 'guest_mem=2M' -- "^vmm: guest modules: refused: multiboot module 0 'modules-1m.bin' does not fit in guest RAM: 1048576 bytes from 0x[0-9a-f]+, but RAM ends at 0x200000$" '^vmm: guest modules: exit status 22$' '^vmm: guest hello: exit status 1$' '!^\[modules\]'
	# Bochs's Penryn cannot load EFER and PAT on entry and exit, which both MMU modes need.
	tcase bochs-penryn-guest 22 --host bochs --cpu core2_penryn_t9600 --args 'guest=hello' -- '^vmx: running guests needs controls this CPU lacks: .*load IA32_EFER' '^vmm: guest hello: refused: this CPU lacks VMX controls'
	# Paging guests, one row per MMU mode: each checks its own mappings, faults and A/D bits.
	local mode mmu guest chain stats zap_guest
	for mode in $MMU_MODES; do
		mmu="mmu=$mode "
		for guest in paging32 paging_pae paging64; do
			tcase "bochs-$guest-$mode" 1 --host bochs --guest "build/guest/$guest.elf" --args "${mmu}guest_mem=32M watchdog=3G" -- "^\[$guest\] guest: PASS $guest\$" "^vmm: guest $guest: exit status 1\$" "^stats: guest=$guest mmu=$mode "
		done
		# Under shadow paging the guest's 4096 aliases of one frame make one rmap chain that long.
		chain='^stats: guest=rmap_chain mmu=ept '
		[[ $mode == ept ]] || chain="^stats: guest=rmap_chain mmu=$mode .* max_rmap_chain=(409[6-9]|4[1-9][0-9][0-9]) "
		tcase "bochs-rmap_chain-$mode" 1 --host bochs --guest build/guest/rmap_chain.elf --args "${mmu}guest_mem=32M watchdog=3G" -- '^\[rmap_chain\] guest: PASS rmap_chain$' '^vmm: guest rmap_chain: exit status 1$' "$chain"
		# MSR #GP rules and CPUID consistency (guest/msr.c, guest/cpuid_check.c): status 1 here as under QEMU TCG alone.
		tcase "bochs-msr-$mode" 1 --host bochs --guest build/guest/msr.elf --guest build/guest/cpuid_check.elf --args "${mmu}guest_mem=16M watchdog=3G" -- '^\[msr\] guest: msr: running under the VMM$' '^\[msr\] guest: msr: MCG_CAP 0x[0-9a-f]+: 10 banks, MCG_CTL present$' '^\[msr\] guest: msr: unknown MSRs give #GP$' '^\[msr\] guest: PASS msr$' '^vmm: guest msr: exit status 1$' '^\[cpuid_check\] guest: cpuid_check: vendor GenuineIntel, running under the VMM$' '^\[cpuid_check\] guest: PASS cpuid_check$' '^vmm: guest cpuid_check: exit status 1$' '!skipped'
		tcase "bochs-pfbench-$mode" 1 --host bochs --guest build/guest/pfbench.elf --args "${mmu}guest_mem=16M watchdog=3G" -- '^\[pfbench\] guest: pfbench: guest_pf=20000 cycles_per_guest_pf=[0-9]+$' '^\[pfbench\] guest: pfbench: fixed=20000 cycles_per_fix=[0-9]+$' '^\[pfbench\] guest: PASS pfbench$' '^vmm: guest pfbench: exit status 1$'
		# The PIC and PIT deliver IRQ 0 through VM entry; sti; hlt wakes on each tick (guest/pic_pit.c).
		tcase "bochs-pic_pit-$mode" 1 --host bochs --guest build/guest/pic_pit.elf --args "${mmu}guest_mem=16M watchdog=3G" -- '^\[pic_pit\] guest: pic_pit: 20 IRQ 0 ticks woke sti; hlt$' '^\[pic_pit\] guest: PASS pic_pit$' '^vmm: guest pic_pit: exit status 1$' "^stats: guest=pic_pit mmu=$mode .* hlt=[1-9]"
		# The MMIO test device hammered while memslots and the device move (guest/mmio.c): the fast path
		# served, stale generations missed, the generation's stored bits wrapped.  Without caching: no
		# MMIO spte, no fast path, and the guest still passes.
		stats="^stats: guest=mmio mmu=$mode( .*)? "
		tcase "bochs-mmio-$mode" 1 --host bochs --guest build/guest/mmio.elf --args "${mmu}guest_mem=16M watchdog=3G" -- '^\[mmio\] guest: PASS mmio$' '^\[mmio\] guest: mmio: the generation.s low 19 bits went through 0 ' '^vmm: guest mmio: exit status 1$' "${stats}mmio_fast=[1-9]" "${stats}mmio_spte_created=[1-9]" "${stats}mmio_generation_misses=[1-9]" "${stats}mmio_generation_wraps=[1-9]"
		tcase "bochs-mmio-nocache-$mode" 1 --host bochs --guest build/guest/mmio.elf --args "${mmu}mmio_caching=0 guest_mem=16M watchdog=3G" -- '^\[mmio\] guest: PASS mmio$' '^vmm: guest mmio: exit status 1$' "${stats}mmio_fast=0( |$)" "${stats}mmio_spte_created=0( |$)" "${stats}mmio_slow=[1-9]"
		# Thousands of shadow pages (1600 tables in 2 address spaces, each touched in both halves) checked in
		# 6 rounds, each a zap-all and memslot deletions, re-adds and a move (guest/zapwork.c): 21 invalidations.
		# Fast: obsolete pages freed in batches of at most 10; slow: zapped at once, none ever obsolete.
		# Every row: no shadow page leaked when the VM ends.
		zap_guest='build/guest/zapwork.elf:tables=1600 rounds=6 min_pages=3200'
		stats="^stats: guest=zapwork mmu=$mode .* "
		if [[ $mode == ept ]]; then
			tcase "bochs-zapwork-ept" 1 --host bochs --guest "$zap_guest" --args "${mmu}guest_mem=64M watchdog=5G" -- '^\[zapwork\] guest: zapwork: 1600 tables in 2 address spaces, 0 shadow pages \(no shadow pages: EPT\)$' '^\[zapwork\] guest: zapwork: 6 rounds: every page right after 6 zap-alls and 12 memslot deletions, EPT;' '^\[zapwork\] guest: PASS zapwork$' '^vmm: guest zapwork: exit status 1$' "${stats}mmio_spte_created=([6-9]|[1-9][0-9]+) " '!leaked'
		else
			tcase "bochs-zapwork-$mode" 1 --host bochs --guest "$zap_guest" --args "${mmu}mmu_pages=8000 guest_mem=64M watchdog=5G" -- '^\[zapwork\] guest: zapwork: 6 rounds: every page right after 6 zap-alls and 12 memslot deletions, shadow MMU, zap=fast;' '^\[zapwork\] guest: PASS zapwork$' '^vmm: guest zapwork: exit status 1$' "${stats}shadow_pages=[0-9]+ invalidations=(2[1-9]|[3-9][0-9]|[1-9][0-9]{2,}) obsolete_zapped=[1-9][0-9]{3,} zap_batches=[1-9][0-9]{2,} zap_longest_batch=([1-9]|10)$" '!leaked'
			tcase "bochs-zapwork-$mode-slow" 1 --host bochs --guest "$zap_guest" --args "${mmu}zap=slow mmu_pages=8000 guest_mem=64M watchdog=5G" -- '^\[zapwork\] guest: zapwork: 6 rounds: every page right after 6 zap-alls and 12 memslot deletions, shadow MMU, zap=slow;' '^\[zapwork\] guest: PASS zapwork$' '^vmm: guest zapwork: exit status 1$' "${stats}shadow_pages=[0-9]+ invalidations=(2[1-9]|[3-9][0-9]|[1-9][0-9]{2,}) obsolete_zapped=0 zap_batches=0 zap_longest_batch=0$" '!leaked'
		fi
	done
	# ACPI (guest/acpi.c): the RSDP found by a scan of 0xE0000-0xFFFFF, checksums, FADT, MADT (one CPU, the IOAPIC,
	# IRQ0 -> GSI 2), and the PM timer at 0x608 never going back and running in step with the TSC.
	for mode in $MMU_MODES; do
		tcase "bochs-acpi-$mode" 1 --host bochs --guest build/guest/acpi.elf --args "mmu=$mode guest_mem=16M" -- '^\[acpi\] guest: RSDP at 0xf0000, revision 0, ' '^\[acpi\] guest: MADT: 1 enabled CPU, 1 IOAPIC, IRQ0 -> GSI 2$' '^\[acpi\] guest: PM timer: rate consistent with the TSC' '^\[acpi\] guest: PASS acpi$' '^vmm: guest acpi: exit status 1$' '^vmm: tsc: [0-9]+ kHz \(PIT channel 2\)$'
	done
	# fw_cfg, the PCI host and pc-testdev (guest/fwcfg.c, pci.c, testdev.c): under the VMM in each MMU mode, and
	# directly under QEMU TCG (--host qemu-guest: tests/boot/qemu-guest.sh), with the same status and PASS line.
	# testdev runs all of its parts under the VMM too (SSE moves and CMPS/SCAS through vmm/emulate);
	# qemu-guest-testdev-full also checks their lines on QEMU.
	tcase qemu-guest-acpi 1 --host qemu-guest --guest build/guest/acpi.elf -- '^guest: PASS acpi$'
	# A kernel linked at 4 MiB with a 12 MiB data segment that runs code copied to physical 0 (guest/bigimage.c).
	for mode in $MMU_MODES; do
		tcase "bochs-bigimage-$mode" 1 --host bochs --guest build/guest/bigimage.elf --args "mmu=$mode" -- '^\[bigimage\] guest: linked at 0x40[0-9a-f]{4}, data segment of 12 MiB' '^\[bigimage\] guest: code copied to physical 0 runs$' '^\[bigimage\] guest: PASS bigimage$'
	done
	tcase qemu-guest-bigimage 1 --host qemu-guest --guest build/guest/bigimage.elf -- '^guest: PASS bigimage$'
	tcase qemu-guest-pic_pit 1 --host qemu-guest --guest build/guest/pic_pit.elf -- '^guest: PASS pic_pit$'
	# The local APIC (guest/apic.c; CR8 <-> TPR in 64-bit mode: guest/apic_cr8.c): timer one-shot and periodic,
	# self-IPIs, TPR masking, EOI, SVR, IA32_APIC_BASE; under the VMM in each MMU mode, and under QEMU TCG alone
	# (ELF32 copy of apic_cr8), with the same status.  The LVT masking on software disable and CR8's reserved bits
	# are SDM behaviour QEMU TCG lacks: skipped there, each with a line.
	for mode in $MMU_MODES; do
		tcase "bochs-apic-$mode" 1 --host bochs --guest build/guest/apic.elf --guest build/guest/apic_cr8.elf --args "mmu=$mode guest_mem=16M watchdog=3G" -- '^\[apic\] guest: apic: running under the VMM$' '^\[apic\] guest: apic: IA32_APIC_BASE 0xfee00900: xAPIC at 0xfee00000, enabled, BSP$' '^\[apic\] guest: apic: self-IPIs delivered, EOI cleared ISR$' '^\[apic\] guest: apic: TPR 0x50 held vector 0x45 until it dropped$' '^\[apic\] guest: apic: one-shot timer: 1 interrupt, count 0 after$' '^\[apic\] guest: apic: periodic timer: 10 interrupts woke sti; hlt$' '^\[apic\] guest: PASS apic$' '^vmm: guest apic: exit status 1$' '^\[apic_cr8\] guest: apic_cr8: CR8 5 held vector 0x45 until CR8 dropped to 0$' '^\[apic_cr8\] guest: PASS apic_cr8$' '^vmm: guest apic_cr8: exit status 1$' '!skipped'
	done
	tcase qemu-guest-apic 1 --host qemu-guest --guest build/guest/apic.elf -- '^guest: apic: not under the VMM$' '^guest: apic: periodic timer: 10 interrupts woke sti; hlt$' '^guest: PASS apic$'
	tcase qemu-guest-apic_cr8 1 --host qemu-guest --guest build/guest/apic_cr8.elf32 -- '^guest: apic_cr8: not under the VMM$' '^guest: apic_cr8: CR8 5 held vector 0x45 until CR8 dropped to 0$' '^guest: PASS apic_cr8$'
	# The I/O APIC (guest/ioapic.c): registers, the PIT's IRQ 0 on GSI 2, pc-testdev lines edge and level (remote IRR,
	# EOI through the local APIC and the EOI register), masking; under the VMM in each MMU mode and under QEMU TCG alone.
	for mode in $MMU_MODES; do
		tcase "bochs-ioapic-$mode" 1 --host bochs --guest build/guest/ioapic.elf --args "mmu=$mode guest_mem=16M watchdog=3G" -- '^\[ioapic\] guest: ioapic: running under the VMM$' '^\[ioapic\] guest: ioapic: version 0x170020, ID and all 24 redirection entries read back$' '^\[ioapic\] guest: ioapic: edge line 7: one interrupt per edge, an edge while masked is lost$' '^\[ioapic\] guest: ioapic: level line 5: remote IRR until EOI, delivered again while high$' '^\[ioapic\] guest: ioapic: level line 5: held while masked, the EOI register clears remote IRR$' '^\[ioapic\] guest: ioapic: 10 PIT ticks on GSI 2 woke sti; hlt$' '^\[ioapic\] guest: ioapic: masked GSI 2 delivered nothing for 5 PIT periods$' '^\[ioapic\] guest: PASS ioapic$' '^vmm: guest ioapic: exit status 1$'
	done
	tcase qemu-guest-ioapic 1 --host qemu-guest --guest build/guest/ioapic.elf -- '^guest: ioapic: not under the VMM$' '^guest: ioapic: version 0x170020, ID and all 24 redirection entries read back$' '^guest: ioapic: edge line 7: one interrupt per edge, an edge while masked is lost$' '^guest: ioapic: level line 5: remote IRR until EOI, delivered again while high$' '^guest: ioapic: level line 5: held while masked, the EOI register clears remote IRR$' '^guest: ioapic: 10 PIT ticks on GSI 2 woke sti; hlt$' '^guest: ioapic: masked GSI 2 delivered nothing for 5 PIT periods$' '^guest: PASS ioapic$'
	# guest/msr.c and guest/cpuid_check.c under QEMU TCG alone (as bochs-msr-<mode>): the checks where QEMU 7.2 deviates from the SDM are skipped, each with a line.
	tcase qemu-guest-msr 1 --host qemu-guest --guest build/guest/msr.elf -- '^guest: msr: not under the VMM$' '^guest: msr: not under the VMM: skipped \(QEMU TCG deviates from the SDM\): EFER reserved bits give #GP$' '^guest: PASS msr$'
	tcase qemu-guest-cpuid_check 1 --host qemu-guest --guest build/guest/cpuid_check.elf -- '^guest: cpuid_check: vendor [A-Za-z]+, not under the VMM$' '^guest: PASS cpuid_check$'
	# Debug registers (guest/debugreg.c): DR0-DR3, DR6 and DR7 survive exits (DR7 through the save/load debug controls),
	# breakpoints armed before an exit fire after it. Real mode (guest/realmode.c): back to real mode from the multiboot
	# entry, INT through an IVT at 0, big real mode, through unrestricted guest (mmu=ept); refused with a named line and
	# status 24 under mmu=shadow and on a CPU without unrestricted guest (Lynnfield; Penryn refuses every guest).
	for mode in $MMU_MODES; do
		tcase "bochs-debugreg-$mode" 1 --host bochs --guest build/guest/debugreg.elf --args "mmu=$mode guest_mem=16M watchdog=3G" -- '^\[debugreg\] guest: debugreg: running under the VMM$' '^\[debugreg\] guest: debugreg: DR0-DR3, DR6, DR7 kept across 600 exits$' '^\[debugreg\] guest: debugreg: data breakpoint armed before a CPUID exit fired' '^\[debugreg\] guest: debugreg: instruction breakpoint armed before CPUID and I/O exits fired$' '^\[debugreg\] guest: PASS debugreg$' '^vmm: guest debugreg: exit status 1$'
	done
	tcase bochs-realmode-ept 1 --host bochs --guest build/guest/realmode.elf --args 'mmu=ept guest_mem=16M watchdog=3G' -- '^\[realmode\] guest: realmode: this line printed in real mode$' '^\[realmode\] guest: realmode: CR0.PE was clear ' '^\[realmode\] guest: realmode: INT 0x42 through the IVT at 0' '^\[realmode\] guest: realmode: big real mode: read and wrote 0x[0-9a-f]+ above 1 MiB through DS$' '^\[realmode\] guest: PASS realmode$' '^vmm: guest realmode: exit status 1$'
	tcase bochs-realmode-shadow 24 --host bochs --guest build/guest/realmode.elf --args 'mmu=shadow guest_mem=16M watchdog=3G' -- '^vmm: guest realmode: refused: real mode \(the guest cleared CR0.PE, CR0 0x10\) needs unrestricted guest, which mmu=shadow does not use; mmu=ept runs it$' '^vmm: guest realmode: exit status 24$' '!in real mode$' '!PASS'
	tcase bochs-realmode-lynnfield 24 --host bochs --cpu corei5_lynnfield_750 --guest build/guest/realmode.elf --args 'guest_mem=16M watchdog=3G' -- '^vmm: guest realmode: .*mmu=shadow$' '^vmm: guest realmode: refused: real mode \(the guest cleared CR0.PE, CR0 0x10\) needs unrestricted guest, which this CPU lacks$' '^vmm: guest realmode: exit status 24$' '!PASS'
	tcase bochs-realmode-lynnfield-ept 22 --host bochs --cpu corei5_lynnfield_750 --guest build/guest/realmode.elf --args 'mmu=ept guest_mem=16M' -- '^vmm: guest realmode: refused: mmu=ept needs EPT with unrestricted guest'
	tcase bochs-realmode-penryn 22 --host bochs --cpu core2_penryn_t9600 --guest build/guest/realmode.elf --args 'guest_mem=16M' -- '^vmm: guest realmode: refused: this CPU lacks VMX controls'
	tcase qemu-guest-debugreg 1 --host qemu-guest --guest build/guest/debugreg.elf -- '^guest: debugreg: instruction breakpoint armed before CPUID and I/O exits fired$' '^guest: PASS debugreg$'
	tcase qemu-guest-realmode 1 --host qemu-guest --guest build/guest/realmode.elf -- '^guest: realmode: this line printed in real mode$' '^guest: PASS realmode$'
	local platform pguest
	for platform in 'fwcfg.elf' 'pci.elf' 'testdev.elf'; do
		pguest=${platform%%.*}
		for mode in $MMU_MODES; do
			tcase "bochs-$pguest-$mode" 1 --host bochs --guest "build/guest/$platform" --args "mmu=$mode guest_mem=32M watchdog=3G" -- "^\[$pguest\] guest: PASS $pguest\$" "^vmm: guest $pguest: exit status 1\$"
		done
		tcase "qemu-guest-$pguest" 1 --host qemu-guest --guest "build/guest/$platform" -- "^guest: PASS $pguest\$"
	done
	tcase qemu-guest-testdev-full 1 --host qemu-guest --guest build/guest/testdev.elf -- '^guest: testdev: SSE moves to and from the window work$' '^guest: testdev: CMPS/SCAS on the window work$' '^guest: testdev: rep insb from port 0xe0 into the window works$' '^guest: PASS testdev$'
	tcase qemu-multiboot-modules 2 --host qemu-tcg --boot multiboot --guest 'build/guest/hello.elf:a b' --guest build/guest/io.elf --args log=debug -- "^vmm: boot: module 0 'hello a b' at \[0x[0-9a-f]+, 0x[0-9a-f]+\)" "^vmm: boot: module 1 'io' at "
	tcase qemu-disk-modules 2 --host qemu-tcg --boot disk --guest 'build/guest/hello.elf:a b' --args log=debug -- "^vmm: boot: module 0 'hello a b' at \[0x[0-9a-f]+, 0x[0-9a-f]+\)"
	tcase qemu-disk-no-vtx 2 --host qemu-tcg --boot disk -- '^vmm: error: VT-x is not available'
	# UEFI: OVMF boots build/vmm-esp.img, vmm.efi takes over the memory map and enters the same VMM.
	tcase qemu-uefi-no-vtx 2 --host qemu-tcg --firmware uefi --args "log=debug" -- '^vmm: uefi: vmm.efi started' '^vmm: uefi: boot services exited \(try [0-9]+\), memory map taken over: [0-9]+ UEFI descriptors as [0-9]+ regions$' "^vmm: boot: uefi, options 'log=debug'$" '^vmm: memory: \[0x0+100000-0x[0-9a-f]+\] usable$' '^vmm: memory: [0-9]+ MiB usable' '^vmm: error: VT-x is not available'
	# Guests from the ESP: vmm.efi loads EFI/VMM/MODULES.TXT's files (scripts/run writes a private ESP), "+NAME" modules too.
	tcase qemu-uefi-modules 2 --host qemu-tcg --firmware uefi --guest 'build/guest/modules.elf:mods=1' --guest-module 'build/guest/modules.cfg:a b,c' --guest 'build/guest/hello.elf:a b' --args log=debug -- '^vmm: uefi: module 0 from EFI/VMM/modules.elf: [0-9]+ bytes at 0x[0-9a-f]*000$' "^vmm: boot: module 0 'modules mods=1' at \[0x[0-9a-f]*000, 0x[0-9a-f]+\) " "^vmm: boot: module 1 '\+modules.cfg a b,c' at \[0x[0-9a-f]*000, 0x[0-9a-f]+\) 73 bytes crc32=82d2ca0b$" "^vmm: boot: module 2 'hello a b' at \[0x[0-9a-f]*000, 0x[0-9a-f]+\) " '!^vmm: boot: module 3 ' '^vmm: error: VT-x is not available'
	# Guest modules on the multiboot path: QEMU -initrd carries them as "+NAME ARGS" (no VT-x: only the list is checked).
	tcase qemu-multiboot-guest-modules 2 --host qemu-tcg --boot multiboot --guest 'build/guest/modules.elf:mods=2' --guest-module 'build/guest/modules.cfg:a b,c' --guest-module build/guest/modules-1m.bin --args log=debug -- "^vmm: boot: module 0 'modules mods=2' at " "^vmm: boot: module 1 '\+modules.cfg a b,c' at \[0x[0-9a-f]*000, 0x[0-9a-f]+\) 73 bytes crc32=82d2ca0b$" "^vmm: boot: module 2 '\+modules-1m.bin' at \[0x[0-9a-f]*000, 0x[0-9a-f]+\) 1048576 bytes " '^vmm: error: VT-x is not available'
	tcase qemu-multiboot-no-vtx 2 --host qemu-tcg --boot multiboot -- '^vmm: error: VT-x is not available' '^vmm: boot: multiboot'
	tcase qemu-disk-bios-path 2 --host qemu-tcg --boot disk --args "log=debug" -- '^vmm: boot: bios' '^vmm: memory: .*usable'
	tcase qemu-multiboot-bad-option 6 --host qemu-tcg --boot multiboot --args "log=loud" -- "^vmm: error: bad value 'loud' for boot option 'log'"
	tcase qemu-disk-bad-option 6 --host qemu-tcg --boot disk --args "log=loud" -- "^vmm: error: bad value 'loud' for boot option 'log'"
	tcase qemu-multiboot-low-memory 8 --host qemu-tcg --boot multiboot --mem 16 -- '^vmm: error: too little memory'
	tcase qemu-crash-pf 12 --host qemu-tcg --boot multiboot --args "crash=pf" -- '^vmm: exception 14 \(#PF\)' 'cr2=0x' 'rip=0x' 'rax=0x'
	tcase qemu-crash-panic 12 --host qemu-tcg --boot disk --args "crash=panic" -- '^vmm: panic: crash=panic asked for it \(called from 0x[0-9a-f]+\)$'
	tcase qemu-crash-ud 12 --host qemu-tcg --boot multiboot --args "crash=ud" -- '^vmm: exception 6 \(#UD\)'
}
# -------------------------------------------------------------------------------

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly ROOT
# BOOT_TESTS_RUN replaces scripts/run, to test this driver without a VMM.
RUN=${BOOT_TESTS_RUN:-$ROOT/scripts/run}
LOG_DIR=$ROOT/build/test-logs
JOBS=${JOBS:-2}
CASE_TIMEOUT=${TIMEOUT:-120}
# The caller's runner settings (make may export them) must not change what a case means.
unset HOST CPU VMM_ARGS BIOS BOOT MEM LOG TIMEOUT GUEST ARGS FIRMWARE
readonly SEP=$'\x1f'

usage() {
	cat <<'EOF'
Usage: tests/boot/boot-tests.sh [--list] [FILTER]
Runs the boot cases whose name contains FILTER (all by default), JOBS at a time
(env JOBS, default 2), each through scripts/run --quiet with its serial log in
build/test-logs/NAME.log. Env TIMEOUT: seconds per case (default 120);
env MMU_MODES: the MMU modes of the paging-guest cases (default "ept shadow").
Exit status 0 only if every case passed.
EOF
}

die() {
	printf 'boot-tests: %s\n' "$*" >&2
	exit 2
}

names=()
statuses=()
options=()
regexes=()

tcase() {
	local name=$1 status=$2
	shift 2
	local -a opts=()
	while (($#)) && [[ $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	(($#)) || die "case $name: no '--' between the runner options and the regexes"
	shift
	[[ $status =~ ^[0-9]+$ ]] || die "case $name: status '$status' is not a number"
	local n
	for n in "${names[@]}"; do
		[[ $n != "$name" ]] || die "case $name is defined twice"
	done
	names+=("$name")
	statuses+=("$status")
	options+=("$(join "${opts[@]}")")
	regexes+=("$(join "$@")")
}

# Each item ends with SEP, so that an empty last item (--args "") survives split.
join() {
	if (($#)); then printf "%s$SEP" "$@"; fi
}

# split ARRAY STRING: the inverse of the joining in tcase.
split() {
	local -n out=$1
	out=()
	# shellcheck disable=SC2034 # the caller's array, through the nameref
	[[ -z $2 ]] || IFS=$SEP read -r -d '' -a out < <(printf '%s\0' "$2") || true
}

now_us() {
	local t=${EPOCHREALTIME//[!0-9]/}
	printf '%s' "$((10#$t))"
}

list=0
filter=
while (($#)); do
	case $1 in
	--help | -h)
		usage
		exit 0
		;;
	--list) list=1 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*)
		[[ -z $filter ]] || die "only one FILTER, please"
		filter=$1
		;;
	esac
	shift
done

((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))) ||
	die "needs bash 5.1 or later (wait -p)"
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "JOBS must be a positive number, not '$JOBS'"

cases

selected=()
for i in "${!names[@]}"; do
	[[ ${names[i]} == *"$filter"* ]] && selected+=("$i")
done
((${#selected[@]})) || die "no case name contains '$filter'"

if ((list)); then
	for i in "${selected[@]}"; do
		split opts "${options[i]}"
		printf '%-28s status %-3s %s\n' "${names[i]}" "${statuses[i]}" "${opts[*]}"
	done
	exit 0
fi

mkdir -p -- "$LOG_DIR"
work=$(mktemp -d "${TMPDIR:-/tmp}/boot-tests.XXXXXX")
declare -A case_of_pid=()
declare -A started=()
passed=0
failed=0

# A runner started in the background ignores SIGINT, so Ctrl-C here must be passed on
# as SIGTERM, which scripts/run answers by stopping its emulator and cleaning up.
# shellcheck disable=SC2317 # reached through the traps below
stop_all() {
	local pid
	for pid in "${!case_of_pid[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${!case_of_pid[@]}"; do wait "$pid" 2>/dev/null || true; done
	case_of_pid=()
}
# shellcheck disable=SC2317
cleanup() {
	local status=$?
	trap - EXIT INT TERM HUP
	stop_all
	rm -rf -- "$work"
	exit "$status"
}
# shellcheck disable=SC2317
on_signal() {
	trap - INT TERM HUP
	printf 'boot-tests: interrupted\n' >&2
	stop_all
	exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

start_case() {
	local i=$1 name=${names[$1]}
	local log=$LOG_DIR/$name.log
	local -a opts
	local run=$RUN
	split opts "${options[i]}"
	# A guest booted on its own under QEMU (no VMM), for the rows that compare QEMU's status with ours.
	[[ " ${opts[*]} " == *" --host qemu-guest "* && -z ${BOOT_TESTS_RUN:-} ]] && run=$ROOT/tests/boot/qemu-guest.sh
	rm -f -- "$log" "$log".*.txt "$LOG_DIR/$name.stderr"
	"$run" --quiet --log "$log" --timeout "$CASE_TIMEOUT" "${opts[@]}" \
		</dev/null >/dev/null 2>"$LOG_DIR/$name.stderr" &
	case_of_pid[$!]=$i
	started[$i]=$(now_us)
}

# Prints the verdict on case $1, whose runner exited with status $2.
judge_case() {
	local i=$1 got=$2 name=${names[$1]} want=${statuses[$1]}
	local log=$LOG_DIR/$name.log clean=$work/$name.log
	local -a res reasons=()
	local re rc last us
	us=$(($(now_us) - started[$i]))
	tr -d '\r' <"$log" >"$clean" 2>/dev/null || : >"$clean"

	((got == want)) || reasons+=("expected status $want got $got")
	# After a timeout or a runner error the log is cut short: the status says it all.
	if ((got != want && got >= 124 && got <= 126)); then
		res=()
	else
		split res "${regexes[i]}"
	fi
	for re in "${res[@]}"; do
		rc=0
		if [[ $re == '!'* ]]; then
			grep -aqE -- "${re#!}" "$clean" 2>/dev/null || rc=$?
			case $rc in
			0) reasons+=("unexpected line /${re#!}/: $(grep -aE -m1 -- "${re#!}" "$clean")") ;;
			1) ;;
			*) reasons+=("bad regex /${re#!}/") ;;
			esac
		else
			grep -aqE -- "$re" "$clean" 2>/dev/null || rc=$?
			case $rc in
			0) ;;
			1) reasons+=("missing line /$re/") ;;
			*) reasons+=("bad regex /$re/") ;;
			esac
		fi
	done
	last=$(grep -av '^[[:space:]]*$' "$clean" | tail -n 1) || true
	[[ $last == "vmm: exit status $want" ]] ||
		reasons+=("missing final line /^vmm: exit status $want\$/")

	if ((${#reasons[@]} == 0)); then
		printf 'PASS %s (%d.%d s)\n' "$name" $((us / 1000000)) $((us / 100000 % 10))
		passed=$((passed + 1))
		return
	fi
	local joined
	joined=$(printf '%s; ' "${reasons[@]}")
	printf 'FAIL %s: %s\n' "$name" "${joined%; }"
	failed=$((failed + 1))
	sed 's/^/    /' -- "$LOG_DIR/$name.stderr" 2>/dev/null || true
	printf '    last 30 lines of %s:\n' "${log#"$ROOT"/}"
	tail -n 30 -- "$clean" | sed 's/^/    | /'
}

reap_one() {
	local pid='' status=0
	wait -n -p pid || status=$?
	[[ -n $pid ]] || die "lost track of a runner (wait status $status)"
	local i=${case_of_pid[$pid]}
	unset "case_of_pid[$pid]"
	judge_case "$i" "$status"
}

for i in "${selected[@]}"; do
	while ((${#case_of_pid[@]} >= JOBS)); do reap_one; done
	start_case "$i"
done
while ((${#case_of_pid[@]} > 0)); do reap_one; done

printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
