package jsondiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

type change struct {
	Path     string
	Kind     Kind
	Old, New string
}

func simplify(cs []Change) []change {
	out := []change{}
	for _, c := range cs {
		sc := change{Path: c.Path, Kind: c.Kind}
		if c.Kind != Added {
			sc.Old = fmt.Sprint(c.Old)
		}
		if c.Kind != Removed {
			sc.New = fmt.Sprint(c.New)
		}
		out = append(out, sc)
	}
	return out
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     []change
	}{
		{"equal objects", `{"a":1,"b":{"c":[1,2]}}`, `{"b":{"c":[1,2]},"a":1}`, []change{}},
		{"both null", `null`, `null`, []change{}},
		{"added key", `{"a":1}`, `{"a":1,"b":"x"}`, []change{{"b", Added, "", "x"}}},
		{"removed key", `{"a":1,"b":"x"}`, `{"a":1}`, []change{{"b", Removed, "x", ""}}},
		{"changed scalar", `{"a":"x"}`, `{"a":"y"}`, []change{{"a", Changed, "x", "y"}}},
		{"nested path", `{"outputs":{"db":{"port":5432}}}`, `{"outputs":{"db":{"port":5433}}}`, []change{{"outputs.db.port", Changed, "5432", "5433"}}},
		{"array element changed", `{"t":["a","b"]}`, `{"t":["a","c"]}`, []change{{"t[1]", Changed, "b", "c"}}},
		{"array grew", `{"t":["a"]}`, `{"t":["a","b"]}`, []change{{"t[1]", Added, "", "b"}}},
		{"array shrank", `{"t":["a","b"]}`, `{"t":["a"]}`, []change{{"t[1]", Removed, "b", ""}}},
		{"type changed", `{"a":{"x":1}}`, `{"a":"x"}`, []change{{"a", Changed, "map[x:1]", "x"}}},
		{"null to object", `{"a":null}`, `{"a":{}}`, []change{{"a", Changed, "<nil>", "map[]"}}},
		{"numbers equal by value", `{"n":1}`, `{"n":1.0}`, []change{}},
		{"large integers kept exact", `{"n":12345678901234567890}`, `{"n":12345678901234567891}`, []change{{"n", Changed, "12345678901234567890", "12345678901234567891"}}},
		{"number vs string", `{"n":1}`, `{"n":"1"}`, []change{{"n", Changed, "1", "1"}}},
		{"bool changed", `{"b":true}`, `{"b":false}`, []change{{"b", Changed, "true", "false"}}},
		{"odd key quoted", `{"a.b":1}`, `{"a.b":2}`, []change{{`["a.b"]`, Changed, "1", "2"}}},
		{"sorted output", `{"z":1,"a":1}`, `{"z":2,"a":2}`, []change{{"a", Changed, "1", "2"}, {"z", Changed, "1", "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := simplify(Compare(decode(t, tt.old), decode(t, tt.new)))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Compare(%s, %s)\n got %+v\nwant %+v", tt.old, tt.new, got, tt.want)
			}
		})
	}
}

func TestKeysFollowObjectPath(t *testing.T) {
	cs := Compare(decode(t, `{"db":{"creds":[{"password":"a"}]}}`), decode(t, `{"db":{"creds":[{"password":"b"}]}}`))
	if len(cs) != 1 || !reflect.DeepEqual(cs[0].Keys, []string{"db", "creds", "password"}) {
		t.Fatalf("got %+v", cs)
	}
}

// bigOutputs builds an outputs-like map of roughly size bytes of JSON.
func bigOutputs(size int, variant int) map[string]any {
	m := map[string]any{}
	for i := 0; size > 0; i++ {
		entry := map[string]any{
			"id":     json.Number(fmt.Sprint(i)),
			"name":   fmt.Sprintf("resource-%06d", i),
			"tags":   []any{"env:prod", "team:platform", fmt.Sprintf("n:%d", i%7)},
			"nested": map[string]any{"enabled": i%2 == 0, "endpoint": fmt.Sprintf("https://svc-%d.example.com", i)},
		}
		if variant == 1 && i%50 == 0 {
			entry["name"] = fmt.Sprintf("renamed-%06d", i)
		}
		m[fmt.Sprintf("key_%06d", i)] = entry
		size -= 170
	}
	return m
}

func BenchmarkCompare1MB(b *testing.B) {
	old, new := bigOutputs(1<<20, 0), bigOutputs(1<<20, 1)
	raw, _ := json.Marshal(old)
	b.ReportMetric(float64(len(raw)), "bytes/doc")
	b.ReportAllocs()
	for b.Loop() {
		if len(Compare(old, new)) == 0 {
			b.Fatal("expected differences")
		}
	}
}
