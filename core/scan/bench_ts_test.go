package scan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// genTSTree writes n TypeScript files of the same shape as genTree's Python
// files (imports, a class with methods, an LLM call in one file in every),
// 100 per directory.
func genTSTree(tb testing.TB, dir string, n, every int) int64 {
	var total int64
	body := strings.Repeat(`
/** Handles requests of kind {{i}}. */
export class Handler{{i}} {
  private cache: Record<string, any> = { hits: 0, misses: 0 };

  constructor(private store: Map<string, any>, private limit = 10) {}

  fetch(key: string): Record<string, any> {
    if (key in this.cache) {
      this.cache.hits += 1;
      return this.cache[key];
    }
    const value = this.store.get(key) ?? null;
    const rows = (value ?? []).filter((r: any) => r.ok);
    this.cache[key] = { rows, n: rows.length };
    return this.cache[key];
  }
}
`, 6)
	for i := 0; i < n; i++ {
		d := filepath.Join(dir, fmt.Sprintf("pkg%03d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(d, 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		src := "import * as fs from 'node:fs';\nimport { join } from 'node:path';\nimport type { Stats } from 'node:fs';\n" + strings.ReplaceAll(body, "{{i}}", fmt.Sprint(i))
		if i%every == 0 {
			src = "import OpenAI from 'openai';\n" + src + "\nexport async function ask(client: OpenAI, q: string) {\n  return client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: q }] });\n}\n"
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("mod%05d.ts", i)), []byte(src), 0o644); err != nil {
			tb.Fatal(err)
		}
		total += int64(len(src))
	}
	return total
}

// BenchmarkScanTSvsPython scans 10,000 generated TypeScript files and
// 10,000 Python files of the same shape, each with an LLM call in one file
// in ten (the prefilter skips the rest) and in every file (every file
// parsed). Compare the MB/s of each pair for the "TS within 1.5x of
// Python per byte" target:
//
//	go test -run '^$' -bench ScanTSvsPython -benchtime 3x ./core/scan/
func BenchmarkScanTSvsPython(b *testing.B) {
	for _, every := range []int{10, 1} {
		py, ts := b.TempDir(), b.TempDir()
		pySize := genTreeEvery(b, py, 10000, every)
		tsSize := genTSTree(b, ts, 10000, every)
		for _, c := range []struct {
			name string
			dir  string
			size int64
		}{{"python", py, pySize}, {"typescript", ts, tsSize}} {
			b.Run(fmt.Sprintf("%s-call-every-%d", c.name, every), func(b *testing.B) {
				for b.Loop() {
					r, err := Scan(c.dir, Options{})
					if err != nil || len(r.Findings) != 10000/every {
						b.Fatalf("%v, %d findings", err, len(r.Findings))
					}
				}
				report(b, c.size)
			})
		}
	}
}
