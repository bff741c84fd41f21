package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiffWholeRecord: the diff command compares every field, not only
// outputs and config, and answers like diff(1): 0 equal, 1 different,
// 2 when it cannot compare.
func TestDiffWholeRecord(t *testing.T) {
	dir := demoDir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "prod_db_users.json"))
	if err != nil {
		t.Fatal(err)
	}
	changed := func(name, from, to string) string {
		if !strings.Contains(string(raw), from) {
			t.Fatalf("the demo record lacks %q", from)
		}
		f := filepath.Join(t.TempDir(), name)
		os.WriteFile(f, []byte(strings.Replace(string(raw), from, to, 1)), 0o600)
		return f
	}
	// Another store holding the same record with other dependencies.
	other := demoDir(t)
	os.WriteFile(filepath.Join(other, "prod_db_users.json"), []byte(strings.Replace(string(raw), `"prod/vpc/aws"`, `"prod/vpc/gcp"`, 1)), 0o600)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("contexts:\n  other: {store: "+other+"}\n"), 0o600)
	outputsOnly := filepath.Join(t.TempDir(), "outputs.json")
	os.WriteFile(outputsOnly, []byte(`{"outputs": {"endpoint": "elsewhere"}}`), 0o600)

	tests := []struct {
		name string
		args []string
		code int
		want []string
		not  []string
	}{
		{"same record", []string{"prod/db/users", "--file", filepath.Join(dir, "prod_db_users.json")}, 0, []string{"no differences"}, nil},
		{"status only", []string{"prod/db/users", "--file", changed("status.json", `"status": "active"`, `"status": "error"`)}, 1, []string{`~ status: "active" → "error"`}, []string{"no differences"}},
		{"provider_id only", []string{"prod/db/users", "--file", changed("pid.json", `"provider_id": "prod-db-users-aw"`, `"provider_id": "x"`)}, 1, []string{"~ provider_id:"}, nil},
		{"another store", []string{"prod/db/users", "--against", other}, 1, []string{`~ dependencies[0]: "prod/vpc/aws" → "prod/vpc/gcp"`, "+++ prod/db/users @ " + other}, nil},
		{"a context", []string{"--config", cfg, "prod/db/users", "--against", "other"}, 1, []string{"~ dependencies[0]:", "+++ prod/db/users @ other"}, nil},
		{"another record", []string{"prod/db/users", "staging/db/orders"}, 1, []string{"~ resource_id:", "~ config.instance_class:", "- outputs.connection_string: ••••••••"}, []string{"Xk9#mP2vL8qR"}},
		{"revealed", []string{"prod/db/users", "staging/db/orders", "--reveal"}, 1, []string{"Xk9#mP2vL8qR"}, nil},
		{"outputs only", []string{"prod/db/users", "--file", outputsOnly}, 1, []string{"only outputs compared", "~ outputs.endpoint:", "- outputs.username:"}, []string{"status"}},
		{"header before body", []string{"prod/db/users", "staging/db/orders"}, 1, []string{"updated_at: \"", "~ config."}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, "", append([]string{"--store", dir, "diff"}, tt.args...)...)
			if code != tt.code || errOut != "" {
				t.Errorf("exit %d, stderr %q; want %d\n%s", code, errOut, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
	// Header fields come before outputs and config.
	_, out, _ := cli(t, "", "--store", dir, "diff", "prod/db/users", "staging/db/orders")
	if strings.Index(out, "updated_at") > strings.Index(out, "config.") {
		t.Errorf("header fields not first:\n%s", out)
	}
}

func TestDiffJSON(t *testing.T) {
	dir := demoDir(t)
	code, out, _ := cli(t, "", "--store", dir, "diff", "prod/db/users", "staging/db/orders", "-o", "json")
	var d struct {
		A, B, Compared string
		Different      bool
		Changes        []struct {
			Path, Kind string
			Old, New   any
		}
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != 1 || !d.Different || d.Compared != "whole record" {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	kinds := map[string]string{}
	for _, c := range d.Changes {
		kinds[c.Path] = c.Kind
		if c.Path == "outputs.password" && (c.Old != "••••••••" || c.New != "••••••••") {
			t.Errorf("password not masked: %+v", c)
		}
	}
	if kinds["status"] != "" || kinds["outputs.username"] != "removed" || kinds["resource_id"] != "changed" {
		t.Errorf("changes: %v", kinds)
	}
	code, out, _ = cli(t, "", "--store", dir, "diff", "prod/db/users", "prod/db/users", "-o", "json")
	if code != 0 || !strings.Contains(out, `"changes": []`) || !strings.Contains(out, `"different": false`) {
		t.Errorf("equal: exit %d\n%s", code, out)
	}
}

func TestDiffCannotCompare(t *testing.T) {
	dir := demoDir(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no other side", []string{"prod/db/users"}, "exactly one of"},
		{"two other sides", []string{"prod/db/users", "prod/db/orders", "--file", "x.json"}, "exactly one of"},
		{"missing record", []string{"nope", "prod/db/users"}, "not found"},
		{"missing other", []string{"prod/db/users", "nope"}, "not found"},
		{"corrupt record", []string{"prod/cache/sessions", "prod/db/users"}, "corrupt"},
		{"missing file", []string{"prod/db/users", "--file", "/nonexistent.json"}, "no such file"},
		{"bad output", []string{"prod/db/users", "prod/db/orders", "-o", "yaml"}, "output format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, "", append([]string{"--store", dir, "diff"}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errOut, tt.want)
			}
		})
	}
}
