#!/usr/bin/env bash
# Peak memory and throughput of `assay verify-pack` on a 1M-receipt pack
# (target: max RSS under 100 MB, throughput at least half of plain SHA-256
# of the same receipt_pack.jsonl). Reuses the pack BenchmarkVerify1M
# caches in $TMPDIR (building it the first time takes a few minutes);
# override with ASSAY_BENCH_PACK=dir. RUNS=n repeats each measurement
# (default 3). Other load on the machine skews single runs: compare figures
# of the same run, and prefer the quietest.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${RUNS:-3}"
pack="${ASSAY_BENCH_PACK:-${TMPDIR:-/tmp}/assay-bench-pack-1000000}"
if [ ! -x /usr/bin/time ]; then
	(apt-get update -qq && apt-get install -y -qq time) >/dev/null
fi
if [ ! -f "$pack/pack_manifest.json" ]; then
	echo "building the 1M-receipt pack in $pack (once)..." >&2
	go test ./core/verify -run '^$' -bench 'BenchmarkVerify1M$' -benchtime 1x >/dev/null
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/assay" ./cmd/assay
file="$pack/receipt_pack.jsonl"
bytes=$(stat -c %s "$file")
mb=$(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e6}')
lines=$(wc -l <"$file")
echo "pack: $pack ($lines receipt lines, $mb MB receipt_pack.jsonl)"
cat "$file" >/dev/null # warm the page cache for both tools alike
# sha256sum (coreutils) may not use the CPU's SHA instructions; openssl
# does, like Go's crypto/sha256, so it is the fair reference for the target.
rate() { awk -v mb="$mb" -v s="$1" 'BEGIN{printf "%.0f", mb/(s>0?s:0.01)}'; }
for i in $(seq "$runs"); do
	/usr/bin/time -f '%e' -o "$tmp/sha" sha256sum "$file" >/dev/null
	ref="n/a"
	if command -v openssl >/dev/null; then
		/usr/bin/time -f '%e' -o "$tmp/ossl" openssl dgst -sha256 "$file" >/dev/null
		ref=$(rate "$(cat "$tmp/ossl")")
	fi
	set +e
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/verify" "$tmp/assay" verify-pack "$pack" >/dev/null
	code=$?
	set -e
	read -r ve vu vs vrss <"$tmp/verify"
	ver=$(rate "$ve")
	ratio=$(awk -v a="$ver" -v b="$ref" 'BEGIN{ if (b+0 > 0) printf "%.2f", a/b; else print "n/a" }')
	awk -v i="$i" -v code="$code" -v ve="$ve" -v cpu="$(awk -v u="$vu" -v s="$vs" 'BEGIN{print u+s}')" -v ver="$ver" \
		-v sha="$(rate "$(cat "$tmp/sha")")" -v ref="$ref" -v ratio="$ratio" -v rss="$vrss" 'BEGIN{
		printf "run %d: verify-pack exit %d, %.2f s wall (%.2f s CPU), %d MB/s | sha256sum %d MB/s | openssl sha256 %s MB/s | verify/openssl %s | max RSS %.1f MB\n",
			i, code, ve, cpu, ver, sha, ref, ratio, rss/1024 }'
done
