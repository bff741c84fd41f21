package redact

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"statescope/stores/redact/redacttest"
)

// oracleJSON is what JSON.AppendValue must write: encoding/json's indented
// encoding of the masked copy Value makes (of v itself when revealing).
func oracleJSON(j JSON, depth int, key string, v any) ([]byte, error) {
	if !j.Reveal {
		v = Value(key, v)
	}
	return json.MarshalIndent(v, j.Prefix+strings.Repeat(j.Indent, depth), j.Indent)
}

func checkJSON(t *testing.T, j JSON, depth int, key string, v any) {
	t.Helper()
	want, werr := oracleJSON(j, depth, key, v)
	got, gerr := j.AppendValue([]byte("x"), depth, key, v)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%#v under %q: error %v, encoding/json's %v", v, key, gerr, werr)
	}
	if werr == nil && !bytes.Equal(got[1:], want) {
		t.Fatalf("%#v under %q (%+v, depth %d):\n%s\nencoding/json writes:\n%s", v, key, j, depth, got[1:], want)
	}
}

var layouts = []JSON{{Prefix: "  ", Indent: "  "}, {Prefix: "  ", Indent: "  ", Reveal: true}, {Indent: "\t"}, {}}

// The writer agrees with encoding/json over Value on every masking rule's
// record, on Go types decoding never produces, and on strings that need
// escaping.
func TestJSONMatchesEncodingJSON(t *testing.T) {
	rec := redacttest.Record("r")
	var nilMap map[string]any
	var nilList []any
	values := []any{
		rec.Outputs, rec.Config, redacttest.Plain, nil, true, false, "", nilMap, nilList, []any{}, map[string]any{},
		json.Number("0"), json.Number("-12"), json.Number("1.5e3"), json.Number("007"), json.Number(""), json.Number("x"),
		3.25, 7, []string{"a", "<b>"}, map[string]string{"password": "p"}, map[string]any{"a": []int{1, 2}, "token": nilList},
		map[string]any{"password": nil, "n": nilMap, "l": nilList, "x": map[string]any{"secret": nilMap}},
		"<&>\u2028\u2029\x00\x1f\t\n\r\b\f\"\\\xff\xc3é•", "postgres://u:p@h/db", struct{ A string }{"<"},
	}
	for _, j := range layouts {
		for depth := range 3 {
			for _, key := range []string{"", "password", "plain"} {
				for _, v := range values {
					checkJSON(t, j, depth, key, v)
				}
			}
		}
	}
}

// Property test: on generated trees of secret-looking keys and values the
// writer and encoding/json over Value agree.
func TestJSONMatchesEncodingJSONOnGeneratedTrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		v := randomTree(rng, 0)
		j, depth, key := layouts[rng.IntN(len(layouts))], rng.IntN(3), randomKey(rng)
		checkJSON(t, j, depth, key, v)
		var doc bytes.Buffer
		enc := json.NewEncoder(&doc)
		enc.SetEscapeHTML(rng.IntN(2) == 0)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		checkRaw(t, j, depth, key, doc.Bytes())
	}
}

// checkRaw: AppendRaw on a document writes what AppendValue writes for
// what encoding/json decodes from it.
func checkRaw(t *testing.T, j JSON, depth int, key string, doc []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return // AppendRaw is only ever given valid JSON
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	want, werr := oracleJSON(j, depth, key, v)
	got, gerr := j.AppendRaw([]byte("x"), depth, key, bytes.TrimSpace(doc))
	if werr != nil || gerr != nil || !bytes.Equal(got[1:], want) {
		t.Fatalf("%s under %q (%+v, depth %d):\n%s (%v)\nencoding/json writes:\n%s (%v)", doc, key, j, depth, got, gerr, want, werr)
	}
}

// Written documents, escapes, repeated keys, invalid UTF-8 and all: what
// AppendRaw writes is what encoding/json writes after decoding them.
func TestAppendRawMatchesEncodingJSON(t *testing.T) {
	rec := redacttest.Record("r")
	docs := []string{
		`{"a":1,"a":{"password":"x"}}`, `{"password":"x","password":null}`, `{"p\u0061ssword":"x","\u003ctag>":"<&>"}`,
		`"\ud800\udc00\ud800"`, "\"\u2028    \"", `"\/\b\f\n\r\t\"\\"`, "\"\xff\xc3 é\"", "{\"\xffkey\":\"v\"}",
		`[-0.0e+5, 1E2, 0, -12, 1.5]`, ` { "a" : [ ] , "b" : { } , "c" : [ { } ] } `, `null`, `true`, `[null,false]`,
		`"postgres://u:p@h/db"`, `"x@y"`, `"-----BEGIN EC PRIVATE KEY-----\nk"`, `{"key":[],"token":{},"auth":null,"sas":0}`,
	}
	for _, v := range []any{rec.Outputs, rec.Config, redacttest.Plain} {
		for _, enc := range []func(any) ([]byte, error){json.Marshal, func(v any) ([]byte, error) { return json.MarshalIndent(v, "", "\t") }} {
			doc, err := enc(v)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(doc))
		}
	}
	for _, j := range layouts {
		for _, key := range []string{"", "password", "plain"} {
			for _, doc := range docs {
				checkRaw(t, j, 1, key, []byte(doc))
			}
		}
	}
}

func FuzzJSONMatchesEncodingJSON(f *testing.F) {
	f.Add([]byte(`{"password":"x","a":[{"url":"https://u:p@h"},null,1.5,"<"],"a":2}`), "k")
	f.Add([]byte(`"\u2028\ud800"`), "")
	f.Fuzz(func(t *testing.T, doc []byte, key string) {
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		for _, j := range layouts {
			checkJSON(t, j, 1, key, v)
			checkRaw(t, j, 1, key, doc)
		}
	})
}

func TestJSONObject(t *testing.T) {
	j := JSON{Prefix: "  ", Indent: "  "}
	empty := j.Object([]byte("x"), 1)
	if got := string(empty.End()); got != "x{}" {
		t.Errorf("empty object: %q", got)
	}
	o := j.Object(nil, 1)
	o.Key("a<")
	o.Buf = append(o.Buf, '1')
	o.Key("b")
	o.Buf = append(o.Buf, "[]"...)
	want, _ := json.MarshalIndent(map[string]any{"a<": 1, "b": []any{}}, "    ", "  ")
	if got := o.End(); !bytes.Equal(got, want) {
		t.Errorf("object:\n%s\nwant:\n%s", got, want)
	}
	for _, l := range [][]string{nil, {}, {"a", "<b>"}} {
		want, _ := json.MarshalIndent(l, "    ", "  ")
		if got := j.AppendStrings(nil, 1, l); !bytes.Equal(got, want) {
			t.Errorf("strings %#v: %s, want %s", l, got, want)
		}
	}
}
