package stores

import (
	"strings"
	"testing"
)

func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"resource_id":"a","resource_type":"t","provider":"p","status":"active","outputs":null,"config":{},"created_at":"","updated_at":""}`))
	f.Add([]byte(`{"resource_id":"x/y","outputs":{"n":12345678901234567890,"s":"<&>"},"dependencies":["a"],"error":"boom"}`))
	f.Add([]byte(`{"resource_id":"a","config":{"k":[1,{"z":null}]},"outputs":{}}`))
	f.Add([]byte(`{"resource_id": 5}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"resource_id":"a","future":{"x":[1.50]},"STATUS":"active","status":"x",
  "error": "e"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeState(data)
		if err != nil {
			return
		}
		// A record read and written back unchanged is the same bytes.
		enc, err := EncodeState(s)
		if err != nil || string(enc) != string(data) {
			t.Fatalf("unchanged record re-encoded as %q (%v)", enc, err)
		}
		// A change rewrites that field and keeps every other value.
		c := s.Clone()
		c.Status, c.Error = "fuzz-status", ""
		enc, err = EncodeState(c)
		if err != nil {
			t.Fatalf("encode after a change: %v", err)
		}
		back, err := DecodeState(enc)
		if err != nil || !back.Equal(c) {
			t.Fatalf("after a change, %q reads back as %+v (%v), want %+v", enc, back, err, c)
		}
		// Built in memory, the record (unknown fields too) survives a
		// round trip.
		fresh := s.Clone()
		fresh.stored = nil
		enc, err = EncodeState(fresh)
		if err != nil {
			t.Fatalf("fresh encode: %v", err)
		}
		again, err := DecodeState(enc)
		if err != nil || !again.Equal(s) {
			t.Fatalf("round trip changed the record:\n%#v\n%#v", s, again)
		}
		if enc2, _ := EncodeState(again); string(enc) != string(enc2) {
			t.Fatalf("encoding is not stable")
		}
	})
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"/var/lib/state", "file:///abs", "mem://", "s3://b/p?region=x&secretKey=y", "postgres://u:p@h:5432/db", "ssh://ops@host:22?plugin=/x&backend=y", "::", "file://host/x", "%zz://", "relative/dir"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tgt, err := ParseTarget(raw)
		red := RedactTarget(raw)
		if strings.Contains(raw, "secretKey=topsecret") && strings.Contains(red, "topsecret") && err == nil {
			t.Fatalf("secret survived redaction: %q", red)
		}
		if err != nil {
			return
		}
		if tgt.Scheme == "" {
			t.Fatalf("parsed target without a scheme: %+v", tgt)
		}
		if tgt.Scheme == "file" && tgt.Path == "" {
			t.Fatalf("file target without a path: %q", raw)
		}
	})
}

func FuzzDecodeLockBody(f *testing.F) {
	f.Add([]byte("2026-01-01T00:00:00Z"))
	f.Add([]byte("locked"))
	f.Add([]byte(""))
	f.Add(EncodeLockBody(&Holder{Tool: "statescope", User: "u", Host: "h", PID: 1}))
	f.Add([]byte("2026-01-01T00:00:00Z\n{bad"))
	f.Fuzz(func(t *testing.T, body []byte) {
		at, h, note := DecodeLockBody(body)
		if at.IsZero() && note == "" {
			t.Fatalf("no time and no note for %q", body)
		}
		if h != nil && at.IsZero() {
			t.Fatalf("holder without a time for %q", body)
		}
	})
}
