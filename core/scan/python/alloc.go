package python

/*
#include <stdlib.h>
extern void ts_set_allocator(void *(*)(size_t), void *(*)(size_t, size_t), void *(*)(void *, size_t), void (*)(void *));
static void use_libc_allocator(void) { ts_set_allocator(malloc, calloc, realloc, free); }
*/
import "C"

// The Go bindings route every tree-sitter allocation through a Go callback
// (a cgo round trip per malloc), which made parsing several times slower
// than the C library itself. Their default callbacks only call libc, so
// pointing tree-sitter straight at libc is the same allocator without the
// round trips. This runs after the bindings' own init.
func init() { C.use_libc_allocator() }
