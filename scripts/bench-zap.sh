#!/usr/bin/env bash
# scripts/bench-zap.sh: the guest-visible pause of invalidating ~10,000 shadow pages under Bochs, zap=fast against zap=slow (make bench).
#
# Runs guest/zapwork in its bench mode once per zap mode, under mmu=shadow.
# The guest builds 5000 page tables in 5 address spaces and touches each in
# both halves (two shadow pages per table), then times with RDTSC, which
# inside Bochs counts emulated instructions (deterministic, one run each is
# enough): the zap-all hypercall plus the first touch of a page afterwards
# (pause_cycles), and the longest single exit while the obsolete pages are
# freed batch by batch (longest_exit_cycles; with zap=slow the zap itself).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
TABLES=${ZAPBENCH_TABLES:-5000}
# Two shadow pages per table and a few dozen for the roots and the 1:1 map: the limit must hold them all.
MMU_PAGES=$((TABLES * 2 + 2000))

# One run: prints the guest's "key=value" fields and the stats line's shadow counters.
run_once() {
	local zap=$1 log
	log=$(mktemp)
	# Status 1 is the guest's pass.
	if scripts/run --host bochs --quiet --timeout 600 --log "$log" --vmm-bin "$BUILD/vmm.bin" \
		--guest "$BUILD/guest/zapwork.elf:bench tables=$TABLES min_pages=$((TABLES * 2))" \
		--args "mmu=shadow zap=$zap mmu_pages=$MMU_PAGES guest_mem=64M watchdog=0" >/dev/null ||
		[[ $? -ne 1 ]]; then
		echo "bench-zap: zapwork failed under zap=$zap (log: $log)" >&2
		exit 1
	fi
	awk '
		function field(name,   re) {
			re = " " name "=[0-9]+"
			return match($0, re) ? substr($0, RSTART + length(name) + 2, RLENGTH - length(name) - 2) : ""
		}
		/guest: zapwork: bench: / {
			mode = $0; sub(/.* zap=/, "", mode); sub(/ .*/, "", mode)
			pages = field("shadow_pages"); ping = field("ping_cycles"); z = field("zap_cycles")
			pause = field("pause_cycles"); longest = field("longest_exit_cycles")
			exits = field("drain_exits"); drain = field("drain_cycles")
		}
		/^stats: guest=zapwork / { batches = field("zap_batches"); lb = field("zap_longest_batch") }
		END {
			if (pause == "" || batches == "") exit 1
			print mode, pages, ping, z, pause, longest, exits, drain, batches, lb
		}' "$log" || {
		echo "bench-zap: no numbers in the log of zap=$zap (log: $log)" >&2
		exit 1
	}
	rm -f "$log"
}

for zap in fast slow; do
	read -r mode pages ping z pause longest exits drain batches lb < <(run_once "$zap")
	if [[ $mode != "$zap" ]]; then
		echo "bench-zap: asked for zap=$zap, the guest saw zap=$mode" >&2
		exit 1
	fi
	printf 'bench: zap_pause zap=%s shadow_pages=%s pause_cycles=%s zap_cycles=%s longest_exit_cycles=%s ping_cycles=%s drain_exits=%s drain_cycles=%s zap_batches=%s zap_longest_batch=%s\n' \
		"$zap" "$pages" "$pause" "$z" "$longest" "$ping" "$exits" "$drain" "$batches" "$lb"
done
