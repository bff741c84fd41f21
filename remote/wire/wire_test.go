package wire

import (
	"reflect"
	"testing"
)

func TestMapConvention(t *testing.T) {
	for in, wantNil := range map[string]bool{"": true, " null ": true, "{}": false, `{"a":1}`: false} {
		m, err := DecodeMap([]byte(in))
		if err != nil || (m == nil) != wantNil {
			t.Errorf("DecodeMap(%q) = %v, %v", in, m, err)
		}
	}
	for _, bad := range []string{"[]", `"s"`, "{", `{} {}`, "1"} {
		if _, err := DecodeMap([]byte(bad)); err == nil {
			t.Errorf("DecodeMap(%q) accepted", bad)
		}
	}
	if b, _ := EncodeMap(nil); len(b) != 0 {
		t.Errorf("nil encodes as %q, want empty bytes", b)
	}
	if b, _ := EncodeMap(map[string]any{}); string(b) != "{}" {
		t.Errorf("empty map encodes as %q", b)
	}
}

// FuzzDecodeMap: plugin bytes never panic the decoder, and what decodes
// survives a round trip.
func FuzzDecodeMap(f *testing.F) {
	for _, s := range []string{"", "null", "{}", `{"big":9007199254740993,"n":{"l":[1,"a",null,true]}}`, `{"<a&b>":"\u00e9"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMap(b)
		if err != nil {
			return
		}
		enc, err := EncodeMap(m)
		if err != nil {
			t.Fatalf("re-encoding %q: %v", b, err)
		}
		back, err := DecodeMap(enc)
		if err != nil || !reflect.DeepEqual(m, back) {
			t.Fatalf("round trip of %q: %v → %q → %v (%v)", b, m, enc, back, err)
		}
	})
}
