#!/usr/bin/env bash
# scripts/bench-pf.sh: page faults handled per second under Bochs, mmu=ept against mmu=shadow (make bench).
#
# Runs guest/pfbench twice per mode, with few and with many iterations, so that
# Bochs's start-up and the guest's set-up cancel out of the difference.  Each
# iteration is one #PF the guest's own handler takes plus one fresh mapping
# touched; under mmu=shadow both are VM exits the shadow MMU handles.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
SMALL=1000
LARGE=${PFBENCH_ITERATIONS:-41000}

# One run: prints "<wall seconds> <page_faults exits> <cycles_per_guest_pf> <cycles_per_fix>".
run_once() {
	local mode=$1 n=$2 log start end
	log=$(mktemp)
	start=$(date +%s.%N)
	# Status 1 is the guest's pass.
	if scripts/run --host bochs --quiet --timeout 300 --log "$log" --vmm-bin "$BUILD/vmm.bin" \
		--guest "$BUILD/guest/pfbench.elf:$n" --args "mmu=$mode guest_mem=16M watchdog=0" >/dev/null ||
		[[ $? -ne 1 ]]; then
		echo "bench-pf: pfbench failed under mmu=$mode (log: $log)" >&2
		exit 1
	fi
	end=$(date +%s.%N)
	awk -v t="$(echo "$end - $start" | bc)" '
		/cycles_per_guest_pf=/ { sub(/.*cycles_per_guest_pf=/, ""); gpf = $1 }
		/cycles_per_fix=/ { sub(/.*cycles_per_fix=/, ""); fix = $1 }
		/^stats: / { pf = 0; if (match($0, /page_faults=[0-9]+/)) pf = substr($0, RSTART + 12, RLENGTH - 12) }
		END { print t, pf, gpf, fix }' "$log"
	rm -f "$log"
}

for mode in ept shadow; do
	read -r t1 pf1 _ _ < <(run_once "$mode" "$SMALL")
	read -r t2 pf2 gpf fix < <(run_once "$mode" "$LARGE")
	awk -v mode="$mode" -v n=$((LARGE - SMALL)) -v t1="$t1" -v t2="$t2" -v pf1="$pf1" -v pf2="$pf2" \
	    -v gpf="$gpf" -v fix="$fix" 'BEGIN {
		dt = t2 - t1
		printf "bench: pfbench mmu=%s iterations=%d seconds=%.2f guest_faults_per_s=%.0f vmm_page_faults_per_s=%.0f cycles_per_guest_pf=%s cycles_per_fix=%s\n",
		       mode, n, dt, 2 * n / dt, (pf2 - pf1) / dt, gpf, fix
	}'
done
