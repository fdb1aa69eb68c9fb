package mcppolicy

// SchemaPath is where the JSON Schema of the policy file is checked in,
// relative to the repository root (generated from File by
// schemas/mcppolicy_test.go).
const SchemaPath = "schemas/mcp-policy.schema.json"

// File is the shape of the policy file, for its JSON Schema (editors can
// check the YAML against it). Parse is the authority and checks more than
// a schema can: globs that match nothing, RE2 syntax of deny_patterns,
// glob characters in constraint names. Parse also reads version as the
// number 1 and an empty value as an absent key; the schema describes the
// form the template writes.
type File struct {
	Version      string      `json:"version,omitempty" jsonschema:"enum=1,description=Policy format version; only \"1\" exists"`
	ServerID     string      `json:"server_id,omitempty" jsonschema:"description=Names the server in receipts (instead of mcp-proxy --server-id when not empty)"`
	Mode         string      `json:"mode,omitempty" jsonschema:"enum=audit,enum=enforce,default=audit,description=audit forwards every call and records the verdict; enforce refuses denied calls"`
	StoreArgs    *bool       `json:"store_args,omitempty" jsonschema:"description=Keep tool arguments in receipts (absent: the mcp-proxy flag decides)"`
	StoreResults *bool       `json:"store_results,omitempty" jsonschema:"description=Keep tool results in receipts (absent: the mcp-proxy flag decides)"`
	AutoPack     *bool       `json:"auto_pack,omitempty" jsonschema:"description=Build a signed pack when the session ends (absent: the mcp-proxy flag decides)"`
	AuditDir     string      `json:"audit_dir,omitempty" jsonschema:"description=Directory for session files and packs (absent: the mcp-proxy flag decides)"`
	Tools        *FileTools  `json:"tools,omitempty"`
	Budget       *FileBudget `json:"budget,omitempty"`
}

// FileTools is the tools section of File.
type FileTools struct {
	Default     string                    `json:"default,omitempty" jsonschema:"enum=allow,enum=deny,default=allow,description=deny: only tools matching an allow glob may run"`
	Deny        []string                  `json:"deny,omitempty" jsonschema:"description=fnmatch globs of tool names that are always denied (rule 1)"`
	Allow       []string                  `json:"allow,omitempty" jsonschema:"description=fnmatch globs of tool names allowed when default is deny (rule 2)"`
	Constraints map[string]FileConstraint `json:"constraints,omitempty" jsonschema:"description=Limits per exact tool name (rules 3 and 4)"`
}

// FileConstraint is one tool's limits in File.
type FileConstraint struct {
	MaxCalls     int      `json:"max_calls,omitempty" jsonschema:"minimum=1,maximum=1000000000,description=Allowed calls of this tool per session"`
	DenyPatterns []string `json:"deny_patterns,omitempty" jsonschema:"description=Case-insensitive RE2 regexps searched in the canonical JSON of the arguments"`
}

// FileBudget is the session budget in File.
type FileBudget struct {
	MaxToolCalls   int `json:"max_tool_calls,omitempty" jsonschema:"minimum=1,maximum=1000000000,description=Allowed tool calls per session (rule 5)"`
	MaxWallTimeSec int `json:"max_wall_time_sec,omitempty" jsonschema:"minimum=1,maximum=1000000000,description=Seconds from the start of the session after which calls are denied (rule 6)"`
}
