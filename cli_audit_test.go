package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"statescope/stores/repair/audit"
)

func TestAuditNewestFirstAndFiltered(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", state)
	now := time.Now().UTC().Truncate(time.Second)
	log := audit.Log{Path: filepath.Join(state, "statescope", "audit.log")}
	// Written in time order, as statescope writes them; two share a time.
	for _, e := range []audit.Entry{
		{Time: now.Add(-72 * time.Hour), Action: "set-status", Resource: "prod/db", Result: "applied"},
		{Time: now.Add(-2 * time.Hour), Action: "edit", Resource: "prod/app", Result: "applied"},
		{Time: now.Add(-time.Hour), Action: "set-status", Resource: "prod/db", Result: "refused"},
		{Time: now.Add(-time.Hour), Action: "force-unlock", Resource: "prod/db", Result: "applied"},
	} {
		if err := log.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	auditCLI := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"audit"}, args...), strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	order := func(out string) []string {
		var entries []audit.Entry
		if err := json.Unmarshal([]byte(out), &entries); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		got := []string{}
		for _, e := range entries {
			got = append(got, e.Action+" "+e.Resource)
		}
		return got
	}
	tests := []struct {
		args []string
		want []string
	}{
		{nil, []string{"force-unlock prod/db", "set-status prod/db", "edit prod/app", "set-status prod/db"}},
		{[]string{"--resource", "prod/db"}, []string{"force-unlock prod/db", "set-status prod/db", "set-status prod/db"}},
		{[]string{"--since", "24h"}, []string{"force-unlock prod/db", "set-status prod/db", "edit prod/app"}},
		{[]string{"--since", "3.5d"}, []string{"force-unlock prod/db", "set-status prod/db", "edit prod/app", "set-status prod/db"}},
		{[]string{"--since", now.Add(-90 * time.Minute).Format(time.RFC3339)}, []string{"force-unlock prod/db", "set-status prod/db"}},
		{[]string{"--resource", "prod/db", "--since", "24h", "--action", "set-status"}, []string{"set-status prod/db"}},
		{[]string{"--action", "rm"}, []string{}},
	}
	for _, tt := range tests {
		code, out, errOut := auditCLI(append(tt.args, "-o", "json")...)
		if code != 0 {
			t.Fatalf("audit %v: exit %d, %s", tt.args, code, errOut)
		}
		if got := order(out); strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("audit %v: %q, want %q", tt.args, got, tt.want)
		}
	}
	// The table is newest first too; a filter that matches nothing says why.
	_, out, _ := auditCLI()
	if lines := strings.Split(out, "\n"); len(lines) < 5 || !strings.Contains(lines[1], "force-unlock") || !strings.Contains(lines[4], now.Add(-72*time.Hour).Format("2006-01-02 15:04")) {
		t.Errorf("table not newest first:\n%s", out)
	}
	if _, out, _ := auditCLI("--action", "rm"); !strings.Contains(out, `no audit entries of action "rm" (the log holds edit, force-unlock, set-status)`) {
		t.Errorf("no match: %q", out)
	}
	for _, bad := range []string{"-1h", "yesterday", "3x"} {
		if code, _, errOut := auditCLI("--since", bad); code != 2 || !strings.Contains(errOut, "--since") {
			t.Errorf("--since %s: exit %d, %s", bad, code, errOut)
		}
	}
}
