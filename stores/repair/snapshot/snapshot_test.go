package snapshot_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/repair/snapshot"
)

func TestRoundTrip(t *testing.T) {
	doc := &snapshot.Document{Format: snapshot.Format, Source: "file:///s", ExportedAt: "2026-11-27T09:00:00Z", Tool: "statescope dev",
		Records: []snapshot.Record{
			{ResourceID: "a", State: &stores.State{ResourceID: "a", Status: "active", Outputs: map[string]any{"big": json.Number("9007199254740993")}}},
			{ResourceID: "b", Corrupt: "invalid JSON", Raw: []byte("\x00garbage{")},
		}}
	var buf bytes.Buffer
	if err := snapshot.Encode(&buf, doc); err != nil {
		t.Fatal(err)
	}
	back, err := snapshot.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Records[0].State.Outputs["big"]; got != json.Number("9007199254740993") {
		t.Errorf("large number became %v (%T)", got, got)
	}
	if !bytes.Equal(back.Records[1].Raw, doc.Records[1].Raw) {
		t.Errorf("raw bytes %q", back.Records[1].Raw)
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, text := range map[string]string{
		"not json":       "{",
		"wrong format":   `{"format":"other","records":[]}`,
		"no id":          `{"format":"` + snapshot.Format + `","records":[{"state":{"resource_id":"a"}}]}`,
		"neither":        `{"format":"` + snapshot.Format + `","records":[{"resource_id":"a"}]}`,
		"id mismatch":    `{"format":"` + snapshot.Format + `","records":[{"resource_id":"a","state":{"resource_id":"b"}}]}`,
		"a plain record": `{"resource_id":"a","status":"active"}`,
	} {
		if _, err := snapshot.Decode(strings.NewReader(text)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestUnknownFieldsTravel: a record's unknown fields and its numbers as
// written survive export and import.
func TestUnknownFieldsTravel(t *testing.T) {
	st, err := stores.DecodeState([]byte(`{"resource_id":"a","status":"active","outputs":{"n":1.50},"future_field":{"x":[1,"<b>"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	doc := &snapshot.Document{Format: snapshot.Format, Records: []snapshot.Record{{ResourceID: "a", State: st}}}
	if err := snapshot.Encode(&buf, doc); err != nil {
		t.Fatal(err)
	}
	back, err := snapshot.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got := back.Records[0].State
	if !got.Equal(st) || len(got.Unknown) != 1 || got.Outputs["n"] != json.Number("1.50") {
		t.Fatalf("through a snapshot: %+v", got)
	}
	// Imported where nothing is stored yet, it is written as the engine does.
	enc, _ := stores.EncodeState(got)
	if !strings.HasPrefix(string(enc), "{\n  \"resource_id\": \"a\",") || !strings.HasSuffix(string(enc), "\"future_field\": {\n    \"x\": [\n      1,\n      \"\\u003cb\\u003e\"\n    ]\n  }\n}") {
		t.Errorf("written as\n%s", enc)
	}
}
