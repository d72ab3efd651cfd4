#!/usr/bin/env bash
# scripts/bench-table.sh: run every benchmark (make bench), then print their "bench:" lines as one table and write $BUILD/bench.json.
#
# Each row is one measurement done the fast way and the slow way in the same
# run: name, fast, slow, unit, ratio (slow / fast).  Hosted benchmarks give
# nanoseconds (the median of several runs); the Bochs ones give guest RDTSC
# ticks, which inside Bochs count emulated instructions (deterministic).
# Reference rows (a CPUID exit) have no slow way and no ratio.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
export BUILD

usage() {
	cat <<'EOF'
Usage: scripts/bench-table.sh [--hosted] [--from LOG]
Runs the hosted benchmarks ($BUILD/bench/bench_*, one per tests/bench/bench_*.c)
and the Bochs ones (scripts/bench-pf.sh, bench-mmio.sh, bench-zap.sh), keeps
their output in $BUILD/bench.log, prints one table and writes $BUILD/bench.json
(a list of {"name", "fast", "slow", "unit", "ratio"}).
  --hosted     only the hosted benchmarks (seconds instead of minutes)
  --from LOG   run nothing: make the table from a log of an earlier run
Exit status 1 when a benchmark failed (the table still shows the others).
EOF
}

hosted_only=0
from=
while (($#)); do
	case $1 in
	--help | -h)
		usage
		exit 0
		;;
	--hosted) hosted_only=1 ;;
	--from)
		(($# > 1)) || { echo "bench-table: --from needs a file" >&2; exit 2; }
		from=$2
		shift
		;;
	*)
		echo "bench-table: unknown argument '$1' (see --help)" >&2
		exit 2
		;;
	esac
	shift
done

failed=0
log=$BUILD/bench.log

# Runs one benchmark, its output appended to the log; a failure is reported and remembered.
run() {
	local name=$1 start status=0
	shift
	printf 'bench-table: %s ...' "$name" >&2
	start=$SECONDS
	printf '# %s: %s\n' "$name" "$*" >>"$log"
	"$@" >>"$log" 2>&1 || status=$?
	if ((status)); then
		printf ' FAILED (status %d; output in %s)\n' "$status" "$log" >&2
		failed=1
	else
		printf ' %d s\n' $((SECONDS - start)) >&2
	fi
}

if [[ -n $from ]]; then
	[[ -r $from ]] || { echo "bench-table: cannot read $from" >&2; exit 2; }
	log=$from
else
	mkdir -p "$BUILD"
	: >"$log"
	for src in tests/bench/bench_*.c; do
		bin=$BUILD/bench/$(basename "$src" .c)
		if [[ -x $bin ]]; then
			run "$(basename "$bin")" "$bin"
		else
			printf 'bench-table: %s is not built (make BUILD=%s bench builds it)\n' "$bin" "$BUILD" >&2
			failed=1
		fi
	done
	if ((!hosted_only)); then
		run bench-pf scripts/bench-pf.sh
		run bench-mmio scripts/bench-mmio.sh
		run bench-zap scripts/bench-zap.sh
	fi
fi

# Every "bench:" line becomes rows: name|fast|slow|unit (an empty slow: a reference row).
rows=$(awk '
	function field(name,   re) {
		re = " " name "=[^ ]+"
		return match($0, re) ? substr($0, RSTART + length(name) + 2, RLENGTH - length(name) - 2) : ""
	}
	function row(name, fast, slow, unit) {
		if (fast == "" && slow == "")
			return
		print name "|" fast "|" slow "|" unit
	}
	!/^bench: / { next }
	$2 == "rmap_drop" {
		row("rmap drop, " field("n") " sptes: one pass vs one at a time", field("one_pass_ns"), field("one_at_a_time_ns"), "ns")
	}
	$2 == "mmio_invalidate" {
		row("invalidate all MMIO sptes, " field("n") ": generation bump vs walk", field("bump_ns"), field("walk_ns"), "ns")
	}
	$2 == "zap_all" {
		row("invalidate all shadow pages, " field("n") ": the call, generation bump vs zap=slow", field("fast_ns"), field("slow_ns"), "ns")
	}
	$2 == "zap_step" {
		row("invalidate all shadow pages, " field("n") ": longest step, one batch vs zap=slow", field("fast_ns"), field("slow_ns"), "ns")
	}
	$2 == "pfbench" {
		m = field("mmu")
		gpf[m] = field("cycles_per_guest_pf"); fix[m] = field("cycles_per_fix")
	}
	$2 == "mmio" {
		m = field("mode"); c = field("caching")
		rd[m, c] = field("cycles_per_access"); wr[m, c] = field("cycles_per_write")
		if (c == "1") cpuid[m] = field("cycles_per_cpuid")
		if (!(m in seen)) { seen[m] = 1; modes[++nmodes] = m }
	}
	$2 == "zap_pause" {
		z = field("zap"); pause[z] = field("pause_cycles"); longest[z] = field("longest_exit_cycles")
		pages = field("shadow_pages")
	}
	END {
		for (i = 1; i <= nmodes; i++) {
			m = modes[i]
			row("MMIO read, mmu=" m ": fast path vs mmio_caching=0 (Bochs)", rd[m, "1"], rd[m, "0"], "guest cycles")
			row("MMIO write, mmu=" m ": fast path vs mmio_caching=0 (Bochs)", wr[m, "1"], wr[m, "0"], "guest cycles")
		}
		for (i = 1; i <= nmodes; i++)
			row("CPUID exit, mmu=" modes[i] " (reference, Bochs)", cpuid[modes[i]], "", "guest cycles")
		if ("fast" in pause || "slow" in pause) {
			row("zap-all pause, " pages " shadow pages: fast vs zap=slow (Bochs)", pause["fast"], pause["slow"], "guest cycles")
			row("longest exit during a zap-all: batch vs zap=slow (Bochs)", longest["fast"], longest["slow"], "guest cycles")
		}
		if ("ept" in gpf || "shadow" in gpf) {
			row("guest #PF: mmu=ept vs mmu=shadow (Bochs)", gpf["ept"], gpf["shadow"], "guest cycles")
			row("fresh mapping touched: mmu=ept vs mmu=shadow (Bochs)", fix["ept"], fix["shadow"], "guest cycles")
		}
	}' "$log")

if [[ -z $rows ]]; then
	echo "bench-table: no bench: lines in $log" >&2
	exit 1
fi

# The table on stdout, the same rows as JSON in $BUILD/bench.json.
json=$BUILD/bench.json
mkdir -p "$(dirname "$json")"
awk -F'|' -v json="$json" '
	function num(s) { return s ~ /^[0-9]+(\.[0-9]+)?$/ ? s : "null" }
	function ratio(f, s) { return (f == "" || s == "" || f + 0 <= 0) ? "" : (s + 0) / (f + 0) }
	function shown_ratio(r) { return r == "" ? "-" : r < 10 ? sprintf("%.1fx", r) : sprintf("%.0fx", r) }
	function shown(s) { return s == "" ? "-" : s }
	{
		name[NR] = $1; fast[NR] = $2; slow[NR] = $3; unit[NR] = $4; r[NR] = ratio($2, $3)
		if (length($1) > w) w = length($1)
	}
	END {
		printf "%-*s %14s %14s  %-12s %8s\n", w, "benchmark", "fast", "slow", "unit", "slow/fast"
		for (i = 1; i <= NR; i++)
			printf "%-*s %14s %14s  %-12s %8s\n", w, name[i], shown(fast[i]), shown(slow[i]), unit[i], shown_ratio(r[i])
		printf "[\n" > json
		for (i = 1; i <= NR; i++)
			printf "  {\"name\": \"%s\", \"fast\": %s, \"slow\": %s, \"unit\": \"%s\", \"ratio\": %s}%s\n",
			       name[i], num(fast[i]), num(slow[i]), unit[i], r[i] == "" ? "null" : sprintf("%.2f", r[i]),
			       i < NR ? "," : "" > json
		printf "]\n" > json
	}' <<<"$rows"
echo "bench-table: $json written; raw output in $log" >&2
exit "$failed"
