// Package schemas generates the JSON Schemas checked in beside this file
// from the Go types that produce each document (invopop/jsonschema), so
// what a command prints and what its schema says cannot drift apart; tests
// in each producing package compare the two (see schematest).
package schemas

import (
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// BaseURL prefixes each schema's $id.
const BaseURL = "https://github.com/assay-dev/assay/"

// Generate reflects v (a pointer to the struct a command prints) into the
// schema checked in at path (relative to the repository root).
func Generate(v any, path, title, description string) ([]byte, error) {
	r := &jsonschema.Reflector{ExpandedStruct: true}
	s := r.Reflect(v)
	s.ID = jsonschema.ID(BaseURL + path)
	s.Title = title
	s.Description = description
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal schema %s: %w", path, err)
	}
	return append(b, '\n'), nil
}

// GenerateInline is Generate with every type inlined (no $defs), for
// documents holding two types of the same Go name from different packages
// (which $defs would merge into one).
func GenerateInline(v any, path, title, description string) ([]byte, error) {
	r := &jsonschema.Reflector{ExpandedStruct: true, DoNotReference: true}
	s := r.Reflect(v)
	s.ID = jsonschema.ID(BaseURL + path)
	s.Title = title
	s.Description = description
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal schema %s: %w", path, err)
	}
	return append(b, '\n'), nil
}
