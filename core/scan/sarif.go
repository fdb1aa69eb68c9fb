package scan

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/coverage"
)

// SARIF 2.1.0 types: only the parts we write.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                   `json:"tool"`
	OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds,omitempty"`
	Results            []sarifResult               `json:"results"`
	ColumnKind         string                      `json:"columnKind"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration map[string]any `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
		Region           struct {
			StartLine int `json:"startLine"`
		} `json:"region"`
	} `json:"physicalLocation"`
}

var sarifRules = []struct {
	tier, id, name, level, desc string
}{
	{High, "ASSAY001", "UninstrumentedLLMCallHigh", "error", "A direct LLM SDK call with no receipt"},
	{Medium, "ASSAY002", "UninstrumentedLLMCallMedium", "warning", "An LLM framework call with no receipt"},
	{Low, "ASSAY003", "UninstrumentedLLMCallLow", "note", "A helper whose name suggests an LLM call, with no receipt"},
}

// SARIF renders the uninstrumented findings as a SARIF 2.1.0 log that
// GitHub code scanning accepts: one rule per confidence tier, paths
// relative to %SRCROOT%, and the callsite_id as a partial fingerprint so
// alerts follow a call site across runs.
func (r *Result) SARIF(toolVersion string) any {
	rules := make([]sarifRule, 0, len(sarifRules))
	index := map[string]int{}
	for i, sr := range sarifRules {
		index[sr.tier] = i
		rules = append(rules, sarifRule{
			ID: sr.id, Name: sr.name,
			ShortDescription:     sarifText{sr.desc},
			FullDescription:      sarifText{sr.desc + ": nothing records that this call happened or what it returned, so it cannot be proven later."},
			Help:                 sarifText{"Instrument the call site so each call emits a model_call receipt: run 'assay patch .' (Python: adds one import of assay's capture shim; Go: builds SDK clients with the capture middleware), then check with 'assay scan --emit-contract' and 'assay verify-pack --coverage-contract'."},
			DefaultConfiguration: map[string]any{"level": sr.level},
			Properties:           map[string]any{"tags": []string{"ai", "evidence", "llm"}, "precision": map[string]string{High: "high", Medium: "medium", Low: "low"}[sr.tier]},
		})
	}
	results := []sarifResult{}
	for _, f := range r.Findings {
		if f.Instrumented {
			continue
		}
		i := index[f.Confidence]
		var loc sarifLocation
		loc.PhysicalLocation.ArtifactLocation = sarifArtifactLoc{URI: pathURI(f.Path), URIBaseID: "%SRCROOT%"}
		loc.PhysicalLocation.Region.StartLine = f.Line
		msg := fmt.Sprintf("LLM call `%s` (%s confidence) emits no receipt.", f.Call, f.Confidence)
		if f.Fix != "" {
			msg += " Fix: " + f.Fix
		}
		props := map[string]any{"confidence": f.Confidence, "call": f.Call, "language": f.Lang}
		if f.Framework != "" {
			props["framework"] = f.Framework
		}
		if f.InTestPath {
			props["in_test_path"] = true
		}
		results = append(results, sarifResult{
			RuleID: sarifRules[i].id, RuleIndex: i, Level: sarifRules[i].level,
			Message:             sarifText{msg},
			Locations:           []sarifLocation{loc},
			PartialFingerprints: map[string]string{"callsiteId/v1": coverage.CallsiteID(f.Path, f.Line)},
			Properties:          props,
		})
	}
	run := sarifRun{
		Tool:       sarifTool{sarifDriver{Name: "assay", Version: toolVersion, InformationURI: "https://github.com/assay-dev/assay", Rules: rules}},
		Results:    results,
		ColumnKind: "unicodeCodePoints",
	}
	if r.Root != "" {
		run.OriginalURIBaseIDs = map[string]sarifArtifactLoc{"%SRCROOT%": {URI: (&url.URL{Scheme: "file", Path: filepath.ToSlash(r.Root) + "/"}).String()}}
	}
	return sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
}

// pathURI turns a relative OS path into a relative URI reference.
func pathURI(p string) string {
	parts := strings.Split(filepath.ToSlash(p), "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
