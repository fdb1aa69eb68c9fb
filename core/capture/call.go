// Package capture turns LLM API calls into model_call receipts. It is
// shared by the recording gateway (core/capture/gateway) and the Go SDK
// middleware in this package (Transport), so both write the same receipt
// for the same HTTP exchange.
//
// The receipt keeps the reference's field names (runtime.md §2.2) with the
// content hashes of DECISIONS 17:
//
//	provider, model_id, api, stream, input_tokens, output_tokens,
//	total_tokens, usage_source (provider|absent), latency_ms,
//	finish_reason, error (null or text), input_hash, output_hash,
//	content_hash_alg ("sha256-jcs-v1"), message_count,
//	integration_source, endpoint, endpoint_hint (non-default hosts only),
//	http_status, callsite_id (+ callsite_file, callsite_line in-process)
//
// Prompts and answers are not stored unless asked for (StoreContent, or
// ASSAY_STORE_CONTENT=1): then input_content, system_content and
// output_content hold them.
//
// One receipt is written per HTTP exchange: an SDK's automatic retry is a
// second call and gets its own receipt. Token counts are 0 with
// usage_source "absent" when the provider did not send usage (OpenAI
// streams without stream_options.include_usage); they are never guessed.
// API keys and auth headers are never recorded: error texts are scrubbed of
// the request's credential values and of key-shaped strings.
package capture

import (
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/capture/provider"
	"github.com/assay-dev/assay/core/receipt"
)

// EnvStoreContent opts in to storing prompts and answers in receipts
// ("1" or "true").
const EnvStoreContent = "ASSAY_STORE_CONTENT"

// StoreContentFromEnv reports whether ASSAY_STORE_CONTENT opts in.
func StoreContentFromEnv() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(EnvStoreContent)))
	return v == "1" || v == "true" || v == "yes"
}

// Integration sources written into receipts.
const (
	SourceGateway    = "assay.gateway"
	SourceMiddleware = "assay.middleware.go"
)

// Call is one observed model call, from request to the end of its response.
type Call struct {
	Req      provider.Request
	Resp     provider.Response
	Start    time.Time
	End      time.Time
	Status   int    // HTTP status, 0 when no response arrived
	Err      string // transport, upstream or disconnect error ("" if none)
	Endpoint string // upstream URL without query or credentials
	Hint     string // endpoint_hint: the host when it is not the vendor's
	Source   string // integration_source
	// StoreContent adds input_content, system_content and output_content
	// (explicit opt-in, DECISIONS 17; the reference's store_prompts and
	// store_responses).
	StoreContent bool

	CallsiteID   string
	CallsiteFile string
	CallsiteLine int

	secrets []string // credential values to scrub from error texts
}

// AddSecret registers a credential value that must never appear in the
// receipt (the request's API key or bearer token).
func (c *Call) AddSecret(v string) {
	v = strings.TrimSpace(v)
	if len(v) >= 4 {
		c.secrets = append(c.secrets, v)
	}
}

// SecretsFrom registers the credentials carried by request headers and the
// query (Authorization, x-api-key, x-goog-api-key, api-key, ?key=).
func (c *Call) SecretsFrom(h map[string][]string, q url.Values) {
	for _, k := range []string{"Authorization", "X-Api-Key", "X-Goog-Api-Key", "Api-Key", "Proxy-Authorization"} {
		for _, v := range h[k] {
			c.AddSecret(v)
			if _, tok, ok := strings.Cut(v, " "); ok {
				c.AddSecret(tok)
			}
		}
	}
	for _, v := range q["key"] {
		c.AddSecret(v)
	}
}

// Redact removes the call's credentials and key-shaped strings from s.
func (c *Call) Redact(s string) string {
	for _, v := range c.secrets {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return receipt.SecretPattern().ReplaceAllString(s, "[redacted]")
}

// CleanEndpoint returns u without query, fragment or user info, so no
// ?key= or credentials reach a receipt.
func CleanEndpoint(u *url.URL) string {
	if u == nil {
		return ""
	}
	v := *u
	v.RawQuery, v.Fragment, v.User, v.RawFragment, v.ForceQuery = "", "", nil, "", false
	return v.String()
}

// vendorHosts are the default API hosts; any other host is an endpoint_hint.
var vendorHosts = map[string]bool{
	"api.openai.com": true, "api.anthropic.com": true, "generativelanguage.googleapis.com": true,
}

// HintFor returns the endpoint_hint of an upstream URL: its host when it is
// not a vendor's default.
func HintFor(u *url.URL) string {
	if u == nil || vendorHosts[u.Hostname()] {
		return ""
	}
	return u.Host
}

// ErrorText is the receipt's error value ("" means null).
func (c *Call) ErrorText() string {
	switch {
	case c.Err != "":
		return c.Redact(c.Err)
	case c.Status >= 400:
		return c.Redact(c.Resp.Error)
	case c.Resp.Error != "":
		return c.Redact(c.Resp.Error)
	}
	return ""
}

// Data returns the receipt body (everything Emit adds the base fields to).
func (c *Call) Data() *canon.Object { return c.ModelCall().Data() }

// ModelCall returns the call's typed model_call receipt.
func (c *Call) ModelCall() *receipt.ModelCall {
	model := c.Req.Model
	if model == "" {
		model = c.Resp.Model
	}
	if model == "" {
		model = "unknown"
	}
	errText := c.ErrorText()
	finish := c.Resp.FinishReason
	if errText != "" {
		finish = "error"
	}
	usage := "absent"
	if c.Resp.UsageSeen {
		usage = "provider"
	}
	stream := c.Req.Stream
	latency := c.End.Sub(c.Start).Milliseconds()
	n := c.Req.MessageCount
	m := &receipt.ModelCall{
		Provider:       c.Req.Provider,
		ModelID:        model,
		API:            c.Req.API,
		Stream:         &stream,
		InputTokens:    c.Resp.InputTokens,
		OutputTokens:   c.Resp.OutputTokens,
		TotalTokens:    c.Resp.TotalTokens,
		UsageSource:    usage,
		LatencyMS:      &latency,
		FinishReason:   finish,
		Error:          errText,
		InputHash:      c.Req.InputHash,
		ContentHashAlg: receipt.ContentHashAlg,
		MessageCount:   &n,
		Source:         c.Source,
		Wire:           &receipt.ModelWire{Endpoint: c.Endpoint, HTTPStatus: c.Status},
		EndpointHint:   c.Hint,
		CallsiteID:     c.CallsiteID,
	}
	if c.Resp.HasText {
		m.OutputHash = provider.OutputHash(c.Resp.Text)
	}
	if c.StoreContent {
		m.Content = &receipt.ModelContent{Input: c.Req.Input, System: c.Req.System}
		if c.Resp.HasText {
			m.Content.Output = c.Resp.Text
		}
	}
	if c.CallsiteID != "" {
		// the file and line go with the id (in-process callers only)
		m.CallsiteFile, m.CallsiteLine = c.CallsiteFile, c.CallsiteLine
	}
	return m
}
