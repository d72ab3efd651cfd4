#!/usr/bin/env bash
# scripts/deps.sh: make sure the Debian packages the project needs are installed.
set -euo pipefail

# bochs-term: Debian's Bochs has no "nogui" display, and the term one needs this plugin.
# libclang-rt-14-dev: the sanitizer and libFuzzer runtimes for clang 14.
readonly PACKAGES=(
	nasm bochs bochsbios bochs-term vgabios seabios qemu-system-x86 ovmf
	gcc make binutils libcmocka-dev clang libclang-rt-14-dev mtools dosfstools
)

usage() {
	cat <<'EOF'
Usage: scripts/deps.sh [--check]
Installs the Debian packages the project needs that are missing (as root, with
apt-get); otherwise, or with --check, only lists them. Exit status 1 when a
package is still missing.
EOF
}

check_only=0
case ${1-} in
"") ;;
--check) check_only=1 ;;
--help | -h)
	usage
	exit 0
	;;
*)
	printf 'deps: unknown argument %s\n' "$1" >&2
	usage >&2
	exit 2
	;;
esac

command -v dpkg-query >/dev/null || {
	printf 'deps: dpkg-query not found: this script knows Debian packages only; needed: %s\n' "${PACKAGES[*]}" >&2
	exit 1
}

# Sets the array "missing". One dpkg-query for the whole list keeps the common case fast.
find_missing() {
	local -A have=()
	local name state
	while read -r name state; do
		[[ $state == installed ]] && have[${name%%:*}]=1
	done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' -- "${PACKAGES[@]}" 2>/dev/null || true)
	missing=()
	for name in "${PACKAGES[@]}"; do
		[[ -n ${have[$name]-} ]] || missing+=("$name")
	done
}

find_missing
if ((${#missing[@]} == 0)); then
	if ((check_only)); then printf 'deps: all %d packages installed\n' "${#PACKAGES[@]}"; fi
	exit 0
fi

if ((check_only)) || ((EUID != 0)); then
	printf 'deps: missing packages: %s\n' "${missing[*]}"
	printf 'deps: run: sudo apt-get install -y %s\n' "${missing[*]}"
	exit 1
fi

printf 'deps: installing %s\n' "${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# Without recommends is enough: bochs-term satisfies Bochs' GUI dependency and the
# BIOS packages are in the list, so Bochs still gets its term display and firmware.
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
installed=("${missing[@]}")
find_missing
if ((${#missing[@]})); then
	printf 'deps: still missing after apt-get install: %s\n' "${missing[*]}" >&2
	exit 1
fi
printf 'deps: installed %s\n' "${installed[*]}"
