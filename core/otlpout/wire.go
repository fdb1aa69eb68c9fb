package otlpout

// The OTLP encodings of an ExportTraceServiceRequest, written by hand so
// that the binaries link neither protobuf nor the OTel SDK: protobuf (a
// tiny wire encoder) and OTLP/JSON (the proto3 JSON mapping with OTLP's
// exceptions: hex trace and span ids, enums as integers). Field numbers
// are those of opentelemetry-proto (go.opentelemetry.io/proto/otlp
// v1.11.1); wire_test.go decodes both encodings with the official pdata
// and compares them with what the OTel SDK exporter sent for the same
// receipts.

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/assay-dev/assay/core/version"
)

// Field numbers (opentelemetry-proto).
const (
	// ExportTraceServiceRequest
	fReqResourceSpans = 1
	// ResourceSpans
	fRSResource   = 1
	fRSScopeSpans = 2
	fRSSchemaURL  = 3
	// Resource
	fResAttributes = 1
	// ScopeSpans
	fSSScope     = 1
	fSSSpans     = 2
	fSSSchemaURL = 3
	// InstrumentationScope
	fScopeName    = 1
	fScopeVersion = 2
	// Span
	fSpanTraceID    = 1
	fSpanSpanID     = 2
	fSpanName       = 5
	fSpanKind       = 6  // enum (varint)
	fSpanStart      = 7  // fixed64
	fSpanEnd        = 8  // fixed64
	fSpanAttributes = 9  // repeated KeyValue
	fSpanLinks      = 13 // repeated Link
	fSpanStatus     = 15
	fSpanFlags      = 16 // fixed32
	// Span.Link
	fLinkTraceID = 1
	fLinkSpanID  = 2
	fLinkFlags   = 6 // fixed32
	// Status
	fStatusMessage = 2
	fStatusCode    = 3 // enum (varint)
	// KeyValue
	fKVKey   = 1
	fKVValue = 2
	// AnyValue (a oneof: always written, even when zero)
	fAnyString = 1
	fAnyBool   = 2 // varint
	fAnyInt    = 3 // varint (int64)
	fAnyDouble = 4 // fixed64
	fAnyArray  = 5 // ArrayValue{values = 1}
	// ArrayValue
	fArrayValues = 1
	// ExportTraceServiceResponse
	fRespPartialSuccess = 1
	// ExportTracePartialSuccess
	fPSRejectedSpans = 1 // varint (int64)
	fPSErrorMessage  = 2
	// google.rpc.Status (error bodies)
	fRPCStatusMessage = 2
)

// Wire types.
const (
	wtVarint  = 0
	wtFixed64 = 1
	wtBytes   = 2
	wtFixed32 = 5
)

// pb appends protobuf fields to b.
type pb struct{ b []byte }

func (e *pb) tag(field, wt int) { e.b = binary.AppendUvarint(e.b, uint64(field)<<3|uint64(wt)) }

func (e *pb) varint(field int, v uint64) {
	e.tag(field, wtVarint)
	e.b = binary.AppendUvarint(e.b, v)
}

func (e *pb) fixed64(field int, v uint64) {
	e.tag(field, wtFixed64)
	e.b = binary.LittleEndian.AppendUint64(e.b, v)
}

func (e *pb) fixed32(field int, v uint32) {
	e.tag(field, wtFixed32)
	e.b = binary.LittleEndian.AppendUint32(e.b, v)
}

// bytes writes a length-delimited field, even an empty one.
func (e *pb) bytes(field int, v []byte) {
	e.tag(field, wtBytes)
	e.b = binary.AppendUvarint(e.b, uint64(len(v)))
	e.b = append(e.b, v...)
}

// str writes a string field, even an empty one; invalid UTF-8 (which a
// receiver refuses in a proto3 string) becomes U+FFFD.
func (e *pb) str(field int, s string) {
	if !utf8.ValidString(s) {
		s = toValidUTF8(s)
	}
	e.tag(field, wtBytes)
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

// optStr writes a proto3 string field unless it is empty (the default).
func (e *pb) optStr(field int, s string) {
	if s != "" {
		e.str(field, s)
	}
}

// begin starts an embedded message; end closes it. One byte is reserved
// for the length, and the body is shifted when it needs more.
func (e *pb) begin(field int) int {
	e.tag(field, wtBytes)
	e.b = append(e.b, 0)
	return len(e.b)
}

func (e *pb) end(start int) {
	n := len(e.b) - start
	if n < 0x80 {
		e.b[start-1] = byte(n)
		return
	}
	var l [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(l[:], uint64(n))
	e.b = append(e.b, l[:k-1]...)
	copy(e.b[start-1+k:], e.b[start:start+n])
	copy(e.b[start-1:], l[:k])
}

func (e *pb) anyValue(field int, v any) {
	s := e.begin(field)
	switch v := v.(type) {
	case string:
		e.str(fAnyString, v)
	case bool:
		b := uint64(0)
		if v {
			b = 1
		}
		e.varint(fAnyBool, b)
	case int64:
		e.varint(fAnyInt, uint64(v))
	case int:
		e.varint(fAnyInt, uint64(int64(v)))
	case float64:
		e.fixed64(fAnyDouble, math.Float64bits(v))
	case []string:
		a := e.begin(fAnyArray)
		for _, x := range v {
			av := e.begin(fArrayValues)
			e.str(fAnyString, x)
			e.end(av)
		}
		e.end(a)
	}
	e.end(s)
}

func (e *pb) keyValue(field int, a Attr) {
	s := e.begin(field)
	e.optStr(fKVKey, a.Key)
	e.anyValue(fKVValue, a.Value)
	e.end(s)
}

func unixNano(t time.Time) uint64 {
	return uint64(max(0, t.UnixNano()))
}

// encodeProto is the protobuf ExportTraceServiceRequest of spans: one
// ResourceSpans (service.name) with one ScopeSpans (scope "assay").
func encodeProto(res Resource, spans []*SpanData) []byte {
	e := &pb{b: make([]byte, 0, 128+len(spans)*600)}
	rs := e.begin(fReqResourceSpans)
	r := e.begin(fRSResource)
	e.keyValue(fResAttributes, Attr{keyServiceName, res.service()})
	e.end(r)
	ss := e.begin(fRSScopeSpans)
	sc := e.begin(fSSScope)
	e.optStr(fScopeName, scopeName)
	e.optStr(fScopeVersion, version.Version)
	e.end(sc)
	for _, sp := range spans {
		s := e.begin(fSSSpans)
		e.bytes(fSpanTraceID, sp.TraceID[:])
		e.bytes(fSpanSpanID, sp.SpanID[:])
		e.optStr(fSpanName, sp.Name)
		if sp.Kind != 0 {
			e.varint(fSpanKind, uint64(sp.Kind))
		}
		if t := unixNano(sp.Start); t != 0 {
			e.fixed64(fSpanStart, t)
		}
		if t := unixNano(sp.End); t != 0 {
			e.fixed64(fSpanEnd, t)
		}
		for _, a := range sp.Attrs {
			e.keyValue(fSpanAttributes, a)
		}
		for _, l := range sp.Links {
			lk := e.begin(fSpanLinks)
			e.bytes(fLinkTraceID, l.TraceID[:])
			e.bytes(fLinkSpanID, l.SpanID[:])
			e.fixed32(fLinkFlags, linkFlagsHasIsRemote)
			e.end(lk)
		}
		st := e.begin(fSpanStatus) // always present, as the SDK exporter sent it
		e.optStr(fStatusMessage, sp.StatusMessage)
		if sp.StatusCode != 0 {
			e.varint(fStatusCode, uint64(sp.StatusCode))
		}
		e.end(st)
		e.fixed32(fSpanFlags, spanFlagsSampledLocal)
		e.end(s)
	}
	e.optStr(fSSSchemaURL, SchemaURL)
	e.end(ss)
	e.optStr(fRSSchemaURL, SchemaURL)
	e.end(rs)
	return e.b
}

// encodeJSON is the OTLP/JSON ExportTraceServiceRequest of spans, the same
// content as encodeProto.
func encodeJSON(res Resource, spans []*SpanData) []byte {
	b := make([]byte, 0, 256+len(spans)*1200)
	b = append(b, `{"resourceSpans":[{"resource":{"attributes":[`...)
	b = jsonKeyValue(b, Attr{keyServiceName, res.service()})
	b = append(b, `]},"scopeSpans":[{"scope":{"name":`...)
	b = jsonString(b, scopeName)
	if version.Version != "" {
		b = append(b, `,"version":`...)
		b = jsonString(b, version.Version)
	}
	b = append(b, `},"spans":[`...)
	for i, sp := range spans {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"traceId":"`...)
		b = hex.AppendEncode(b, sp.TraceID[:])
		b = append(b, `","spanId":"`...)
		b = hex.AppendEncode(b, sp.SpanID[:])
		b = append(b, `","flags":`...)
		b = strconv.AppendUint(b, spanFlagsSampledLocal, 10)
		if sp.Name != "" {
			b = append(b, `,"name":`...)
			b = jsonString(b, sp.Name)
		}
		if sp.Kind != 0 {
			b = append(b, `,"kind":`...)
			b = strconv.AppendInt(b, int64(sp.Kind), 10)
		}
		b = append(b, `,"startTimeUnixNano":"`...)
		b = strconv.AppendUint(b, unixNano(sp.Start), 10)
		b = append(b, `","endTimeUnixNano":"`...)
		b = strconv.AppendUint(b, unixNano(sp.End), 10)
		b = append(b, `"`...)
		if len(sp.Attrs) > 0 {
			b = append(b, `,"attributes":[`...)
			for j, a := range sp.Attrs {
				if j > 0 {
					b = append(b, ',')
				}
				b = jsonKeyValue(b, a)
			}
			b = append(b, ']')
		}
		if len(sp.Links) > 0 {
			b = append(b, `,"links":[`...)
			for j, l := range sp.Links {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"traceId":"`...)
				b = hex.AppendEncode(b, l.TraceID[:])
				b = append(b, `","spanId":"`...)
				b = hex.AppendEncode(b, l.SpanID[:])
				b = append(b, `","flags":`...)
				b = strconv.AppendUint(b, linkFlagsHasIsRemote, 10)
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = append(b, `,"status":{`...)
		if sp.StatusMessage != "" {
			b = append(b, `"message":`...)
			b = jsonString(b, sp.StatusMessage)
			if sp.StatusCode != 0 {
				b = append(b, ',')
			}
		}
		if sp.StatusCode != 0 {
			b = append(b, `"code":`...)
			b = strconv.AppendInt(b, int64(sp.StatusCode), 10)
		}
		b = append(b, `}}`...)
	}
	b = append(b, `],"schemaUrl":`...)
	b = jsonString(b, SchemaURL)
	b = append(b, `}],"schemaUrl":`...)
	b = jsonString(b, SchemaURL)
	b = append(b, `}]}`...)
	return b
}

func jsonKeyValue(b []byte, a Attr) []byte {
	b = append(b, `{"key":`...)
	b = jsonString(b, a.Key)
	b = append(b, `,"value":`...)
	b = jsonAnyValue(b, a.Value)
	return append(b, '}')
}

func jsonAnyValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		b = append(b, `{"stringValue":`...)
		b = jsonString(b, v)
	case bool:
		b = append(b, `{"boolValue":`...)
		b = strconv.AppendBool(b, v)
	case int64:
		b = append(b, `{"intValue":"`...)
		b = strconv.AppendInt(b, v, 10)
		b = append(b, '"')
	case int:
		b = append(b, `{"intValue":"`...)
		b = strconv.AppendInt(b, int64(v), 10)
		b = append(b, '"')
	case float64:
		b = append(b, `{"doubleValue":`...)
		switch {
		case math.IsNaN(v):
			b = append(b, `"NaN"`...)
		case math.IsInf(v, 1):
			b = append(b, `"Infinity"`...)
		case math.IsInf(v, -1):
			b = append(b, `"-Infinity"`...)
		default:
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
	case []string:
		b = append(b, `{"arrayValue":{"values":[`...)
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"stringValue":`...)
			b = jsonString(b, x)
			b = append(b, '}')
		}
		b = append(b, `]}`...)
	default:
		return append(b, `{}`...)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// jsonString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 as U+FFFD, U+2028/2029 escaped.
func jsonString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

func toValidUTF8(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, s[i:i+n]...)
		}
		i += n
	}
	return string(out)
}

// partialSuccess is ExportTraceServiceResponse.partial_success.
type partialSuccess struct {
	Rejected int64
	Message  string
}

// decodeResponseProto reads the partial success of a protobuf
// ExportTraceServiceResponse (unknown fields skipped).
func decodeResponseProto(b []byte) (partialSuccess, bool) {
	var ps partialSuccess
	inner := true
	ok := eachField(b, func(f, wt int, _ uint64, data []byte) {
		if f != fRespPartialSuccess || wt != wtBytes {
			return
		}
		inner = eachField(data, func(f, wt int, v uint64, data []byte) {
			switch {
			case f == fPSRejectedSpans && wt == wtVarint:
				ps.Rejected = int64(v)
			case f == fPSErrorMessage && wt == wtBytes:
				ps.Message = string(data)
			}
		}) && inner
	})
	return ps, ok && inner
}

// decodeResponseJSON reads the partial success of an OTLP/JSON
// ExportTraceServiceResponse (lowerCamelCase or the proto names; int64 as
// a string or a number).
func decodeResponseJSON(b []byte) (partialSuccess, bool) {
	type psJSON struct {
		Rejected  json.RawMessage `json:"rejectedSpans"`
		Rejected2 json.RawMessage `json:"rejected_spans"`
		Message   string          `json:"errorMessage"`
		Message2  string          `json:"error_message"`
	}
	var doc struct {
		PS  *psJSON `json:"partialSuccess"`
		PS2 *psJSON `json:"partial_success"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return partialSuccess{}, false
	}
	p := doc.PS
	if p == nil {
		p = doc.PS2
	}
	if p == nil {
		return partialSuccess{}, true
	}
	var ps partialSuccess
	ps.Message = p.Message
	if ps.Message == "" {
		ps.Message = p.Message2
	}
	raw := p.Rejected
	if raw == nil {
		raw = p.Rejected2
	}
	if raw != nil {
		s := string(raw)
		if uq, err := strconv.Unquote(s); err == nil {
			s = uq
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			ps.Rejected = n
		} else if s != "null" {
			return ps, false
		}
	}
	return ps, true
}

// rpcStatusMessage is the message of a protobuf google.rpc.Status (the
// body of an OTLP/HTTP error answer).
func rpcStatusMessage(b []byte) (string, bool) {
	var msg string
	ok := eachField(b, func(f, wt int, v uint64, data []byte) {
		if f == fRPCStatusMessage && wt == wtBytes {
			msg = string(data)
		}
	})
	return msg, ok && msg != ""
}

// eachField calls fn for each top-level field of a protobuf message: v is
// the value of varint and fixed fields, data that of length-delimited
// ones. It reports whether b was well formed.
func eachField(b []byte, fn func(field, wt int, v uint64, data []byte)) bool {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 || key>>3 == 0 || key>>3 > math.MaxInt32 {
			return false
		}
		b = b[n:]
		f, wt := int(key>>3), int(key&7)
		switch wt {
		case wtVarint:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return false
			}
			b = b[n:]
			fn(f, wt, v, nil)
		case wtFixed64:
			if len(b) < 8 {
				return false
			}
			fn(f, wt, binary.LittleEndian.Uint64(b), nil)
			b = b[8:]
		case wtFixed32:
			if len(b) < 4 {
				return false
			}
			fn(f, wt, uint64(binary.LittleEndian.Uint32(b)), nil)
			b = b[4:]
		case wtBytes:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return false
			}
			fn(f, wt, 0, b[n:n+int(l)])
			b = b[n+int(l):]
		default:
			return false
		}
	}
	return true
}
