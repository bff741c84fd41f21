package backup_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"statescope/stores/repair/backup"
)

func TestWriteListRead(t *testing.T) {
	d := backup.Dir{Root: filepath.Join(t.TempDir(), "backups")}
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	meta := func(id string, at time.Time, action string) backup.Meta {
		return backup.Meta{Target: "file:///s", ResourceID: id, Kind: backup.KindRecord, Action: action, Time: at}
	}
	first, err := d.Write(meta("a/b", at, "edit"), []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	// Same instant and action: a second file, never an overwrite.
	second, err := d.Write(meta("a/b", at, "edit"), []byte("two"))
	if err != nil || second == first {
		t.Fatalf("second backup at the same instant: %s, %v", second, err)
	}
	newest, err := d.Write(meta("a/b", at.Add(time.Second), "delete"), []byte("three"))
	if err != nil {
		t.Fatal(err)
	}
	// "a_b" cleans to the same name as "a/b"; it must not mix in.
	if _, err := d.Write(meta("a_b", at, "edit"), []byte("other")); err != nil {
		t.Fatal(err)
	}
	list, err := d.List("file:///s", "a/b")
	if err != nil || len(list) != 3 || list[0].Path != newest {
		t.Fatalf("list: %+v, %v; want 3 with %s first", list, err, newest)
	}
	if !strings.HasSuffix(newest, "-delete.json") {
		t.Errorf("backup name %s does not end in <timestamp>-<action>.json", newest)
	}
	b, data, err := backup.Read(first)
	if err != nil || string(data) != "one" || b.Meta.SHA256 != backup.SHA256([]byte("one")) {
		t.Fatalf("read: %+v %q %v", b, data, err)
	}
	if err := os.WriteFile(first, []byte("tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := backup.Read(first); !errors.Is(err, backup.ErrMismatch) {
		t.Errorf("tampered backup: %v, want ErrMismatch", err)
	}
	if list, err := d.List("file:///other", "a/b"); err != nil || len(list) != 0 {
		t.Errorf("another store's backups: %v, %v", list, err)
	}
}

func TestWriteTightensLooseDirs(t *testing.T) {
	root := filepath.Join(t.TempDir(), "backups")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	d := backup.Dir{Root: root}
	path, err := d.Write(backup.Meta{Target: "t", ResourceID: "r", Kind: backup.KindRecord, Action: "edit", Time: time.Now()}, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	for p := filepath.Dir(path); ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v, want 0700", p, fi.Mode().Perm(), err)
		}
		if p == root {
			break
		}
	}
}

func TestWriteFailsWhenUnwritable(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d := backup.Dir{Root: filepath.Join(blocker, "backups")}
	if _, err := d.Write(backup.Meta{Target: "t", ResourceID: "r", Action: "edit", Time: time.Now()}, []byte("x")); err == nil {
		t.Error("a backup under a file succeeded")
	}
}

// TestListStore: every resource's backups of one store, newest first,
// never another store's (its own directory, or a sidecar naming it).
func TestListStore(t *testing.T) {
	root := filepath.Join(t.TempDir(), "backups")
	d := backup.Dir{Root: root}
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	write := func(target, id string, at time.Time) string {
		t.Helper()
		p, err := d.Write(backup.Meta{Target: target, ResourceID: id, Kind: backup.KindRecord, Action: "delete", Time: at}, []byte(id+target))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if list, err := d.ListStore("file:///s"); err != nil || len(list) != 0 {
		t.Fatalf("no backups yet: %v, %v", list, err)
	}
	old := write("file:///s", "a", at)
	newest := write("file:///s", "b/c", at.Add(time.Hour))
	mid := write("file:///s", "a", at.Add(time.Minute))
	write("file:///other", "a", at.Add(2*time.Hour))
	// A sidecar naming another store, in this store's directory (a slug
	// collision), is not this store's.
	stray := filepath.Join(filepath.Dir(filepath.Dir(old)), "stray")
	if err := os.MkdirAll(stray, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stray, "x.json"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stray, "x.meta.json"), []byte(`{"target":"file:///other","resource_id":"x","kind":"record"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	list, err := d.ListStore("file:///s")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range list {
		got = append(got, b.Path)
	}
	if want := []string{newest, mid, old}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ListStore:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
