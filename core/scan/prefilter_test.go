package scan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// TestLowerToASCIIRunes: U+0130 and U+212A are the only non-ASCII runes
// whose lower case is ASCII, which is what makes matcher.match exact.
func TestLowerToASCIIRunes(t *testing.T) {
	var got []rune
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if unicode.ToLower(r) < 0x80 {
			got = append(got, r)
		}
	}
	if len(got) != 2 || got[0] != 0x130 || got[1] != 0x212A {
		t.Fatalf("runes lowering to ASCII: %U", got)
	}
}

var prefilterCases = []string{
	"", "x = 1\n", "client.chat.completions.create()", "CLIENT.CREATE()", "cReAtE",
	"creat", "reate", "crecreate", "ccreate", "ChatOpenAI(model='x')", "llm.Invoke(x)",
	"def Call_LLM(): pass", "model_\u0130nference()", "inVo\u212Ae()", "invo\u212A", "\u0130nvoke",
	"caf\xe9 create", "\xff\xfecreate", "cr\xffeate", "cr\u00e9ate", "generate_conten", "generate_content",
	"import openai", "from '@google/genai'", "require(\"ai\")", "`ai`", "x-assay-callsite", "OPENAI",
	"callllm", "askllm", "ask_llm", "predic", "PREDICT", "\u212Aelvin invoke",
}

func TestPrefilterExact(t *testing.T) {
	for _, tc := range []struct {
		name  string
		m     *matcher
		words [][]byte
	}{{"python", pyMatcher(), candidateWords}, {"ts", tsMatcher(), tsCandidates}} {
		check := func(src []byte, from string) {
			if got, want := tc.m.match(src), containsLower(src, tc.words); got != want {
				t.Errorf("%s %s: match=%v, bytes.ToLower+Contains=%v", tc.name, from, got, want)
			}
		}
		for _, s := range prefilterCases {
			check([]byte(s), strings.ToValidUTF8(s, "?"))
		}
		// Every word alone, upper-cased, and cut short by one byte.
		for _, w := range tc.words {
			for _, s := range []string{string(w), strings.ToUpper(string(w)), "x" + string(w[:len(w)-1]) + "\u00e9" + string(w[len(w)-1:])} {
				check([]byte(s), s)
			}
		}
		// The corpora's files.
		filepath.WalkDir("../../testdata/scan", func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if src, err := os.ReadFile(p); err == nil {
					check(src, p)
				}
			}
			return nil
		})
	}
}

// FuzzPrefilter: the automaton decides exactly what lower-casing the file
// and searching each word decides, for any bytes.
func FuzzPrefilter(f *testing.F) {
	for _, s := range prefilterCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if got, want := pyMatcher().match(src), containsLower(src, candidateWords); got != want {
			t.Fatalf("python %q: match=%v, want %v", src, got, want)
		}
		if got, want := tsMatcher().match(src), containsLower(src, tsCandidates); got != want {
			t.Fatalf("ts %q: match=%v, want %v", src, got, want)
		}
	})
}

// BenchmarkPrefilter: the one-pass automaton against lower-casing a copy
// and searching each word, on a file with no candidate (the common case).
func BenchmarkPrefilter(b *testing.B) {
	src := []byte(strings.Repeat("    def fetch(self, key: str) -> dict:\n        value = self.store.get(key, default=None)\n", 40))
	b.Run("automaton", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			if pyMatcher().match(src) {
				b.Fatal("match")
			}
		}
	})
	b.Run("lower+contains", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			if containsLower(src, candidateWords) {
				b.Fatal("match")
			}
		}
	})
}
