package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	jsv "github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/schemas"
)

// Annotations are the four behaviour hints every tool sets explicitly
// (mcp-go's defaults are the pessimistic ones and cause needless prompts).
type Annotations struct {
	ReadOnly, Destructive, Idempotent, OpenWorld bool
}

// Call is what a handler gets besides its typed arguments.
type Call struct {
	Server *Server
	// Session is the MCP session the call belongs to (its trace).
	Session *session
	// Raw is the arguments object exactly as received.
	Raw json.RawMessage
}

// Tool is one entry of the tool table.
type Tool struct {
	Name        string
	Title       string
	Description string
	Annotations Annotations
	// InputSchema and OutputSchema are the checked-in schemas/tools files,
	// which TestSchemasDrift keeps equal to the reflection of the argument
	// and result types (Reflected): reflecting at every start cost
	// assay-mcp milliseconds before its first answer.
	InputSchema, OutputSchema json.RawMessage

	// ArgHint, when set, ends every invalid-arguments error (what to do
	// instead, e.g. which server flag an argument needs).
	ArgHint string `json:"-"`

	validator *lazySchema
	reflect   func() (in, out json.RawMessage)
	call      func(ctx context.Context, c *Call) (result any, summary string, links []mcp.Content, err error)
}

// withLinks is implemented by results that attach resource links to the
// content (bundle links the pack it wrote).
type withLinks interface{ resourceLinks() []mcp.Content }

// newTool makes a tool from a typed handler: fn receives decoded, validated
// arguments and returns the structured result plus a one-line summary.
func newTool[A, R any](name, title, desc string, ann Annotations, fn func(ctx context.Context, c *Call, args A) (R, string, error)) Tool {
	t := Tool{Name: name, Title: title, Description: desc, Annotations: ann, validator: &lazySchema{}}
	t.reflect = func() (json.RawMessage, json.RawMessage) {
		var a A
		var r R
		in, err := SchemaOf(&a)
		if err != nil {
			panic(err) // a programming error in the tool table, caught by every test
		}
		out, err := SchemaOf(&r)
		if err != nil {
			panic(err)
		}
		return in, out
	}
	t.loadSchemas(name)
	t.call = func(ctx context.Context, c *Call) (any, string, []mcp.Content, error) {
		var args A
		dec := json.NewDecoder(bytes.NewReader(c.Raw))
		dec.UseNumber()
		if err := dec.Decode(&args); err != nil {
			return nil, "", nil, Failf("arguments do not match the input schema of %s: %v", name, err)
		}
		res, sum, err := fn(ctx, c, args)
		if err != nil {
			return nil, "", nil, err
		}
		var links []mcp.Content
		if l, ok := any(res).(withLinks); ok {
			links = l.resourceLinks()
		}
		return res, sum, links, nil
	}
	return t
}

// loadSchemas sets the schemas from the first of the checked-in
// schemas/tools/BASE.{input,output}.json files found, reflecting the types
// when there is none (a new tool before `go test ./tools -update`).
func (t *Tool) loadSchemas(bases ...string) {
	find := func(suffix string) json.RawMessage {
		for _, b := range bases {
			if raw, ok := schemas.Tool(b + suffix); ok {
				return raw
			}
		}
		return nil
	}
	t.InputSchema, t.OutputSchema = find(".input.json"), find(".output.json")
	if t.InputSchema == nil || t.OutputSchema == nil {
		in, out := t.reflect()
		if t.InputSchema == nil {
			t.InputSchema = in
		}
		if t.OutputSchema == nil {
			t.OutputSchema = out
		}
	}
}

// Reflected returns the schemas reflected from the tool's argument and
// result types, which the served ones must equal (TestSchemasDrift).
func (t Tool) Reflected() (in, out json.RawMessage) { return t.reflect() }

// lazySchema is a tool's compiled input schema, compiled on the tool's
// first call: starting a server, or answering tools/list, compiles none.
type lazySchema struct {
	once sync.Once
	s    *jsv.Schema
	err  error
}

func (l *lazySchema) get(name string, raw json.RawMessage) (*jsv.Schema, error) {
	l.once.Do(func() { l.s, l.err = compileSchemaErr(name, raw) })
	return l.s, l.err
}

// compileSchema compiles a schema of the tool table, which must compile.
func compileSchema(name string, raw json.RawMessage) *jsv.Schema {
	s, err := compileSchemaErr(name, raw)
	if err != nil {
		panic(err.Error())
	}
	return s
}

func compileSchemaErr(name string, raw json.RawMessage) (*jsv.Schema, error) {
	doc, err := jsv.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", name, err)
	}
	c := jsv.NewCompiler()
	url := "mem:///" + name + ".input.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("schema of %s: %w", name, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", name, err)
	}
	return s, nil
}

// MCPTool is the tool as tools/list shows it. Its schemas are the
// checked-in ones without their indentation: encoding/json compacts a raw
// schema, byte by byte with its scanner, on every tools/list answer and
// when mcp-go checks the tool in AddTool, and the indentation is nearly
// half of the bytes. The JSON a client receives is the same.
func (t Tool) MCPTool() mcp.Tool {
	b := func(v bool) *bool { return &v }
	return mcp.Tool{
		Name:            t.Name,
		Description:     t.Description,
		RawInputSchema:  stripSpace(t.InputSchema),
		RawOutputSchema: stripSpace(t.OutputSchema),
		Annotations: mcp.ToolAnnotation{
			Title:           t.Title,
			ReadOnlyHint:    b(t.Annotations.ReadOnly),
			DestructiveHint: b(t.Annotations.Destructive),
			IdempotentHint:  b(t.Annotations.Idempotent),
			OpenWorldHint:   b(t.Annotations.OpenWorld),
		},
	}
}

// stripSpace returns raw without the whitespace between JSON tokens (what
// json.Compact removes, without json.Compact's validating scanner, which
// the encoder runs anyway); nil stays nil. Strings are copied whole.
func stripSpace(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return nil
	}
	out := make(json.RawMessage, 0, len(raw))
	for i := 0; i < len(raw); {
		switch c := raw[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '"':
			j := i + 1 // just past the closing quote, once found
			for {
				k := bytes.IndexByte(raw[j:], '"')
				if k < 0 {
					j = len(raw)
					break
				}
				j += k + 1
				n := 0 // backslashes before the quote: odd escapes it
				for p := j - 2; p > i && raw[p] == '\\'; p-- {
					n++
				}
				if n%2 == 0 {
					break
				}
			}
			out = append(out, raw[i:j]...)
			i = j
		default:
			out = append(out, c)
			i++
		}
	}
	return out
}

// Failure is a domain failure: the call ran but cannot succeed as asked.
// It becomes an isError result whose text tells the model what to change.
type Failure struct{ Msg string }

func (f *Failure) Error() string { return f.Msg }

// Failf makes a Failure.
func Failf(format string, args ...any) error { return &Failure{Msg: fmt.Sprintf(format, args...)} }

// maxText bounds the text content of any result; structured content is
// bounded by each tool's own limits (pages and summaries).
const maxText = 8 << 10

// handler wraps a tool: validation, the call, errors, logging, recording.
func (s *Server) handler(t Tool) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		start := time.Now()
		raw := rawArguments(req)
		sess := s.sessionFor(ctx)
		res := s.invoke(ctx, t, sess, raw)
		ev := s.log.Info()
		if res.IsError {
			ev = s.log.Warn()
		}
		ev.Str("tool", t.Name).Bool("is_error", res.IsError).Dur("took", time.Since(start)).Msg("tool call")
		if !s.cfg.NoRecord {
			if err := s.recordCall(sess, t.Name, req, raw, res, start); err != nil {
				// Evidence is never dropped in silence: the caller learns the
				// call happened but could not be recorded.
				s.log.Error().Err(err).Str("tool", t.Name).Msg("cannot record mcp_tool_call receipt")
				res.IsError = true
				res.Content = append(res.Content, mcp.NewTextContent("assay could not record this call in the session trace: "+err.Error()+
					" (check that the assay home is writable)"))
			}
		}
		return res, nil
	}
}

func (s *Server) invoke(ctx context.Context, t Tool, sess *session, raw json.RawMessage) (res *mcp.CallToolResult) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error().Str("tool", t.Name).Interface("panic", p).Msg("tool panicked")
			res = mcp.NewToolResultError(fmt.Sprintf("%s failed unexpectedly; this is a bug in assay-mcp, please report it", t.Name))
		}
	}()
	if err := validateArgs(t, raw); err != nil {
		return mcp.NewToolResultError(err.Error())
	}
	out, sum, links, err := t.call(ctx, &Call{Server: s, Session: sess, Raw: raw})
	if err != nil {
		return errorResult(t.Name, err)
	}
	text, _ := json.Marshal(out)
	if sum != "" {
		text = []byte(sum)
	}
	if len(text) > maxText {
		text = append(text[:maxText:maxText], []byte("… (truncated; the full result is in structuredContent)")...)
	}
	r := mcp.NewToolResultStructured(out, string(text))
	r.Content = append(r.Content, links...)
	return r
}

// validateArgs checks the arguments against the input schema and names the
// valid keys when an unknown one is given.
func validateArgs(t Tool, raw json.RawMessage) error {
	inst, err := jsv.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return Failf("%s: arguments are not a JSON object: %v", t.Name, err)
	}
	sch, err := t.validator.get(t.Name, t.InputSchema)
	if err != nil {
		return fmt.Errorf("%s: its input schema does not compile, a bug in assay-mcp: %w", t.Name, err)
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsv.ValidationError
	msg := err.Error()
	if errors.As(err, &ve) {
		msg = flattenValidation(ve)
	}
	hint := ""
	if t.ArgHint != "" {
		hint = "; " + t.ArgHint
	}
	return Failf("invalid arguments for %s: %s (valid arguments: %s)%s", t.Name, msg, strings.Join(argNames(t), ", "), hint)
}

var printer = message.NewPrinter(language.English)

func flattenValidation(ve *jsv.ValidationError) string {
	var parts []string
	var walk func(e *jsv.ValidationError)
	walk = func(e *jsv.ValidationError) {
		if len(e.Causes) == 0 {
			loc := "/" + strings.Join(e.InstanceLocation, "/")
			parts = append(parts, fmt.Sprintf("at %s: %s", loc, e.ErrorKind.LocalizedString(printer)))
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(parts, "; ")
}

func argNames(t Tool) []string {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	_ = json.Unmarshal(t.InputSchema, &s)
	req := map[string]bool{}
	for _, r := range s.Required {
		req[r] = true
	}
	var names []string
	for k := range s.Properties {
		if req[k] {
			k += " (required)"
		}
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// errorResult renders a handler error for the model: a Failure or an
// exit.Error as its own message (with the fix), anything else with the tool
// name so the model knows which call to change.
func errorResult(name string, err error) *mcp.CallToolResult {
	var f *Failure
	var e *exit.Error
	switch {
	case errors.As(err, &f):
		return mcp.NewToolResultError(f.Msg)
	case errors.As(err, &e):
		return mcp.NewToolResultError(e.Error())
	default:
		return mcp.NewToolResultError(name + ": " + err.Error())
	}
}

// rawArguments returns the arguments object as received ({} when absent).
func rawArguments(req mcp.CallToolRequest) json.RawMessage {
	if len(req.Params.RawArguments) > 0 && !bytes.Equal(bytes.TrimSpace(req.Params.RawArguments), []byte("null")) {
		return req.Params.RawArguments
	}
	if req.Params.Arguments == nil {
		return json.RawMessage("{}")
	}
	b, err := json.Marshal(req.Params.Arguments)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
