package scan

import "strings"

// Confidence tiers.
const (
	High   = "high"
	Medium = "medium"
	Low    = "low"
)

// rule is one row of the reference's detection table (scanner.md §1.4):
// a plain substring of the call string.
type rule struct {
	substr    string
	tier      string
	framework string
	guarded   bool
}

var rules = []rule{
	{"chat.completions.create", High, "openai", false},
	{"completions.create", High, "openai", false},
	{"responses.create", High, "openai", false},
	{"messages.create", High, "anthropic", false},
	{"chat_completions.create", High, "openai", false},
	{"generate_content", High, "google", false},
	{"generate_content_async", High, "google", false},
	{"ChatOpenAI", Medium, "langchain", false},
	{"ChatAnthropic", Medium, "langchain", false},
	{"litellm.completion", Medium, "litellm", false},
	{"litellm.acompletion", Medium, "litellm", false},
	{".invoke", Medium, "langchain", true},
	{".ainvoke", Medium, "langchain", true},
	{"llm.predict", Medium, "langchain", true},
	{"llm.apredict", Medium, "langchain", true},
}

// lowNames are the LOW tier's helper names, matched against the last
// dotted component, lower-cased.
var lowNames = map[string]bool{
	"llm_call": true, "call_llm": true, "query_model": true, "call_model": true,
	"generate_response": true, "chat_completion": true, "model_inference": true,
	"run_model": true, "ask_llm": true, "prompt_model": true,
}

// classify applies the table to a call string. ok is false when no row
// matches; guarded matches still need the file's framework import.
func classify(call string) (r rule, ok bool) {
	if call == "" {
		return rule{}, false
	}
	for _, r := range rules {
		if strings.Contains(call, r.substr) {
			return r, true
		}
	}
	if lowNames[strings.ToLower(lastComponent(call))] {
		return rule{tier: Low}, true
	}
	return rule{}, false
}

func lastComponent(call string) string {
	if i := strings.LastIndexByte(call, '.'); i >= 0 {
		return call[i+1:]
	}
	return call
}

// guardModules satisfy the framework-import guard: exactly the name, or the
// name followed by '.'.
var guardModules = []string{
	"langchain", "langgraph", "llama_index", "litellm", "google.generativeai",
	"langchain_core", "langchain_community", "langchain_openai", "langchain_anthropic", "llama_index.core",
}

func guardModule(m string) bool {
	for _, g := range guardModules {
		if m == g || strings.HasPrefix(m, g+".") {
			return true
		}
	}
	return false
}

// evidence are the reference's instrumentation markers (§1.5) plus our own
// capture shim, which `assay patch` writes beside the entrypoint.
var evidence = []string{
	"emit_receipt",
	"assay.integrations.openai", "assay.integrations.anthropic", "assay.integrations.langchain",
	"assay.integrations.google", "assay.integrations.litellm",
}

// ShimModule is the module name of our Python capture shim; importing it
// is instrumentation evidence.
const ShimModule = "assay_capture"

func isEvidence(s string) bool {
	for _, e := range evidence {
		if s == e {
			return true
		}
	}
	return false
}

// containsReferenceEvidence is the reference's substring rule (§1.5).
func containsReferenceEvidence(s string) bool {
	for _, e := range evidence {
		if strings.Contains(s, e) {
			return true
		}
	}
	return false
}

// Fix texts (§1.6).
const (
	FixLangchain = "from assay.integrations.langchain import AssayCallbackHandler  # pass callbacks=[AssayCallbackHandler()]"
	FixOpenAI    = "from assay.integrations.openai import patch; patch()"
	FixAnthropic = "from assay.integrations.anthropic import patch; patch()"
	FixGeneric   = "from assay import emit_receipt  # add emit_receipt() after this call"
	FixGoogle    = "from assay.integrations.google import patch; patch()"
	FixLitellm   = "from assay.integrations.litellm import patch; patch()"
)

// This tool's fix texts, used when the project does not already use the
// reference's Python package (Result.UsesReferencePackage): commands a
// user can run with assay itself, never an import of a package that may
// not be installed.
const (
	FixPatch   = "assay patch .  # or, with no code change: assay run --gateway -- python your_app.py"
	FixGateway = "assay run --gateway -- python your_app.py  # per-site coverage: send the X-Assay-Callsite header"
)

// ownFixFor is this tool's fix for a Python finding.
func ownFixFor(f Finding) string {
	if shimFrameworks[FrameworkOf(f)] {
		return FixPatch
	}
	return FixGateway
}

func fixFor(call string) string {
	l := strings.ToLower(call)
	switch {
	case strings.Contains(l, "langchain") || strings.HasPrefix(l, "chatopen") || strings.HasPrefix(l, "chatanthropic"):
		return FixLangchain
	case strings.Contains(l, "openai") || strings.Contains(l, "chat.completions") || strings.Contains(l, "completions.create") || strings.Contains(l, "responses.create"):
		return FixOpenAI
	case strings.Contains(l, "anthropic") || strings.Contains(l, "messages.create"):
		return FixAnthropic
	}
	return FixGeneric
}

// FrameworkOf is the reference's _detect_frameworks rule for one finding:
// its framework label, else a substring guess on the lower-cased call.
func FrameworkOf(f Finding) string {
	if f.Framework != "" {
		return f.Framework
	}
	l := strings.ToLower(f.Call)
	switch {
	case strings.Contains(l, "openai") || strings.Contains(l, "chat.completions") || strings.Contains(l, "responses.create"):
		return "openai"
	case strings.Contains(l, "anthropic") || strings.Contains(l, "messages.create"):
		return "anthropic"
	case strings.Contains(l, "langchain") || strings.Contains(l, "invoke"):
		return "langchain"
	case strings.Contains(l, "generate_content") || strings.Contains(l, "genai"):
		return "google"
	}
	return ""
}
