package fnmatch

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestGlobMatchesPython checks the translator against what CPython's
// fnmatch.fnmatchcase answered for every (glob, name) pair in
// testdata/fnmatch_vectors.json (written by testdata/gen_fnmatch.py).
func TestGlobMatchesPython(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/fnmatch_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Python string   `json:"python"`
		Names  []string `json:"names"`
		Globs  []struct {
			Glob    string   `json:"glob"`
			Regex   string   `json:"regex"`
			Matches []string `json:"matches"`
		} `json:"globs"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Globs) < 80 || len(v.Names) < 80 {
		t.Fatalf("vector file too small: %d globs, %d names", len(v.Globs), len(v.Names))
	}
	pairs := 0
	for _, g := range v.Globs {
		re, _, err := Compile(g.Glob)
		if err != nil {
			t.Errorf("glob %q: %v", g.Glob, err)
			continue
		}
		for _, name := range v.Names {
			pairs++
			want := slices.Contains(g.Matches, name)
			if got := re.MatchString(name); got != want {
				t.Errorf("glob %q vs name %q: got %v, Python %s says %v (Python regex %s, ours %s)", g.Glob, name, got, v.Python, want, g.Regex, re)
			}
		}
	}
	t.Logf("%d glob/name pairs agree with Python %s", pairs, v.Python)
}

func TestGlobInfo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		glob               string
		unclosed, emptySet bool
	}{
		{"delete_*", false, false},
		{"[abc]*", false, false},
		{"a[bc", true, false},
		{"[z-a]", false, true},
		{"[!z-a]", false, false}, // any character, like Python
		{"[!]", true, false},
	} {
		_, info := Translate(tc.glob)
		if info.Unclosed != tc.unclosed || info.EmptySet != tc.emptySet {
			t.Errorf("%q: got %+v, want unclosed=%v emptySet=%v", tc.glob, info, tc.unclosed, tc.emptySet)
		}
	}
}

// FuzzGlob: every glob translates to an expression RE2 accepts.
func FuzzGlob(f *testing.F) {
	for _, s := range []string{"*", "[a-c]", "[!]]", "[--a]", "[", "a[!b-a-c]*?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, g string) {
		re, _, err := Compile(g)
		if err != nil {
			t.Fatalf("glob %q: %v", g, err)
		}
		re.MatchString(g)
	})
}
