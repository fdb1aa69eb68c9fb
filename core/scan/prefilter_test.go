package scan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/assay-dev/assay/core/scan/python"
)

// TestLowerToASCIIRunes: U+0130 and U+212A are the only non-ASCII runes
// whose lower case is ASCII, which is what makes matcher.match exact.
func TestLowerToASCIIRunes(t *testing.T) {
	t.Parallel()
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
	"", "x = 1\n", "c.messages.\\\n  create()", "(c.messages.  # x\n create())", "c.messages[0].create()",
	"c.messages.\u200bcreate()", "(c.responses.\n\n  # a\n\n  create())", "c.completions .\fcreate()", "messages; recreate()", "(c.messages.\r# c\rcreate())", "import langgraph\nx.invoke()", "from llama_index.core import A\nllm.apredict()",
	"import google . generativeai\nx.invoke()", "from .langchain_core import x\nx.ainvoke()", "x.invoke()", "client.chat.completions.create()", "CLIENT.CREATE()", "cReAtE",
	"creat", "reate", "crecreate", "ccreate", "ChatOpenAI(model='x')", "llm.Invoke(x)",
	"def Call_LLM(): pass", "model_\u0130nference()", "inVo\u212Ae()", "invo\u212A", "\u0130nvoke",
	"caf\xe9 create", "\xff\xfecreate", "cr\xffeate", "cr\u00e9ate", "generate_conten", "generate_content",
	"import openai", "from '@google/genai'", "require(\"ai\")", "`ai`", "x-assay-callsite", "OPENAI",
	"callllm", "askllm", "ask_llm", "predic", "PREDICT", "\u212Aelvin invoke",
}

func TestPrefilterExact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		m     *matcher
		words [][]byte
	}{{"python", pyMatcher(), pyWords}, {"ts", tsMatcher(), tsCandidates}} {
		check := func(src []byte, from string) {
			if got, want := tc.m.match(src), containsLower(src, tc.words); got != want {
				t.Errorf("%s %s: match=%v, bytes.ToLower+Contains=%v", tc.name, from, got, want)
			}
			if got, want := tc.m.set(src, 0), lowerSet(src, tc.words); got != want {
				t.Errorf("%s %s: set=%b, bytes.ToLower+Contains=%b", tc.name, from, got, want)
			}
			if tc.name == "python" {
				mustPass(t, src, from)
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
		if got, want := pyMatcher().set(src, 0), lowerSet(src, pyWords); got != want {
			t.Fatalf("python %q: set=%b, want %b", src, got, want)
		}
		mustPass(t, src, "fuzz")
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
			if mayHaveFindings(src) {
				b.Fatal("match")
			}
		}
	})
	b.Run("lower+contains", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			if containsLower(src, pyWords) {
				b.Fatal("match")
			}
		}
	})
}

// mustPass fails when src, parsed, has a finding (with or without the
// framework guard) that the prefilter would not have let through.
func mustPass(t *testing.T, src []byte, from string) {
	t.Helper()
	for _, s := range [][]byte{src, append([]byte("import langchain\n"), src...)} {
		if mayHaveFindings(s) {
			continue
		}
		if f, err := python.Parse(s); err == nil {
			if fs := PythonFindings("x.py", f); len(fs) > 0 {
				t.Errorf("%s: prefilter drops a file with findings %+v", from, fs)
			}
		}
	}
}

// TestPrefilterRules: a call of every rule passes the prefilter and has a
// finding; near misses of the two-word rules do not pass.
func TestPrefilterRules(t *testing.T) {
	t.Parallel()
	calls := []string{"client.chat.completions.create()", "c.completions.create()", "c.responses.create()",
		"c.messages.create()", "c.chat_completions.create()", "m.generate_content()", "m.generate_content_async()",
		"ChatOpenAI()", "ChatAnthropic()", "litellm.completion()", "litellm.acompletion()", "c.invoke()",
		"c.ainvoke()", "llm.predict()", "llm.apredict()", "a.b[0] .\\\n  chat.completions .create()",
		"(c.messages.  # x\n create())", "(c.responses.\n\n  # a\n\n  create())", "c.messages[0].create()", "(c.messages.\r# c\rcreate())"}
	for n := range lowNames {
		calls = append(calls, "x."+strings.ToUpper(n)+"()")
	}
	for _, c := range calls {
		src := []byte("import langchain\n" + c + "\n")
		f, err := python.Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if len(PythonFindings("x.py", f)) == 0 || !mayHaveFindings(src) {
			t.Errorf("%s: findings %v, prefilter %v", c, PythonFindings("x.py", f), mayHaveFindings(src))
		}
	}
	for _, c := range []string{"x.create()", "os.makedirs(); self.create()", "completion = f()", "llm = g()", "x.predict()", "litellm.config()",
		"c.invoke()", "llm.predict()", "import google\nc.ainvoke()",
		"create(messages)", "messages = recreate()", "c.messages.Create()"} {
		if src := []byte(c + "\n"); mayHaveFindings(src) {
			t.Errorf("%s: passes the prefilter", c)
		}
	}
}

// TestPrefilterLongInputs: on inputs long enough to be cut in quarters,
// a word placed across or beside every cut (upper-cased too) is found
// exactly as lower-casing and searching finds it.
func TestPrefilterLongInputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		m     *matcher
		words [][]byte
	}{{pyMatcher(), pyWords}, {tsMatcher(), tsCandidates}} {
		for _, size := range []int{4*tc.m.maxLen + 256, 1000, 4099} {
			q := size / 4
			for _, w := range tc.words {
				for _, cut := range []int{q, 2 * q, 3 * q, 4 * q} {
					for off := -len(w) - 1; off <= 1; off++ {
						at := cut + off
						if at < 0 || at+len(w) > size {
							continue
						}
						for _, word := range [][]byte{w, bytes.ToUpper(w)} {
							src := bytes.Repeat([]byte{'z'}, size)
							copy(src[at:], word)
							if got, want := tc.m.set(src, 0), lowerSet(src, tc.words); got != want {
								t.Errorf("%q at %d of %d: set=%b, want %b", word, at, size, got, want)
							}
							if got, want := tc.m.match(src), containsLower(src, tc.words); got != want {
								t.Errorf("%q at %d of %d: match=%v, want %v", word, at, size, got, want)
							}
						}
					}
				}
			}
		}
	}
}
