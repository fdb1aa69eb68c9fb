// Package tsflat parses source with a tree-sitter grammar and flattens the
// tree into pre-order arrays in one cgo call (no crossing per node), for the
// Python and TypeScript/JavaScript scanners alike.
package tsflat

/*
#include <stdint.h>
#include <stdlib.h>
#include <stdbool.h>

// The parts of the tree-sitter C API (v0.25, linked in by
// github.com/tree-sitter/go-tree-sitter) this file uses.
typedef struct TSLanguage TSLanguage;
typedef struct TSParser TSParser;
typedef struct TSTree TSTree;
typedef struct { uint32_t row; uint32_t column; } TSPoint;
typedef struct { uint32_t context[4]; const void *id; const TSTree *tree; } TSNode;
typedef struct { const void *tree; const void *id; uint32_t context[3]; } TSTreeCursor;
extern TSParser *ts_parser_new(void);
extern void ts_parser_delete(TSParser *);
extern bool ts_parser_set_language(TSParser *, const TSLanguage *);
extern TSTree *ts_parser_parse_string(TSParser *, const TSTree *, const char *, uint32_t);
extern void ts_tree_delete(TSTree *);
extern TSNode ts_tree_root_node(const TSTree *);
extern TSTreeCursor ts_tree_cursor_new(TSNode);
extern void ts_tree_cursor_delete(TSTreeCursor *);
extern bool ts_tree_cursor_goto_first_child(TSTreeCursor *);
extern bool ts_tree_cursor_goto_next_sibling(TSTreeCursor *);
extern bool ts_tree_cursor_goto_parent(TSTreeCursor *);
extern TSNode ts_tree_cursor_current_node(const TSTreeCursor *);
extern uint16_t ts_tree_cursor_current_field_id(const TSTreeCursor *);
extern uint16_t ts_node_symbol(TSNode);
extern uint32_t ts_node_start_byte(TSNode);
extern uint32_t ts_node_end_byte(TSNode);
extern TSPoint ts_node_start_point(TSNode);
extern bool ts_node_is_named(TSNode);
extern bool ts_node_has_error(TSNode);

typedef struct {
	uint16_t sym, field;
	uint32_t start, end, row;
	int32_t parent;
	uint8_t named;
} rec;

// assay_parse parses src and flattens the whole tree (pre-order) into a
// malloc'd array, in one call, so Go does not cross cgo per node.
// Returns the node count, -1 when the parse failed, -2 when the tree is
// nested deeper than 2^20 levels; *err is set when the tree contains a
// syntax error.
static int32_t assay_parse(TSParser *p, const char *src, uint32_t len, rec **out, int *err) {
	TSTree *tree = ts_parser_parse_string(p, NULL, src, len);
	if (!tree) return -1;
	TSNode root = ts_tree_root_node(tree);
	*err = ts_node_has_error(root);
	int32_t cap = 1024, n = 0;
	rec *r = malloc(sizeof(rec) * cap);
	if (!r) { ts_tree_delete(tree); return -1; }
	int32_t scap = 256, depth = 0;
	int32_t *stack = malloc(sizeof(int32_t) * scap);
	if (!stack) { free(r); ts_tree_delete(tree); return -1; }
	TSTreeCursor c = ts_tree_cursor_new(root);
	int32_t parent = -1;
	for (;;) {
		TSNode node = ts_tree_cursor_current_node(&c);
		if (n == cap) {
			cap *= 2;
			rec *g = realloc(r, sizeof(rec) * cap);
			if (!g) { free(r); free(stack); ts_tree_cursor_delete(&c); ts_tree_delete(tree); return -1; }
			r = g;
		}
		r[n].sym = ts_node_symbol(node);
		r[n].field = ts_tree_cursor_current_field_id(&c);
		r[n].start = ts_node_start_byte(node);
		r[n].end = ts_node_end_byte(node);
		r[n].row = ts_node_start_point(node).row;
		r[n].parent = parent;
		r[n].named = ts_node_is_named(node);
		int32_t me = n++;
		if (ts_tree_cursor_goto_first_child(&c)) {
			if (depth == scap) {
				if (scap >= (1 << 20)) { free(r); free(stack); ts_tree_cursor_delete(&c); ts_tree_delete(tree); return -2; }
				scap *= 2;
				int32_t *g = realloc(stack, sizeof(int32_t) * scap);
				if (!g) { free(r); free(stack); ts_tree_cursor_delete(&c); ts_tree_delete(tree); return -1; }
				stack = g;
			}
			stack[depth++] = parent;
			parent = me;
			continue;
		}
		for (;;) {
			if (ts_tree_cursor_goto_next_sibling(&c)) break;
			if (depth == 0 || !ts_tree_cursor_goto_parent(&c)) {
				ts_tree_cursor_delete(&c);
				ts_tree_delete(tree);
				free(stack);
				*out = r;
				return n;
			}
			parent = stack[--depth];
		}
	}
}
*/
import "C"

import (
	"errors"
	"runtime"
	"unsafe"

	_ "github.com/tree-sitter/go-tree-sitter" // links the tree-sitter runtime this file calls
)

// Tree is a parsed tree as a pre-order array: node i's children are the
// nodes whose parent is i, in order.
type Tree struct {
	Sym, Field  []uint16
	Start, End  []uint32
	Row         []uint32
	Named       []bool
	First, Next []int32 // first child, next sibling (-1: none)
}

// Parser is one tree-sitter parser and the arrays of its last tree, which
// the next parse reuses (a parser is used by one goroutine at a time and
// nothing keeps a tree past the next Parse).
type Parser struct {
	p    *C.TSParser
	buf  Tree
	last []int32
}

// NewParser returns a parser for the grammar lang (a TSLanguage pointer as
// the grammars' Go bindings return it); name is for the panic on a grammar
// whose ABI version the runtime does not accept.
func NewParser(lang unsafe.Pointer, name string) *Parser {
	p := C.ts_parser_new()
	if !C.ts_parser_set_language(p, (*C.TSLanguage)(lang)) {
		panic(name + ": tree-sitter grammar version mismatch")
	}
	cp := &Parser{p: p}
	// Pooled parsers are dropped by the GC; free their C memory with them
	// (a long-running server scans many trees).
	runtime.AddCleanup(cp, func(p *C.TSParser) { C.ts_parser_delete(p) }, p)
	return cp
}

// keepNodes bounds the arrays a parser keeps between files (~30 bytes a node).
const keepNodes = 1 << 17

// Errors of Parse.
var (
	ErrParse = errors.New("parse failed")
	ErrDeep  = errors.New("nested too deeply")
)

// Parse returns the flattened tree and whether it has a syntax error. The
// tree is valid until the parser's next Parse.
func (cp *Parser) Parse(src []byte) (*Tree, bool, error) {
	var out *C.rec
	var hasErr C.int
	var p *C.char
	if len(src) > 0 {
		p = (*C.char)(unsafe.Pointer(&src[0]))
	}
	n := C.assay_parse(cp.p, p, C.uint32_t(len(src)), &out, &hasErr)
	switch {
	case n == -2:
		return nil, false, ErrDeep
	case n < 0:
		return nil, false, ErrParse
	}
	defer C.free(unsafe.Pointer(out))
	recs := unsafe.Slice(out, int(n))
	t := &cp.buf
	if n > keepNodes {
		t = new(Tree) // too big to keep for the next file
	}
	if cap(t.Sym) < int(n) {
		*t = Tree{
			Sym: make([]uint16, n), Field: make([]uint16, n), Start: make([]uint32, n), End: make([]uint32, n),
			Row: make([]uint32, n), Named: make([]bool, n), First: make([]int32, n), Next: make([]int32, n),
		}
	}
	var last []int32
	if n > keepNodes {
		last = make([]int32, n)
	} else {
		if cap(cp.last) < int(n) {
			cp.last = make([]int32, n)
		}
		last = cp.last[:n]
	}
	t.Sym, t.Field, t.Start, t.End = t.Sym[:n], t.Field[:n], t.Start[:n], t.End[:n]
	t.Row, t.Named, t.First, t.Next = t.Row[:n], t.Named[:n], t.First[:n], t.Next[:n]
	for i := range recs {
		r := &recs[i]
		t.Sym[i], t.Field[i], t.Start[i], t.End[i], t.Row[i], t.Named[i] = uint16(r.sym), uint16(r.field), uint32(r.start), uint32(r.end), uint32(r.row), r.named != 0
		t.First[i], t.Next[i], last[i] = -1, -1, -1
		if par := int32(r.parent); par >= 0 {
			if last[par] < 0 {
				t.First[par] = int32(i)
			} else {
				t.Next[last[par]] = int32(i)
			}
			last[par] = int32(i)
		}
	}
	return t, hasErr != 0, nil
}
