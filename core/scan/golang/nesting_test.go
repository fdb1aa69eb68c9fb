package golang

import (
	"strings"
	"testing"
)

// A Go file nested deeper than MaxNesting is skipped before go/parser,
// which would recurse once per level; brackets in comments and literals do
// not count, so such a file is still analysed.
func TestAnalyzeSkipsDeepNesting(t *testing.T) {
	t.Parallel()
	const call = `package p

import "github.com/openai/openai-go"

func f(c openai.Client) { c.Chat.Completions.New(nil, openai.ChatCompletionNewParams{}) }
`
	deep := strings.Repeat("(", MaxNesting+1) + "1" + strings.Repeat(")", MaxNesting+1)
	for _, c := range []struct {
		name, src string
		skipped   bool
	}{
		{"expression", call + "var x = " + deep + "\n", true},
		{"composite literal", call + "var y = " + strings.Repeat("[]", 1) + "any{" + strings.Repeat("[]any{", MaxNesting) + strings.Repeat("}", MaxNesting+1) + "\n", true},
		{"in a string", call + "var s = \"" + strings.Repeat("(", 5000) + "\\\"(\"\n", false},
		{"in a raw string", call + "var s = `" + strings.Repeat("{", 5000) + "`\n", false},
		{"in a rune and comments", call + "var r = '('\n// " + strings.Repeat("[", 5000) + "\n/* " + strings.Repeat("(", 5000) + " */\n", false},
		{"just within", call + "var x = " + strings.Repeat("(", MaxNesting-2) + "1" + strings.Repeat(")", MaxNesting-2) + "\n", false},
	} {
		sites, skipped := Analyze([]Source{{Path: "a.go", Src: []byte(c.src)}})
		if c.skipped {
			if len(skipped) != 1 || skipped[0].Reason != "Go source nested too deeply" || len(sites) != 0 {
				t.Errorf("%s: sites %v skipped %v", c.name, sites, skipped)
			}
		} else if len(skipped) != 0 || len(sites) != 1 {
			t.Errorf("%s: sites %v skipped %v", c.name, sites, skipped)
		}
	}
}
