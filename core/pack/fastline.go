package pack

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/receipt"
)

// recInfo is what the build reads from a receipt besides its pack line.
type recInfo struct {
	id, typ, ts, storedAt string // "" when absent or not a string
	owned                 bool   // has _trace_id or run_id (then it is the run's)
	seq                   float64
}

// infoOf reads recInfo from a decoded receipt (after checkOne).
func infoOf(r *receipt.Receipt) recInfo {
	return recInfo{id: r.String("receipt_id"), typ: r.String("type"), ts: r.String("timestamp"),
		storedAt: r.String("_stored_at"), owned: sortOwner(r) != "", seq: seqOf(r)}
}

// fastLiner renders the pack line of a trace line without decoding it into
// values, for the receipts the store writes: an object whose members are
// plain (unescaped ASCII keys; strings without escapes or line separators;
// integers; literals) is canonical once its members are sorted and the v0
// keys dropped; nested values are canonicalized on their own. Anything else
// (escapes, floats, duplicate keys, suspect keys or values) is left to the
// decoding path, so the bytes are always receipt.Line's.
type fastLiner struct {
	ms   []canon.ScanMember
	idx  []int
	out  []byte
	nest []byte
}

var lineOptions = canon.Options{ASCIIKeys: true, EscapeLineSeparators: true}

// lineSeparators are U+2028, U+2029 and U+0085 in UTF-8: a pack line
// escapes them.
var lineSeparators = [][]byte{{0xe2, 0x80, 0xa8}, {0xe2, 0x80, 0xa9}, {0xc2, 0x85}}

func isV0Stripped(k []byte) bool {
	switch string(k) {
	case "signatures", "signature", "cose_signature", "receipt_hash", "anchor":
		return true
	}
	return false
}

// line returns the pack line of data and its recInfo; ok is false when data
// must take the decoding path. The line is valid until the next call.
func (f *fastLiner) line(data []byte) (line []byte, info recInfo, ok bool) {
	if len(data) >= scanLimit {
		return nil, info, false
	}
	res, ms := canon.Scan(data, f.ms)
	f.ms = ms
	if !res.Valid || res.Kind != canon.KindObject || res.Suspect {
		return nil, info, false
	}
	f.idx = f.idx[:0]
	for i := range ms {
		m := &ms[i]
		if m.KeyEscaped {
			return nil, info, false
		}
		for _, c := range m.Key(data) {
			if c >= 0x80 {
				return nil, info, false
			}
		}
		v := m.Value(data)
		switch canon.Kind(v[0]) {
		case canon.KindString:
			if m.ValueEscaped {
				return nil, info, false
			}
			for _, sep := range lineSeparators {
				if bytes.Contains(v, sep) {
					return nil, info, false
				}
			}
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			if bytes.ContainsAny(v, ".eE") || string(v) == "-0" {
				return nil, info, false
			}
		}
		if !isV0Stripped(m.Key(data)) {
			f.idx = append(f.idx, i)
		}
		switch string(m.Key(data)) {
		case "receipt_id":
			info.id = plainString(v)
		case "type":
			info.typ = plainString(v)
		case "timestamp":
			info.ts = plainString(v)
		case "_stored_at":
			info.storedAt = plainString(v)
		case "seq":
			if c := v[0]; c == '-' || (c >= '0' && c <= '9') {
				info.seq, _ = strconv.ParseFloat(string(v), 64)
			}
		}
	}
	slices.SortFunc(f.idx, func(a, b int) int { return bytes.Compare(ms[a].Key(data), ms[b].Key(data)) })
	for j := 1; j < len(f.idx); j++ {
		if bytes.Equal(ms[f.idx[j-1]].Key(data), ms[f.idx[j]].Key(data)) {
			return nil, info, false // a duplicate key: Decode keeps the last value
		}
	}
	// Owners: strings only here; anything else is for checkOne to refuse.
	var tr, rid []byte
	for i := range ms {
		switch string(ms[i].Key(data)) {
		case "_trace_id":
			tr = ms[i].Value(data)
		case "run_id":
			rid = ms[i].Value(data)
		}
	}
	for _, v := range [][]byte{tr, rid} {
		if v != nil && v[0] != '"' {
			return nil, info, false
		}
	}
	info.owned = tr != nil || rid != nil
	out := append(f.out[:0], '{')
	for j, i := range f.idx {
		if j > 0 {
			out = append(out, ',')
		}
		m := &ms[i]
		out = append(out, '"')
		out = append(out, m.Key(data)...)
		out = append(out, '"', ':')
		v := m.Value(data)
		if v[0] == '{' || v[0] == '[' {
			nb, err := lineOptions.Canonicalize(v)
			if err != nil {
				return nil, info, false
			}
			out = append(out, nb...)
			continue
		}
		out = append(out, v...)
	}
	out = append(out, '}')
	f.out = out
	return out, info, true
}

// owners returns the _trace_id and run_id strings of a line the fast path
// took (both checked to be unescaped strings).
func owners(data []byte, ms []canon.ScanMember) (tr, rid string, hasTr, hasRid bool) {
	for i := range ms {
		switch string(ms[i].Key(data)) {
		case "_trace_id":
			tr, hasTr = plainString(ms[i].Value(data)), true
		case "run_id":
			rid, hasRid = plainString(ms[i].Value(data)), true
		}
	}
	return
}

// plainString is the value of an unescaped JSON string literal, or "" for
// any other value (as Object.String).
func plainString(v []byte) string {
	if len(v) >= 2 && v[0] == '"' {
		return string(v[1 : len(v)-1])
	}
	return ""
}

// scanLimit keeps lines within canon.Scan's offsets.
const scanLimit = 1 << 30

// checkFast is checkOne for a line the fast path took.
func (f *fastLiner) checkFast(runID string, i int, data []byte, info recInfo) error {
	tr, rid, hasTr, hasRid := owners(data, f.ms)
	if hasTr && hasRid && tr != rid {
		return exit.Bad("a receipt belongs to one run", "receipt %d (%s) has _trace_id %v but run_id %v", i, info.id, tr, rid)
	}
	owner := tr
	if !hasTr {
		owner = rid
	}
	if (hasTr || hasRid) && owner != runID {
		return exit.Bad("pack each trace separately", "receipt %d (%s) belongs to run %v, not %s", i, info.id, owner, runID)
	}
	if !receipt.TypeAllowed(info.typ) {
		return exit.Bad("allowed types: "+receipt.AllowedForms(), "receipt %d (%s) has type %q, which a proof pack cannot carry", i, info.id, info.typ)
	}
	return nil
}
