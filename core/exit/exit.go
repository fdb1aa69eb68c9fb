// Package exit carries the documented exit code with an error, so every
// command reports bad input, tampering and honest failures the same way
// (DECISIONS 6): 0 ok, 1 honest failure, 2 tampered, 3 bad input.
package exit

import (
	"errors"
	"fmt"
)

// The four verdict codes.
const (
	OK         = 0
	HonestFail = 1
	Tampered   = 2
	BadInput   = 3
)

// Error is an error with the exit code it maps to. Msg is one line naming the
// problem; Fix, when set, says what to do about it.
type Error struct {
	Code int
	Msg  string
	Fix  string
	Err  error
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Fix != "" {
		s += " (" + e.Fix + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the given code.
func New(code int, fix string, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...), Fix: fix}
}

// Bad returns a bad-input (exit 3) error.
func Bad(fix string, format string, args ...any) *Error {
	return New(BadInput, fix, format, args...)
}

// Wrap attaches a code to err, keeping it for errors.Is/As.
func Wrap(code int, err error, fix string) *Error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Msg: err.Error(), Fix: fix, Err: err}
}

// Code returns the exit code err maps to: 0 for nil, the carried code for an
// *Error anywhere in the chain, and 3 (bad input) otherwise.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var s Silent
	if errors.As(err, &s) {
		return s.Code
	}
	return BadInput
}

// Silent is returned by commands that already rendered their outcome (for
// example a verdict panel) and only need the process to exit with Code.
type Silent struct{ Code int }

func (s Silent) Error() string { return fmt.Sprintf("exit %d", s.Code) }
