#!/usr/bin/env bash
# tests/boot/qemu-guest.sh: boot one test guest directly under QEMU TCG (no VMM), for rows comparing QEMU's status with the VMM's.
#
# Takes scripts/run's interface, so that boot-tests.sh can use it as BOOT_TESTS_RUN:
# with "--host qemu-guest" it boots the one --guest FILE[:ARGS] with QEMU -kernel,
# isa-debug-exit at 0xf4 and pc-testdev, and ends the log with "vmm: exit status N",
# N being QEMU's own status ((v << 1) | 1 for a guest writing v to port 0xf4);
# without it, it hands every argument to scripts/run (env QEMU_GUEST_NEXT: another runner).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
next=${QEMU_GUEST_NEXT:-$ROOT/scripts/run}

qemu_guest=0
for a in "$@"; do
	[[ $a == qemu-guest || $a == --host=qemu-guest ]] && qemu_guest=1
done
((qemu_guest)) || exec "$next" "$@"

die() {
	printf 'qemu-guest: %s\n' "$*" >&2
	exit 126
}

quiet=0 log= timeout=${TIMEOUT:-120} guest= mem=128
while (($#)); do
	case $1 in
	--quiet) quiet=1 ;;
	--log) log=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--host) [[ $2 == qemu-guest ]] || die "--host $2 mixed with qemu-guest"; shift ;;
	--host=qemu-guest) ;;
	--guest)
		[[ -z $guest ]] || die "qemu-guest boots one guest"
		guest=$2
		shift
		;;
	--mem) mem=$2; shift ;;
	*) die "option '$1' has no meaning without the VMM" ;;
	esac
	shift
done
[[ -n $guest ]] || die "--guest FILE[:ARGS] is required"
file=${guest%%:*}
args=
[[ $guest != *:* ]] || args=${guest#*:}
[[ -f $file ]] || die "guest $file not found"
# QEMU's -kernel refuses an ELF64 and exits 1, which would read as a guest's pass.
[[ $(head -c 5 -- "$file" | od -An -tx1 | tr -d ' \n') == 7f454c4601 ]] ||
	die "guest $file is not an ELF32 file: QEMU's multiboot loader takes only ELF32 (objcopy -O elf32-i386)"
[[ -n $log ]] || log=$ROOT/build/logs/qemu-guest-$$.log
mkdir -p -- "$(dirname -- "$log")"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qemu-guest.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
name=${file##*/}
cp -- "$file" "$tmp/$name"
status=0
# The guest sees "NAME ARGS" as its command line, as under the VMM.
(cd "$tmp" && exec timeout -s INT -k 10 "$timeout" qemu-system-x86_64 -accel tcg -cpu max -m "$mem" \
	-display none -no-reboot -monitor none -serial "file:$tmp/serial" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -device pc-testdev \
	-kernel "$name" -append "$args" </dev/null >"$tmp/qemu.out" 2>&1) || status=$?
{
	cat -- "$tmp/serial" 2>/dev/null || true
	printf 'vmm: exit status %d\n' "$status"
} >"$log"
((quiet)) || cat -- "$log"
if ((status == 124)); then
	cat -- "$tmp/qemu.out" >&2
fi
exit "$status"
