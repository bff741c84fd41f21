package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/redact"
	"statescope/stores/redact/redacttest"
	"statescope/stores/storetest"
)

// list -o json writes as the listing goes instead of holding the store:
// when the last of 5,000 batches is listed, all but what its encoders and
// the chunk being gathered hold is on the output (the listing waits while
// the encoders are busy), and the document is the one json.Encoder writes
// for the array.
func TestListJSONStreams(t *testing.T) {
	var batches [][]stores.Entry
	for i := range 5000 {
		id := fmt.Sprintf("r%04d<&>", i)
		batches = append(batches, []stores.Entry{{ID: id, State: &stores.State{ResourceID: id, Outputs: map[string]any{"password": "hunter2", "n": json.Number("12345678901234567890")}}}})
	}
	batches = append(batches, []stores.Entry{{ID: "b", Source: "/s/b.json", Problem: "invalid JSON"}})
	locks := map[string]stores.LockInfo{"b": {ResourceID: "b"}, "r0001<&>": {ResourceID: "r0001<&>"}}
	out := &lockedBuffer{}
	written := 0
	stream := entryStream(batches, locks, false, func() { written = strings.Count(out.String(), `"resource_id"`) })
	n, err := writeListJSON(out, stream, true)
	if err != nil || n != len(batches) {
		t.Fatalf("wrote %d items, err %v", n, err)
	}
	if held := len(batches) - written; held > (runtime.GOMAXPROCS(0)+1)*chunkItems {
		t.Errorf("when the listing ended, %d of %d items were still held", held, len(batches))
	}
	if strings.Contains(out.String(), "hunter2") {
		t.Error("a secret-looking value is not masked")
	}
	checkListJSON(t, out.String(), batches, locks, false)
}

// lockedBuffer is written by the encoders while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// checkListJSON: doc holds the batches' items as encoding/json writes them
// (in an order of its own: chunks are written as they are encoded), laid
// out as json.Encoder with a two-space indent writes the array.
func checkListJSON(t *testing.T, doc string, batches [][]stores.Entry, locks map[string]stores.LockInfo, reveal bool) {
	t.Helper()
	want, err := oracleListJSON(batches, locks, reveal)
	if err != nil {
		t.Fatal(err)
	}
	got, wantItems := sortedItems(t, []byte(doc)), sortedItems(t, []byte(want))
	if len(got) != len(wantItems) {
		t.Fatalf("%d items, want %d", len(got), len(wantItems))
	}
	for i := range got {
		if got[i] != wantItems[i] {
			t.Fatalf("an item differs from encoding/json's:\n%s", firstDiff(got[i], wantItems[i]))
		}
	}
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(doc), &items); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(items); err != nil {
		t.Fatal(err)
	}
	if buf.String() != doc {
		t.Errorf("the document is not laid out as json.Encoder lays out its items:\n%s", firstDiff(doc, buf.String()))
	}
}

// entryStream streams the batches' items; after each batch, yielded is
// called.
func entryStream(batches [][]stores.Entry, locks map[string]stores.LockInfo, reveal bool, yielded func()) func(yield func([]listItem) error) error {
	return func(yield func([]listItem) error) error {
		for _, b := range batches {
			items := make([]listItem, len(b))
			for i, e := range b {
				items[i] = listEntryItem(e, locks, reveal, "")
			}
			if err := yield(items); err != nil {
				return err
			}
			yielded()
		}
		return nil
	}
}

// oracleItem is what an element of list -o json is: encoding/json's
// encoding of the record (masked by redact.State), "locked" after its
// fields, then "context" with several contexts.
type oracleItem struct {
	*stores.State
	Locked  *bool  `json:"locked"`
	Context string `json:"context,omitempty"`
}

type oracleCorrupt struct {
	ResourceID string `json:"resource_id"`
	Source     string `json:"source"`
	Corrupt    string `json:"corrupt"`
	Locked     *bool  `json:"locked"`
	Context    string `json:"context,omitempty"`
}

func oracleEntry(e stores.Entry, locks map[string]stores.LockInfo, reveal bool, context string) any {
	var locked *bool
	if locks != nil {
		_, held := locks[e.ID]
		locked = &held
	}
	if e.Corrupt() {
		return oracleCorrupt{e.ID, e.Source, e.Problem, locked, context}
	}
	s := e.State
	if !reveal {
		s = redact.State(s)
	}
	return oracleItem{s, locked, context}
}

// oracleListJSON is the document list -o json writes for these batches:
// json.Encoder's, indented by two spaces, for the whole array.
func oracleListJSON(batches [][]stores.Entry, locks map[string]stores.LockInfo, reveal bool) (string, error) {
	items := []any{}
	for _, b := range batches {
		for _, e := range b {
			items = append(items, oracleEntry(e, locks, reveal, ""))
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	err := enc.Encode(items)
	return buf.String(), err
}

// Every record's element is what encoding/json writes for its masked copy
// (or itself, revealed): records with every masking rule, realistic and
// generated ones, corrupt entries, with and without a lock inventory, in
// the streamed document and in the fleet's encoding.
func TestListJSONMatchesEncodingJSON(t *testing.T) {
	entries := []stores.Entry{
		{ID: "r", State: redacttest.Record("r")},
		{ID: "bad", Source: "/s/bad.json", Problem: "invalid JSON: <&> \u2028 postgres://u:p@h"},
		{ID: "e", State: &stores.State{ResourceID: "e", Dependencies: []string{}, Outputs: map[string]any{}}},
		{ID: "d", State: &stores.State{ResourceID: "d", ProviderRef: "p", ProviderID: "i", ConfigHash: "h", Error: "boom", Dependencies: []string{"a<", "b"}}},
	}
	for i := range 50 {
		st := storetest.Realistic(i)
		if i%5 == 0 {
			st = storetest.RealisticLarge(i)
		}
		entries = append(entries, stores.Entry{ID: st.ResourceID, State: st})
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 200 {
		st := &stores.State{ResourceID: fmt.Sprint("g", i), Status: "active"}
		st.Outputs, _ = randomTree(rng, 0).(map[string]any)
		st.Config, _ = randomTree(rng, 0).(map[string]any)
		entries = append(entries, stores.Entry{ID: st.ResourceID, State: st})
	}
	batches := [][]stores.Entry{entries[:3], entries[3:]}
	for _, locks := range []map[string]stores.LockInfo{nil, {"r": {ResourceID: "r"}, "bad": {ResourceID: "bad"}}} {
		for _, reveal := range []bool{false, true} {
			var out bytes.Buffer
			if _, err := writeListJSON(&out, entryStream(batches, locks, reveal, func() {}), true); err != nil {
				t.Fatal(err)
			}
			checkListJSON(t, out.String(), batches, locks, reveal)
			for _, e := range entries[:10] {
				got, gerr := json.Marshal(listEntryItem(e, locks, reveal, "ctx<"))
				want, werr := json.Marshal(oracleEntry(e, locks, reveal, "ctx<"))
				if gerr != nil || werr != nil || !bytes.Equal(got, want) {
					t.Fatalf("%s in a fleet listing: %s (%v)\nwant %s (%v)", e.ID, got, gerr, want, werr)
				}
			}
		}
	}
}

// randomTree is a generated outputs or config tree: secret-looking keys
// and values, numbers, nulls, lists and strings that need escaping.
func randomTree(rng *rand.Rand, depth int) any {
	keys := []string{"password", "Api-Key", "url", "name", "<tag>", "key", "monkey", "\u2028", "é", "n"}
	values := []any{"postgres://u:pw@h/db", "plain", "<&>", "a\tb", "\xff", json.Number("12"), json.Number("1.5e3"), true, nil,
		"-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----"}
	switch n := rng.IntN(5); {
	case n == 0 && depth < 4:
		m := map[string]any{}
		for i := rng.IntN(5); i >= 0; i-- {
			m[keys[rng.IntN(len(keys))]] = randomTree(rng, depth+1)
		}
		return m
	case n == 1 && depth < 4:
		l := []any{}
		for i := rng.IntN(3); i >= 0; i-- {
			l = append(l, randomTree(rng, depth+1))
		}
		return l
	default:
		return values[rng.IntN(len(values))]
	}
}

// firstDiff shows where two documents part.
func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-200)
	return fmt.Sprintf("got  …%s\nwant …%s", got[from:min(len(got), i+100)], want[from:min(len(want), i+100)])
}

func TestListJSONEmpty(t *testing.T) {
	none := func(func([]listItem) error) error { return nil }
	for _, tc := range []struct {
		emptyIsError bool
		want         string
	}{{false, "[]\n"}, {true, ""}} {
		var out bytes.Buffer
		if n, err := writeListJSON(&out, none, tc.emptyIsError); n != 0 || err != nil || out.String() != tc.want {
			t.Errorf("emptyIsError=%v: %d %v %q, want %q", tc.emptyIsError, n, err, out.String(), tc.want)
		}
	}
}

// A filesystem store is listed from its files' bytes, not decoded: the
// document holds what decoding each record and encoding it masked gives,
// for engine-written records and for ones only decoding reads right
// (escaped, re-cased, repeated or unknown keys, nulls), with corrupt and
// conflicting files among them.
func TestListJSONFromStoredBytes(t *testing.T) {
	dir := t.TempDir()
	storetest.WriteRecords(t, dir, 20, func(i int) *stores.State {
		switch {
		case i == 0:
			return redacttest.Record("all-rules")
		case i%7 == 0:
			return storetest.RealisticLarge(i)
		}
		return storetest.Realistic(i)
	})
	odd := []string{
		`{"resource_id":"escaped-key","outputs":{"p\u0061ssword":"x"},"\u0063onfig":{"token":"t"}}`,
		`{"Resource_ID":"recased","Outputs":{"password":"y"},"status":"active"}`,
		`{"resource_id":"repeated","outputs":{"a":1},"outputs":{"password":"z"}}`,
		`{"resource_id":"unknown","future":{"secret":"s"},"outputs":null,"config":{}}`,
		`{"resource_id":"null-string","provider":null,"status":"active"}`,
		`{"resource_id":"null-dependency","dependencies":["a",null]}`,
		`{"resource_id":"empties","provider_ref":"","dependencies":[ ],"error":"","config":{"k":[]}}`,
		"{\"resource_id\":\"esc<8>\",\"resource_type\":\"\\u003cx\\u003e\",\"outputs\":{\"url\":\"postgres://u:p\\u0040h/db\",\"k\":\"\\ud800\",\"\u00e9\":\"\\u00e9\",\"z\u2028\":\"a\u2028b\",\"bad\":\"\xff\"}}",
		`{"resource_id":"nested-repeat","outputs":{"a":{"password":"x"},"a":"plain","b":{"k":1,"k":{"api_key":"q"}}}}`,
		`{"resource_id":"minimal"}`,
		"{\n\t\"resource_id\" : \"wfctl\",\n\t\"config\" : {\"dsn\" : \"x\"},\n\t\"outputs\" : {\"n\" : 12345678901234567890, \"f\" : -1.5e-3}\n}",
		`{"resource_id": 5}`,
		`not json`,
		`{"resource_id":"claimed","status":"active"}`,
		`{"resource_id":"claimed","status":"planned"}`,
		`{"resource_id":"twice","resource_id":"again","status":"planned"}`,
	}
	for i, doc := range odd {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("odd-%02d.json", i)), []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	s, err := filesystem.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []stores.Filter{{}, {Status: stores.StatusActive}} {
		var entries []stores.Entry
		if err := s.Stream(context.Background(), f, func(b []stores.Entry) error {
			entries = append(entries, b...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, reveal := range []bool{false, true} {
			args := []string{"--store", dir, "list", "-o", "json"}
			if f.Status != "" {
				args = append(args, "--status", f.Status)
			}
			if reveal {
				args = append(args, "--reveal")
			}
			var out, errOut bytes.Buffer
			if code := run(context.Background(), args, strings.NewReader(""), &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			want, err := oracleListJSON([][]stores.Entry{entries}, map[string]stores.LockInfo{}, reveal)
			if err != nil {
				t.Fatal(err)
			}
			got, wantItems := sortedItems(t, out.Bytes()), sortedItems(t, []byte(want))
			if len(got) != len(wantItems) {
				t.Fatalf("%v: %d items, want %d", args, len(got), len(wantItems))
			}
			for i := range got {
				if got[i] != wantItems[i] {
					t.Fatalf("%v: an item differs from encoding/json's:\n%s", args, firstDiff(got[i], wantItems[i]))
				}
			}
		}
	}
}

// sortedItems are a document's array elements as written, sorted: the
// store lists in no particular order.
func sortedItems(t *testing.T, doc []byte) []string {
	t.Helper()
	var items []json.RawMessage
	if err := json.Unmarshal(doc, &items); err != nil {
		t.Fatalf("%v:\n%s", err, doc)
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = string(it)
	}
	slices.Sort(out)
	return out
}
