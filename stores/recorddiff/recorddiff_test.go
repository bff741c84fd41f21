package recorddiff_test

import (
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/recorddiff"
)

func TestCompareWholeRecordHeaderFirst(t *testing.T) {
	a := &stores.State{ResourceID: "a", Status: "active", Outputs: map[string]any{"x": 1.0}, Dependencies: []string{"v"}}
	b := &stores.State{ResourceID: "a", Status: "error", Error: "boom", Outputs: map[string]any{"x": 1.0, "api_token": "t"}}
	changes, err := recorddiff.Compare(a, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.Kind.String()+" "+c.Path+" "+recorddiff.Shown(c, c.New, false))
	}
	want := []string{"removed dependencies null", "added error \"boom\"", "changed status \"error\"", "added outputs.api_token ••••••••"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("changes:\n%q\nwant\n%q", got, want)
	}
	if changes, _ := recorddiff.Compare(a, a, nil); len(changes) != 0 {
		t.Errorf("a record differs from itself: %v", changes)
	}
}

func TestDecodeCompared(t *testing.T) {
	tests := []struct {
		in, only, err string
	}{
		{`{"resource_id":"a","status":"active"}`, "whole record", ""},
		{`{"outputs":{"x":1}}`, "outputs only", ""},
		{`{"outputs":{"x":1},"config":{}}`, "outputs & config only", ""},
		{`{"endpoint":"h"}`, "outputs only", ""},
		{`{"outputs":{"x":1},"status":"a"}`, "", "not a record"},
		{`{"outputs":3}`, "", "not a JSON object"},
		{`[1]`, "", "invalid JSON"},
	}
	for _, tt := range tests {
		_, only, err := recorddiff.DecodeCompared([]byte(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || only.String() != tt.only {
			t.Errorf("%s: %q, %v; want %q", tt.in, only, err, tt.only)
		}
	}
}
