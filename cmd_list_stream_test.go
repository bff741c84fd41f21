package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"statescope/stores"
)

// list -o json writes each batch as it arrives instead of buffering the
// store, and the document is the one json.Encoder writes for the array.
func TestListJSONStreams(t *testing.T) {
	batches := [][]stores.Entry{
		{{ID: "a", State: &stores.State{ResourceID: "a", Status: "active", Outputs: map[string]any{"password": "hunter2", "n": json.Number("12345678901234567890")}}}},
		{{ID: "b", Source: "/s/b.json", Problem: "invalid JSON"}, {ID: "c<&>", State: &stores.State{ResourceID: "c<&>"}}},
	}
	locks := map[string]stores.LockInfo{"b": {ResourceID: "b"}}
	var out bytes.Buffer
	var seen []string
	stream := func(yield func([]stores.Entry) error) error {
		for _, b := range batches {
			if err := yield(b); err != nil {
				return err
			}
			seen = append(seen, out.String())
		}
		return nil
	}
	n, err := writeListJSON(&out, stream, locks, false, true)
	if err != nil || n != 3 {
		t.Fatalf("wrote %d items, err %v", n, err)
	}
	if !strings.Contains(seen[0], `"resource_id": "a"`) {
		t.Errorf("the first batch was not written before the second was listed: %q", seen[0])
	}
	if strings.Contains(out.String(), "hunter2") {
		t.Error("a secret-looking value is not masked")
	}
	no, yes := false, true
	want := []any{
		listItem{State: maskedFirst(t, out.Bytes()), Locked: &no},
		corruptItem{ResourceID: "b", Source: "/s/b.json", Corrupt: "invalid JSON", Locked: &yes},
		listItem{State: batches[1][1].State, Locked: &no},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(want); err != nil {
		t.Fatal(err)
	}
	if out.String() != buf.String() {
		t.Errorf("streamed document differs from the encoder's:\n%s\nwant:\n%s", out.String(), buf.String())
	}
}

// maskedFirst is the first item as written, so the comparison checks the
// layout, not the masking rules.
func maskedFirst(t *testing.T, doc []byte) *stores.State {
	t.Helper()
	var items []json.RawMessage
	if err := json.Unmarshal(doc, &items); err != nil {
		t.Fatal(err)
	}
	// "locked" is listItem's own field, not the record's.
	rec := regexp.MustCompile(`,\s*"locked":\s*(true|false|null)\s*}$`).ReplaceAll(items[0], []byte("}"))
	st, err := stores.DecodeState(rec)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestListJSONEmpty(t *testing.T) {
	none := func(func([]stores.Entry) error) error { return nil }
	for _, tc := range []struct {
		emptyIsError bool
		want         string
	}{{false, "[]\n"}, {true, ""}} {
		var out bytes.Buffer
		if n, err := writeListJSON(&out, none, nil, false, tc.emptyIsError); n != 0 || err != nil || out.String() != tc.want {
			t.Errorf("emptyIsError=%v: %d %v %q, want %q", tc.emptyIsError, n, err, out.String(), tc.want)
		}
	}
}
