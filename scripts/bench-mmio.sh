#!/usr/bin/env bash
# scripts/bench-mmio.sh: guest RDTSC ticks per MMIO round trip under Bochs, mmu=ept and mmu=shadow, MMIO caching on and off (make bench).
#
# Runs guest/mmiobench once per mode and mmio_caching value.  Inside Bochs the
# TSC advances by one per emulated instruction, so the guest's numbers are
# instruction counts, the same from run to run: one run each is enough.
# cycles_per_access is a read of the test device's SCRATCH with 32-bit
# paging on, the warm-up done (with caching, the fast path serves it).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
N=${MMIOBENCH_ITERATIONS:-2000}

# One run: prints "<cycles_per_read> <cycles_per_write> <cycles_per_cpuid> <mmio_fast> <mmio_slow>".
run_once() {
	local mode=$1 caching=$2 log
	log=$(mktemp)
	# Status 1 is the guest's pass.
	if scripts/run --host bochs --quiet --timeout 300 --log "$log" --vmm-bin "$BUILD/vmm.bin" \
		--guest "$BUILD/guest/mmiobench.elf:$N" \
		--args "mmu=$mode mmio_caching=$caching guest_mem=16M watchdog=0" >/dev/null ||
		[[ $? -ne 1 ]]; then
		echo "bench-mmio: mmiobench failed under mmu=$mode mmio_caching=$caching (log: $log)" >&2
		exit 1
	fi
	awk '
		function field(name,   re) {
			re = " " name "=[0-9]+"
			return match($0, re) ? substr($0, RSTART + length(name) + 2, RLENGTH - length(name) - 2) : "?"
		}
		/guest: mmiobench: .*cycles_per_read=/ { r = field("cycles_per_read"); w = field("cycles_per_write"); c = field("cycles_per_cpuid") }
		/^stats: guest=mmiobench / { fast = field("mmio_fast"); slow = field("mmio_slow") }
		END {
			if (r == "" || fast == "") exit 1
			print r, w, c, fast, slow
		}' "$log" || {
		echo "bench-mmio: no numbers in the log of mmu=$mode mmio_caching=$caching (log: $log)" >&2
		exit 1
	}
	rm -f "$log"
}

for mode in ept shadow; do
	for caching in 1 0; do
		read -r rd wr cpuid fast slow < <(run_once "$mode" "$caching")
		printf 'bench: mmio mode=%s caching=%s cycles_per_access=%s cycles_per_write=%s cycles_per_cpuid=%s mmio_fast=%s mmio_slow=%s\n' \
			"$mode" "$caching" "$rd" "$wr" "$cpuid" "$fast" "$slow"
	done
done
