#!/usr/bin/env bash
# Peak memory and throughput of `assay verify-pack` on a 1M-receipt pack
# (target: max RSS under 100 MB, throughput at least half of plain SHA-256
# of the same receipt_pack.jsonl). Reuses the pack BenchmarkVerify1M caches
# in $TMPDIR (building it the first time takes a few minutes); override
# with ASSAY_BENCH_PACK=dir. RUNS=n repeats each measurement (default 3).
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
for i in $(seq "$runs"); do
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/sha" sha256sum "$file" >/dev/null
	set +e
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/verify" "$tmp/assay" verify-pack "$pack" >/dev/null
	code=$?
	set -e
	read -r se su ss _ <"$tmp/sha"
	read -r ve vu vs vrss <"$tmp/verify"
	awk -v mb="$mb" -v se="$se" -v ve="$ve" -v vu="$vu" -v vs="$vs" -v rss="$vrss" -v code="$code" -v i="$i" 'BEGIN{
		sha = mb/(se>0?se:0.01); ver = mb/(ve>0?ve:0.01)
		printf "run %d: verify-pack exit %d, %.2f s wall (%.2f s CPU), %.0f MB/s; sha256sum %.2f s, %.0f MB/s; ratio %.2f; max RSS %.1f MB\n",
			i, code, ve, vu+vs, ver, se, sha, ver/sha, rss/1024 }'
done
