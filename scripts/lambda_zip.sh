#!/usr/bin/env bash
# Builds the AWS Lambda deployment package for the provided.al2023 runtime:
#
#   lambda_zip.sh SPOTKEEPER_BINARY BOOTSTRAP_LAUNCHER OUTPUT_ZIP
#
# Zip layout (see docs/packaging.md):
#   bootstrap                  the static launcher (src/launcher), needs nothing from the host
#   bin/spotkeeper             the binary, stripped
#   lib/ld-linux-x86-64.so.2   the dynamic loader the binary was linked against
#   lib/<soname>               every shared library `ldd` lists, stripped
#   licenses/<package>         the Debian copyright file of each bundled library's package
# The launcher runs bin/spotkeeper on lib/'s loader with --library-path lib, so
# nothing of the host's glibc or libraries is used (aws-lambda-cpp's packager
# does the same with a shell-script bootstrap; ours is a static binary so that
# it also runs where there is no /bin/sh).
# The zip is reproducible: fixed timestamps, sorted entries, no extra attributes.
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 SPOTKEEPER_BINARY BOOTSTRAP_LAUNCHER OUTPUT_ZIP" >&2
  exit 2
fi
binary=$1 launcher=$2 out=$3
die() { printf 'lambda_zip: %s\n' "$*" >&2; exit 1; }
for f in "$binary" "$launcher"; do [ -x "$f" ] || die "not an executable file: $f"; done
for tool in ldd strip zip readelf; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/setup.sh installs it)"
done
if readelf -l "$launcher" | grep -q 'Requesting program interpreter'; then
  die "$launcher is dynamically linked; the bootstrap launcher must be static"
fi

out_dir=$(cd "$(dirname "$out")" && pwd)
stage=$(mktemp -d "$out_dir/.lambda-zip.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/licenses"

install -m 0755 "$launcher" "$stage/bootstrap"
strip --strip-all "$stage/bootstrap"
install -m 0755 "$binary" "$stage/bin/spotkeeper"
strip --strip-all "$stage/bin/spotkeeper"

# The loader: the binary's PT_INTERP, always bundled under the name the launcher uses.
interp=$(readelf -l "$binary" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ -n "$interp" ] || die "$binary has no program interpreter (static?); nothing to bundle"
[ "$(basename "$interp")" = ld-linux-x86-64.so.2 ] || die "unexpected loader $interp (x86_64 only)"
install -m 0755 "$(readlink -f "$interp")" "$stage/lib/ld-linux-x86-64.so.2"

# Every library ldd resolves, under its soname; any "not found" is an error.
ldd_out=$(ldd "$binary") || die "ldd $binary failed"
if grep -q 'not found' <<<"$ldd_out"; then
  die "unresolved libraries: $(grep 'not found' <<<"$ldd_out" | tr -s ' \t\n' ' ')"
fi
lib_paths=()
while read -r soname path; do
  install -m 0644 "$(readlink -f "$path")" "$stage/lib/$soname"
  lib_paths+=("$path" "$(readlink -f "$path")")
done < <(awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' <<<"$ldd_out")
strip --strip-unneeded "$stage"/lib/*.so*

# The licences of what is redistributed (LGPL libraries among them): the Debian
# copyright file of each package that owns a bundled file (one dpkg query).
lib_paths+=("$interp" "$(readlink -f "$interp")")
for p in $(dpkg -S "${lib_paths[@]}" 2>/dev/null | cut -d: -f1 | sort -u); do
  if [ -f "/usr/share/doc/$p/copyright" ]; then
    install -m 0644 "/usr/share/doc/$p/copyright" "$stage/licenses/$p"
  fi
done
[ -f "$stage/licenses/libc6" ] || die "could not map the bundled libraries to Debian packages (dpkg -S)"

find "$stage" -exec touch -h -d '1980-01-02 00:00:00 UTC' {} +
rm -f "$out.tmp"
(cd "$stage" && find . -type f | LC_ALL=C sort | sed 's|^\./||' |
  TZ=UTC zip -q -X -9 -D "$out.tmp" -@)
mv -f "$out.tmp" "$out"
printf 'lambda_zip: %s: %s bytes (%s unpacked), %s files in lib/ (the loader included)\n' "$out" \
  "$(stat -c %s "$out")" "$(du -sb "$stage" | cut -f1)" "$(ls "$stage/lib" | wc -l)" >&2
