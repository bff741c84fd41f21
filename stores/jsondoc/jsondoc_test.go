package jsondoc

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestPatch(t *testing.T) {
	m := func(kv ...string) []Member {
		var out []Member
		for i := 0; i < len(kv); i += 2 {
			out = append(out, Member{Key: kv[i], Value: json.RawMessage(kv[i+1])})
		}
		return out
	}
	tests := []struct {
		name    string
		doc     string
		want    []Member
		changed []string
		out     string
	}{
		{"nothing changed is the same bytes", "  {\"a\" : 1 }\n", m("a", "1"), []string{"a"}, "  {\"a\" : 1 }\n"},
		{"spaced compact: inserted first", `{ "b": 2, "c": 3 }`, m("a", "1", "b", "2", "c", "3"), []string{"a"}, `{ "a": 1, "b": 2, "c": 3 }`},
		{"spaced compact: inserted last", `{ "a": 1 }`, m("a", "1", "b", "[1, 2]"), []string{"b"}, `{ "a": 1, "b": [1,2] }`},
		{"first removed", `{ "a": 1, "b": 2 }`, m("b", "2"), []string{"a"}, `{ "b": 2 }`},
		{"all removed", "{\n  \"a\": 1\n}", nil, []string{"a"}, `{}`},
		{"into an empty object", `{}`, m("a", `{"x":1}`), []string{"a"}, "{\n  \"a\": {\n    \"x\": 1\n  }\n}"},
		{"tab indented", "{\n\t\"a\": {\n\t\t\"x\": 1\n\t}\n}", m("a", `{"x":1,"y":2}`), []string{"a"}, "{\n\t\"a\": {\n\t\t\"x\": 1,\n\t\t\"y\": 2\n\t}\n}"},
		{"a nested value kept when equal after reformatting", "{\"a\": {\"x\": [1, 2.0]}}", m("a", `{"x":[1,2.0]}`), []string{"a"}, "{\"a\": {\"x\": [1, 2.0]}}"},
		{"escapes in keys", `{"\u0061": 1}`, m("a", "2"), []string{"a"}, `{"\u0061": 2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Patch([]byte(tt.doc), tt.want, tt.changed, nil)
			if err != nil || string(got) != tt.out {
				t.Errorf("got %q (%v), want %q", got, err, tt.out)
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"a":1} x`, `{"a" 1}`, `{"a":1,}`, `{"a":"x}`} {
		if _, err := Patch([]byte(bad), nil, nil, nil); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestElements(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want []string
		ok   bool
	}{
		{`[]`, nil, true},
		{" [ ] \n", nil, true},
		{`[1,"a,]",{"b":[2,3]} , null,[]]`, []string{`1`, `"a,]"`, `{"b":[2,3]}`, `null`, `[]`}, true},
		{`[1`, []string{`1`}, false},
		{`[1,]`, []string{`1`}, false},
		{`[1] x`, []string{`1`}, false},
		{`{}`, nil, false},
	} {
		var got []string
		err := Elements([]byte(tc.doc), func(v []byte) { got = append(got, string(v)) })
		if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, %v", tc.doc, got, err)
		}
	}
}
