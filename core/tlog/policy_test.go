package tlog

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/exit"
)

func TestParsePolicyRefusals(t *testing.T) {
	t.Parallel()
	w1, w2, w3 := newCosigner(t, "w.test/1"), newCosigner(t, "w.test/2"), newCosigner(t, "w.test/3")
	logKey, err := OpenKeys(t.TempDir(), "log.test/x")
	if err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("witness a %s\nwitness b %s https://b.example/\nwitness c %s\n", w1.vkey, w2.vkey, w3.vkey)
	for _, tc := range []struct {
		name, text, want string
	}{
		{"threshold 0", head + "group g 0 a b\nquorum g\n", "threshold 0 must be between 1"},
		{"threshold above members", head + "group g 3 a b\nquorum g\n", "threshold 3 must be between 1"},
		{"member twice", head + "group g 2 a a\nquorum g\n", "lists a twice"},
		{"member twice via all", head + "group g all a b a\nquorum g\n", "lists a twice"},
		{"name twice", head + "witness a " + w1.vkey + "\nquorum a\n", `"a" is already defined`},
		{"key twice", head + "witness d " + w1.vkey + "\nquorum a\n", "same key as witness a"},
		{"undefined member", head + "group g any a zz\nquorum g\n", "zz is not defined"},
		{"undefined quorum", head + "quorum zz\n", "quorum zz is not defined"},
		{"no quorum", head, "no quorum"},
		{"two quorums", head + "quorum a\nquorum b\n", "second quorum"},
		{"log key as witness key", "witness a " + logKey.VKey + "\nquorum a\n", "not a cosignature key"},
		{"garbage key", "witness a nope\nquorum a\n", "not a vkey"},
		{"bad url", "witness a " + w1.vkey + " ftp://x\nquorum a\n", "not an http(s) URL"},
		{"keyword as name", "witness any " + w1.vkey + "\nquorum any\n", "not a valid name"},
		{"unknown keyword", "witnes a " + w1.vkey + "\n", "unknown keyword"},
		{"threshold word", head + "group g most a b\nquorum g\n", "not a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			// Loading the file is bad input (exit 3).
			p := writeFile(t, filepath.Join(t.TempDir(), "policy"), tc.text)
			_, err = LoadPolicy(p)
			var xe *exit.Error
			if !errors.As(err, &xe) || xe.Code != exit.BadInput {
				t.Fatalf("LoadPolicy: %v", err)
			}
		})
	}
}

func TestPolicyQuorum(t *testing.T) {
	t.Parallel()
	w1, w2, w3 := newCosigner(t, "w.test/1"), newCosigner(t, "w.test/2"), newCosigner(t, "w.test/3")
	head := fmt.Sprintf("# comment line\nlog %s\nwitness a %s https://a.example/\n\twitness b %s # trailing\nwitness c %s\n",
		mustKeys(t).VKey, w1.vkey, w2.vkey, w3.vkey)
	for _, tc := range []struct {
		name, rules string
		cosigned    []string
		want        bool
	}{
		{"2 of 3 with 2", "group g 2 a b c\nquorum g", []string{"a", "c"}, true},
		{"2 of 3 with 1", "group g 2 a b c\nquorum g", []string{"b"}, false},
		{"any with 1", "group g any a b c\nquorum g", []string{"c"}, true},
		{"any with 0", "group g any a b c\nquorum g", nil, false},
		{"all with 2 of 3", "group g all a b c\nquorum g", []string{"a", "b"}, false},
		{"single witness", "quorum b", []string{"b"}, true},
		{"single witness missing", "quorum b", []string{"a"}, false},
		{"nested", "group x any a b\ngroup y all c\ngroup xy all x y\nquorum xy", []string{"b", "c"}, true},
		{"nested short", "group x any a b\ngroup y all c\ngroup xy all x y\nquorum xy", []string{"a", "b"}, false},
		{"none", "quorum none", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(head + tc.rules + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Satisfied(tc.cosigned); got != tc.want {
				t.Fatalf("Satisfied(%v) = %v, want %v (%s)", tc.cosigned, got, tc.want, p.Describe())
			}
		})
	}
}

func mustKeys(t *testing.T) *LogKeys {
	t.Helper()
	k, err := OpenKeys(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	return k
}
