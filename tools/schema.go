package tools

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"
)

// anyType is the reflect type of interface{} (and any).
var anyType = reflect.TypeOf((*any)(nil)).Elem()

// reflector turns Go types into the JSON Schemas we publish: inline (no
// $defs/$ref), no $id, an object at the root, additionalProperties:false,
// only fields without omitempty required, and `any` rendered as {} instead
// of the bare `true` that strict clients reject (mcp-notes §2.1).
func reflector() *jsonschema.Reflector {
	return &jsonschema.Reflector{
		Anonymous:      true,
		DoNotReference: true,
		ExpandedStruct: true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if t == anyType {
				return &jsonschema.Schema{Extras: map[string]any{}}
			}
			return nil
		},
	}
}

// SchemaOf reflects v's type into canonical schema JSON (two-space indented,
// as checked in under schemas/tools).
func SchemaOf(v any) (json.RawMessage, error) {
	s := reflector().Reflect(v)
	s.Version = ""
	fixObjects(s)
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal schema of %T: %w", v, err)
	}
	return b, nil
}

// fixObjects gives every object schema a properties member, free-form maps
// included: OpenAI and others reject objects without one.
func fixObjects(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if s.Type == "object" && s.Properties == nil {
		s.Properties = jsonschema.NewProperties()
	}
	if s.Properties != nil {
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			fixObjects(p.Value)
		}
	}
	fixObjects(s.Items)
	fixObjects(s.AdditionalProperties)
	for _, sub := range s.AnyOf {
		fixObjects(sub)
	}
	for _, sub := range s.OneOf {
		fixObjects(sub)
	}
}
