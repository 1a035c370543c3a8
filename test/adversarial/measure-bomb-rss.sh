#!/usr/bin/env bash
# Peak RSS of gesso refusing decompression bombs, measured with /usr/bin/time -v (apt-get install -y time).
# Usage: test/adversarial/measure-bomb-rss.sh [GESSO_CHECKOUT]   (default: this checkout)
# Prints one line per case: checkout, case, exit code, peak RSS in MB, first line of stderr.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
root=${1:-$here}
dir=$(mktemp -d /tmp/gesso-bomb-XXXXXX)
node --import tsx -e "
  const { bombPng, pngWithText } = await import('$here/test/adversarial/hostile-inputs.ts');
  await bombPng('$dir/bomb.png', 16000, 16000);
  pngWithText('$dir/ok.png', [], 64);
" || exit 1
echo "bomb: $(stat -c %s "$dir/bomb.png") bytes declaring 16000x16000; load $(cut -d' ' -f1-3 /proc/loadavg)"
run() {
  local name=$1; shift
  /usr/bin/time -v -o "$dir/time.txt" node "$root/bin/gesso.js" "$@" >/dev/null 2>"$dir/err.txt"
  local code=$?
  local kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$dir/time.txt")
  echo "$root | $name | exit $code | peak RSS $((kb / 1024)) MB | $(grep -v '^\s' "$dir/err.txt" | grep -v '^Command' | head -1 | cut -c1-150)"
}
run 'upscale BOMB' upscale "$dir/bomb.png" --out "$dir/up.png"
run 'generate --init BOMB' generate 'a red star' --init "$dir/bomb.png" --steps 1 --out "$dir/o1.png"
run 'generate --init OK --mask BOMB' generate 'a red star' --init "$dir/ok.png" --mask "$dir/bomb.png" --steps 1 --out "$dir/o2.png"
run 'info BOMB' info "$dir/bomb.png"
rm -rf "$dir"
