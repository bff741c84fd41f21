package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"statescope/stores"
)

// show names the records that depend on the one shown and marks its
// dependencies that no record has: as YAML comments, and on stderr beside
// -o json (whose stdout stays the record as stored).
func TestShowDependenciesBothWays(t *testing.T) {
	dir := demoDir(t)
	s, err := stores.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Save(context.Background(), &stores.State{ResourceID: "prod/api/gateway", Status: stores.StatusActive, Dependencies: []string{"prod/lb/api", "prod/vpc/legacy"}})
	stores.Close(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id, want, not string
	}{
		{"prod/lb/api", "# required by: prod/api/gateway, prod/dns/api, prod/dns/www\n", "missing"},
		{"prod/api/gateway", "# required by: none\n# missing dependency: prod/vpc/legacy (no record has this ID)\n", "prod/lb/api (no record"},
	} {
		code, out, errOut := cli(t, "", "--store", dir, "show", tc.id)
		if code != 0 || !strings.HasSuffix(out, tc.want) || strings.Contains(out, tc.not) {
			t.Errorf("show %s: exit %d, want it to end in %q:\n%s%s", tc.id, code, tc.want, out, errOut)
		}
		code, out, errOut = cli(t, "", "--store", dir, "show", tc.id, "-o", "json")
		var rec map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &rec) != nil || !strings.Contains(errOut, strings.ReplaceAll(tc.want, "# ", "note: ")) {
			t.Errorf("show %s -o json: exit %d\n%s\nstderr:\n%s", tc.id, code, out, errOut)
		}
	}
}
