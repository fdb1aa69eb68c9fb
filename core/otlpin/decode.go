package otlpin

import (
	"fmt"
	"mime"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Encoding is an OTLP/HTTP body encoding.
type Encoding int

// The two OTLP/HTTP encodings.
const (
	EncodingProto Encoding = iota + 1
	EncodingJSON
)

// EncodingOf maps a Content-Type to an encoding; ok=false for anything
// else (the Collector answers 415 to those, and so do we).
func EncodingOf(contentType string) (Encoding, bool) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, false
	}
	switch strings.ToLower(mt) {
	case "application/x-protobuf", "application/protobuf":
		return EncodingProto, true
	case "application/json":
		return EncodingJSON, true
	}
	return 0, false
}

// DecodeTraces decodes an ExportTraceServiceRequest. JSON goes through the
// Collector's pdata, which reads trace and span ids as hex (plain protojson
// would read them as base64 and return wrong ids without an error).
func DecodeTraces(body []byte, enc Encoding) (ptrace.Traces, error) {
	req := ptraceotlp.NewExportRequest()
	if err := decodeRequest(req, body, enc, "ExportTraceServiceRequest"); err != nil {
		return ptrace.Traces{}, err
	}
	return req.Traces(), nil
}

// DecodeLogs decodes an ExportLogsServiceRequest.
func DecodeLogs(body []byte, enc Encoding) (plog.Logs, error) {
	req := plogotlp.NewExportRequest()
	if err := decodeRequest(req, body, enc, "ExportLogsServiceRequest"); err != nil {
		return plog.Logs{}, err
	}
	return req.Logs(), nil
}

// otlpRequest is what pdata's export requests have in common.
type otlpRequest interface {
	UnmarshalJSON([]byte) error
	UnmarshalProto([]byte) error
}

// decodeRequest fills req from body in the given encoding.
func decodeRequest(req otlpRequest, body []byte, enc Encoding, what string) error {
	var err error
	switch enc {
	case EncodingJSON:
		err = req.UnmarshalJSON(body)
	case EncodingProto:
		err = req.UnmarshalProto(body)
	default:
		return fmt.Errorf("unknown OTLP encoding")
	}
	if err != nil {
		return fmt.Errorf("not an OTLP %s: %w", what, err)
	}
	return nil
}
