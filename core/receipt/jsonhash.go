package receipt

import "github.com/assay-dev/assay/core/canon"

// HashJSON returns "sha256:" + hex of the canonical JSON of a JSON document:
// the recipe of MCP tool-call receipts' arguments_hash and result_hash
// (DECISIONS 19), shared by the MCP server and the notary proxy.
func HashJSON(doc []byte) (string, error) {
	v, err := canon.Decode(doc)
	if err != nil {
		return "", err
	}
	return HashValue(v)
}

// HashValue is HashJSON of an already decoded value.
func HashValue(v any) (string, error) {
	b, err := canon.Marshal(v)
	if err != nil {
		return "", err
	}
	return "sha256:" + SHA256Hex(b), nil
}
