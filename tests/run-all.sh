#!/bin/bash
# make test: the hosted unit tests, then the boot tests, then one "N passed, M failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
what=${1:-all}
passed=0
failed=0

run_unit_tests() {
	local bin out p f status
	for bin in "$BUILD"/tests/test_*; do
		[[ -x $bin ]] || continue
		out=$("$bin" 2>&1)
		status=$?
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' <<<"$out")
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' <<<"$out")
		p=${p:-0} f=${f:-0}
		if [[ $status -ne 0 && $f -eq 0 ]]; then
			# Died before cmocka could count (a sanitizer report, a crash).
			f=1
		fi
		if [[ $f -ne 0 ]]; then
			echo "$out"
			echo "FAIL unit ${bin##*/}: $f failed (exit status $status)"
		else
			echo "PASS unit ${bin##*/} ($p tests)"
		fi
		passed=$((passed + p))
		failed=$((failed + f))
	done
}

run_boot_tests() {
	local out last p f
	out=$(tests/boot/boot-tests.sh 2>&1 | tee /dev/stderr)
	last=$(tail -n 1 <<<"$out")
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
	else
		echo "FAIL boot tests: the driver gave no summary line"
		p=0 f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

case $what in
all) run_unit_tests; run_boot_tests ;;
unit) run_unit_tests ;;
boot) run_boot_tests ;;
*) echo "usage: $0 [all|unit|boot]" >&2; exit 2 ;;
esac

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
