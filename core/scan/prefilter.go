package scan

import (
	"bytes"
	"sync"
)

// matcher answers "does bytes.ToLower(src) contain any of these words?" in
// one pass over src, without the lower-cased copy: an Aho-Corasick
// automaton (a full DFA) over ASCII case-folded bytes. It decides exactly
// what the per-word bytes.Contains did, so the set of files parsed (and
// with it every finding and skipped-file count) is unchanged.
//
// Why it is exact: bytes.ToLower leaves the bytes of an ASCII-only run
// ASCII-lower-cased and turns every other rune (or invalid byte) into
// bytes >= 0x80, which no word contains, except two runes whose lower case
// is ASCII (U+0130 -> 'i', U+212A -> 'k'; TestLowerToASCIIRunes checks
// there are no others). A file holding one of those two takes the old path.
type matcher struct {
	class [256]uint8 // byte -> input class (0: in no word)
	n     int        // classes
	// delta[s+class] is the next state, states numbered so that every
	// accepting state is >= acc and stored times n (no multiply per byte).
	delta  []uint32
	acc    int
	out    []uint64 // the words (bit i: words[i]) that end in state s (index s/n)
	maxLen int      // the longest word
	words  [][]byte // lower-case words, for the exact fallback
}

var (
	dottedCapitalI = []byte("\u0130")
	kelvinSign     = []byte("\u212A")
)

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// newMatcher builds the automaton for words (lower-case ASCII).
func newMatcher(words [][]byte) *matcher {
	m := &matcher{words: words, n: 1}
	for _, w := range words {
		m.maxLen = max(m.maxLen, len(w))
		for _, b := range w {
			if b >= 0x80 || lowerASCII(b) != b {
				panic("scan: prefilter words must be lower-case ASCII")
			}
			if m.class[b] == 0 {
				m.class[b] = uint8(m.n)
				m.n++
			}
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		m.class[b] = m.class[b+'a'-'A']
	}
	// Trie, with -1 for a missing edge.
	next := [][]int{make([]int, m.n)}
	for i := range next[0] {
		next[0][i] = -1
	}
	if len(words) > 64 {
		panic("scan: at most 64 prefilter words")
	}
	accept := []bool{false}
	out := []uint64{0}
	for wi, w := range words {
		s := 0
		for _, b := range w {
			c := m.class[b]
			if next[s][c] < 0 {
				row := make([]int, m.n)
				for i := range row {
					row[i] = -1
				}
				next = append(next, row)
				accept = append(accept, false)
				out = append(out, 0)
				next[s][c] = len(next) - 1
			}
			s = next[s][c]
		}
		accept[s] = true
		out[s] |= 1 << wi
	}
	// Breadth-first: fill missing edges from the failure state, so every
	// state has a transition for every class.
	fail := make([]int, len(next))
	var queue []int
	for c := 0; c < m.n; c++ {
		if t := next[0][c]; t < 0 {
			next[0][c] = 0
		} else {
			fail[t] = 0
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		accept[s] = accept[s] || accept[fail[s]]
		out[s] |= out[fail[s]]
		for c := 0; c < m.n; c++ {
			if t := next[s][c]; t < 0 {
				next[s][c] = next[fail[s]][c]
			} else {
				fail[t] = next[fail[s]][c]
				queue = append(queue, t)
			}
		}
	}
	// Renumber: the root stays 0, accepting states go last, so the scan
	// loop tests acceptance with one compare.
	id := make([]int, len(next))
	k := 0
	for pass := 0; pass < 2; pass++ {
		for s := range next {
			if accept[s] == (pass == 1) {
				id[s] = k
				k++
			}
		}
		if pass == 0 {
			m.acc = k * m.n
		}
	}
	if len(next)*m.n > 1<<31 {
		panic("scan: prefilter automaton too large")
	}
	m.delta = make([]uint32, len(next)*m.n)
	m.out = make([]uint64, len(next))
	for s, row := range next {
		for c, t := range row {
			m.delta[id[s]*m.n+c] = uint32(id[t] * m.n)
		}
		m.out[id[s]] = out[s]
	}
	return m
}

// set returns the words bytes.ToLower(src) contains (bit i: words[i]),
// stopping early once it holds a word of stop.
func (m *matcher) set(src []byte, stop uint64) uint64 {
	got, stopped := m.scan(src, stop)
	if !stopped && (bytes.Contains(src, dottedCapitalI) || bytes.Contains(src, kelvinSign)) {
		return lowerSet(src, m.words)
	}
	return got
}

// scan runs the automaton over src. A long src is cut in four quarters
// run side by side (four independent chains of loads instead of one),
// each also run on past its end by the longest word less one byte, so
// every occurrence lies whole in some run: the union is what one run over
// src finds.
func (m *matcher) scan(src []byte, stop uint64) (got uint64, stopped bool) {
	if len(src) < 4*m.maxLen+256 {
		return m.run(0, src, stop)
	}
	q := len(src) / 4
	a, b, c, d := src[:q], src[q:2*q], src[2*q:3*q], src[3*q:4*q]
	s0, s1, s2, s3, acc, delta, class := 0, 0, 0, 0, m.acc, m.delta, &m.class
	for i := range a {
		s0 = int(delta[s0+int(class[a[i]])])
		s1 = int(delta[s1+int(class[b[i]])])
		s2 = int(delta[s2+int(class[c[i]])])
		s3 = int(delta[s3+int(class[d[i]])])
		if s0 >= acc || s1 >= acc || s2 >= acc || s3 >= acc {
			for _, s := range [4]int{s0, s1, s2, s3} {
				if s >= acc {
					got |= m.out[s/m.n]
				}
			}
			if got&stop != 0 {
				return got, true
			}
		}
	}
	// The first three run on into the next quarter; the last to the end.
	tail := m.maxLen - 1
	for k, s := range [4]int{s0, s1, s2, s3} {
		from, to := (k+1)*q, (k+1)*q+tail
		if k == 3 || to > len(src) {
			to = len(src)
		}
		g, st := m.run(s, src[from:to], stop)
		if got |= g; st || got&stop != 0 {
			return got, true
		}
	}
	return got, false
}

// run continues the automaton from state s over src.
func (m *matcher) run(s int, src []byte, stop uint64) (got uint64, stopped bool) {
	acc, delta := m.acc, m.delta
	for _, b := range src {
		s = int(delta[s+int(m.class[b])])
		if s >= acc {
			got |= m.out[s/m.n]
			if got&stop != 0 {
				return got, true
			}
		}
	}
	return got, false
}

// lowerSet is the plain definition of set.
func lowerSet(src []byte, words [][]byte) uint64 {
	lower := bytes.ToLower(src)
	var got uint64
	for i, w := range words {
		if bytes.Contains(lower, w) {
			got |= 1 << i
		}
	}
	return got
}

// match reports whether bytes.ToLower(src) contains one of the words.
func (m *matcher) match(src []byte) bool { return m.set(src, ^uint64(0)) != 0 }

// containsLower is the plain definition: lower-case a copy, search each word.
func containsLower(src []byte, words [][]byte) bool {
	lower := bytes.ToLower(src)
	for _, w := range words {
		if bytes.Contains(lower, w) {
			return true
		}
	}
	return false
}

// The automata are built on first use, not at init (start-up stays cheap).
var (
	pyMatcher = sync.OnceValue(func() *matcher { return newMatcher(pyWords) })
	tsMatcher = sync.OnceValue(func() *matcher { return newMatcher(tsCandidates) })
)

// pyWords are the pieces of the Python rules' call strings (lower-cased;
// the first pyNamed are indexed by the constants below, the rest are the
// LOW names). A call string is its components' identifier texts joined by
// '.', so each piece a rule needs is in the file's bytes.
var pyWords = func() [][]byte {
	ws := []string{"create", "completions", "responses", "messages", "generate_content", "chatopenai",
		"chatanthropic", "litellm", "completion", "invoke", "llm", "predict",
		"langchain", "langgraph", "llama_index", "generativeai"}
	for n := range lowNames {
		ws = append(ws, n)
	}
	out := make([][]byte, len(ws))
	for i, w := range ws {
		out[i] = []byte(w)
	}
	return out
}()

const (
	wCreate = 1 << iota
	wCompletions
	wResponses
	wMessages
	wGenerateContent
	wChatOpenAI
	wChatAnthropic
	wLitellm
	wCompletion
	wInvoke
	wLLM
	wPredict
	wLangchain
	wLanggraph
	wLlamaIndex
	wGenerativeai
	pyNamed = iota
)

// pyGuard: one of these is in every framework-guard module (langchain*,
// langgraph, llama_index*, litellm, google.generativeai).
const pyGuard = wLangchain | wLanggraph | wLlamaIndex | wLitellm | wGenerativeai

// pyAlone are the words that alone may make a finding (so the pass can
// stop at the first): generate_content, ChatOpenAI, ChatAnthropic and every
// LOW name.
const pyAlone = ^uint64(0) &^ (wCreate | wCompletions | wResponses | wMessages | wLitellm | wCompletion |
	wInvoke | wLLM | wPredict | wLangchain | wLanggraph | wLlamaIndex | wGenerativeai)

// pyMayMatch is the rule table (rules.go) as a condition on the words a
// file holds and where: a two-part rule (completions/responses/messages
// .create, litellm.[a]completion, llm.[a]predict) needs its second word
// as an attribute of something ending in its first (chained); the guarded
// rules (.[a]invoke, llm.[a]predict) count only in a file that imports a
// guard module, so they need a guard word too; generate_content,
// ChatOpenAI/Anthropic and the LOW names one word.
func pyMayMatch(src []byte, got uint64) bool {
	return got&pyAlone != 0 ||
		(got&wCreate != 0 && got&(wCompletions|wResponses|wMessages) != 0 && chained(src, "create", createObjects)) ||
		(got&wLitellm != 0 && got&wCompletion != 0 && (chained(src, "completion", litellmObject) || chained(src, "acompletion", litellmObject))) ||
		(got&pyGuard != 0 && ((got&wInvoke != 0 && (chained(src, "invoke", nil) || chained(src, "ainvoke", nil))) ||
			(got&wLLM != 0 && got&wPredict != 0 && (chained(src, "predict", llmObject) || chained(src, "apredict", llmObject)))))
}

// The first parts of the two-part rules: the call string has
// "<first>.<second>" when a component ends with the first and the next
// starts with the second.
var (
	createObjects = []string{"completions", "responses", "messages"}
	litellmObject = []string{"litellm"}
	llmObject     = []string{"llm"}
)

// chained reports whether some attr in src may start an attribute name
// whose object's call string ends with one of objs (any object when objs is
// nil), which is what a call string containing "<obj>.<attr>" needs (the
// walker joins identifier texts with '.', case kept, through subscripts and
// parentheses). In the source that is attr, a '.' before it, and before
// that an identifier ending in obj, a ']' or a ')', with only what Python
// allows between tokens (spaces, tabs, form feeds, newlines, backslash
// continuations, comments). It errs towards yes: a '#' on the line a
// newline was passed to counts as a comment in between, any non-ASCII
// byte as a space (the grammar treats some Unicode spaces as such), and
// a ']' or ')' as a subscript or parentheses around such an object.
func chained(src []byte, attr string, objs []string) bool {
	for i := 0; ; {
		k := bytes.Index(src[i:], []byte(attr))
		if k < 0 {
			return false
		}
		at := i + k
		i = at + len(attr)
		j, comment := skipBack(src, at-1)
		switch {
		case comment || (j >= 0 && src[j] >= 0x80):
			return true
		case j < 0 || src[j] != '.':
			continue
		case objs == nil:
			return true
		}
		j, comment = skipBack(src, j-1)
		switch {
		case j < 0:
			continue
		case comment || src[j] >= 0x80 || src[j] == ']' || src[j] == ')':
			return true
		}
		for _, o := range objs {
			if bytes.HasSuffix(src[:j+1], []byte(o)) {
				return true
			}
		}
	}
}

// skipBack returns the index of the last byte at or before j that is not a
// space, tab, form feed, vertical tab, backslash or line end (-1: none), and
// whether a comment may lie in what it passed (a newline was passed and the
// line it stopped in holds a '#').
func skipBack(src []byte, j int) (int, bool) {
	nl := false
	for ; j >= 0; j-- {
		switch src[j] {
		case ' ', '\t', '\f', '\v', '\\':
			continue
		case '\n', '\r': // a lone CR ends a line too
			nl = true
			continue
		}
		break
	}
	if nl && j >= 0 {
		start := bytes.LastIndexAny(src[:j], "\r\n") + 1
		return j, bytes.IndexByte(src[start:j+1], '#') >= 0
	}
	return j, false
}
