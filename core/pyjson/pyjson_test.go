package pyjson

import "testing"

func TestIndentMatchesPython(t *testing.T) {
	t.Parallel()
	// json.dumps({"b": [1, {}], "a": "café ☃ \U0001F600 <&>"}, indent=2) in Python,
	// with Go's struct order standing in for dict order.
	v := struct {
		B []any  `json:"b"`
		A string `json:"a"`
	}{[]any{1, map[string]any{}}, "café ☃ \U0001F600 <&>"}
	got, err := Indent(v)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"b\": [\n    1,\n    {}\n  ],\n  \"a\": \"caf\\u00e9 \\u2603 \\ud83d\\ude00 <&>\"\n}"
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}
