package check_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"statescope/stores"
	"statescope/stores/check"
	"statescope/stores/filesystem"
	"statescope/stores/storetest/testserver"
)

func TestMain(m *testing.M) { testserver.Main(removeBenchStore{m}) }

func testCtx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// planter writes what another writer (workflow, wfctl, a crash) would
// leave in a store, behind the store's back.
type planter struct {
	store stores.Store
	// raw writes bytes as the record named name (file name or key without
	// the extension); lock writes a lock artefact the same way.
	raw  func(t *testing.T, name, body string)
	lock func(t *testing.T, name, body string)
}

func rec(id, status string, deps ...string) *stores.State {
	now := stores.FormatTime(time.Now())
	return &stores.State{ResourceID: id, ResourceType: "t", Provider: "p", Status: status, Dependencies: deps, CreatedAt: now, UpdatedAt: now}
}

func encode(t *testing.T, s *stores.State) string {
	t.Helper()
	b, err := stores.EncodeState(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// deadPID is the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// plantCommon writes one of each problem every backend can hold, through
// the store where the store would write it and raw otherwise.
func plantCommon(t *testing.T, p planter, withLocks bool) []check.Kind {
	ctx := testCtx(t)
	hour := stores.FormatTime(time.Now().Add(-time.Hour))
	stuck := rec("stuck", stores.StatusProvisioning)
	stuck.UpdatedAt = hour
	failed := rec("failed", stores.StatusError)
	failed.Error = "quota exceeded"
	for _, s := range []*stores.State{
		rec("db", stores.StatusActive),
		rec("web", stores.StatusActive, "db", "ghost"),
		rec("cyc-a", stores.StatusActive, "cyc-b"),
		rec("cyc-b", stores.StatusActive, "cyc-a"),
		rec("old-net", stores.StatusDestroyed),
		rec("app", stores.StatusActive, "old-net"),
		stuck, failed,
	} {
		if err := p.store.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	want := []check.Kind{check.DanglingDependency, check.DependencyCycle, check.DestroyedDependency,
		check.StuckRecord, check.ErrorRecord, check.CorruptRecord}
	p.raw(t, "broken", `{"resource_id": "broken", "status": `)
	if p.lock != nil && withLocks {
		host, _ := os.Hostname()
		gone := &stores.Holder{Tool: "statescope", Host: host, PID: deadPID(t), Operation: "set-status", Since: time.Now().UTC().Truncate(time.Second)}
		p.lock(t, "db", string(stores.EncodeLockBody(gone)))
		p.lock(t, "web", hour)
		p.lock(t, "nothing-here", stores.FormatTime(time.Now()))
		want = append(want, check.OrphanedLock, check.StaleLock, check.LockWithoutRecord)
	}
	return want
}

// kinds runs the check and returns the kinds found.
func kinds(t *testing.T, s stores.Store, opt check.Options) (*check.Report, []check.Kind) {
	t.Helper()
	rep, err := check.Run(testCtx(t), s, opt)
	if err != nil {
		t.Fatal(err)
	}
	var got []check.Kind
	for _, f := range rep.Findings {
		if !slices.Contains(got, f.Kind) {
			got = append(got, f.Kind)
		}
	}
	return rep, got
}

func assertKinds(t *testing.T, rep *check.Report, got, want []check.Kind) {
	t.Helper()
	for _, k := range want {
		if !slices.Contains(got, k) {
			t.Errorf("no %s finding; got %v", k, got)
		}
	}
	for _, k := range got {
		if !slices.Contains(want, k) {
			t.Errorf("unexpected %s finding", k)
		}
	}
	for _, f := range rep.Findings {
		if f.Evidence == "" || len(f.Resources) == 0 {
			t.Errorf("finding without evidence or resources: %+v", f)
		}
	}
	if t.Failed() {
		for _, f := range rep.Findings {
			t.Logf("%s %s %v: %s [%s]", f.Severity, f.Kind, f.Resources, f.Evidence, f.Repair)
		}
	}
}

func fsPlanter(t *testing.T) (planter, string) {
	dir := t.TempDir()
	s, err := filesystem.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	write := func(ext string) func(t *testing.T, name, body string) {
		return func(t *testing.T, name, body string) {
			if err := os.WriteFile(filepath.Join(dir, name+ext), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return planter{store: s, raw: write(".json"), lock: write(".lock")}, dir
}

func TestFilesystemFindsEveryKind(t *testing.T) {
	p, dir := fsPlanter(t)
	want := plantCommon(t, p, true)
	// A run killed mid-write leaves its temp file.
	tmp := filepath.Join(dir, ".statescope-4242.tmp")
	if err := os.WriteFile(tmp, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(tmp, old, old); err != nil {
		t.Fatal(err)
	}
	// Entries that are not regular files.
	if err := os.Symlink("/etc/hostname", filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "folder.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	// A second file claims db; a record under a name its ID does not give.
	p.raw(t, "db-copy", encode(t, rec("db", stores.StatusActive)))
	p.raw(t, "misnamed", encode(t, rec("properly-named", stores.StatusActive)))
	// wfctl's metadata beside the engine's lock files.
	p.raw(t, "metadata", `{"generator_metadata": {"tool": "wfctl"}}`)
	want = append(want, check.TempFile, check.NotRegularFile, check.DuplicateID, check.NameMismatch, check.MixedLayout)

	rep, got := kinds(t, p.store, check.Options{Target: dir, Select: []string{"--store", dir}})
	assertKinds(t, rep, got, want)

	// Every repair names this store and, for locks, the exact token.
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Repair, "statescope ") && !strings.HasSuffix(f.Repair, "--store "+dir) {
			t.Errorf("%s repair does not select the store: %q", f.Kind, f.Repair)
		}
		if f.Kind == check.OrphanedLock && (f.Token == "" || !strings.Contains(f.Repair, "--token "+f.Token)) {
			t.Errorf("orphaned lock repair without its token: %q", f.Repair)
		}
	}
	for _, f := range rep.Findings {
		if f.Source == tmp && f.Kind != check.TempFile {
			t.Errorf("the temp file is also a %s finding", f.Kind)
		}
	}
	if rep.Worst() != check.Critical || !rep.AtLeast(check.Warning) {
		t.Errorf("worst %s", rep.Worst())
	}
}

func TestFilesystemFIFOIsNotRead(t *testing.T) {
	p, dir := fsPlanter(t)
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, got := kinds(t, p.store, check.Options{Target: dir})
	assertKinds(t, rep, got, []check.Kind{check.NotRegularFile})
}

func TestCleanStoreHasNoFindings(t *testing.T) {
	p, dir := fsPlanter(t)
	ctx := testCtx(t)
	for _, s := range []*stores.State{rec("db", stores.StatusActive), rec("web", stores.StatusActive, "db"), rec("gone", stores.StatusDestroyed)} {
		if err := p.store.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.store.Lock(ctx, "db"); err != nil { // fresh, held by this live process
		t.Fatal(err)
	}
	rep, got := kinds(t, p.store, check.Options{Target: dir})
	assertKinds(t, rep, got, nil)
	if rep.Records[stores.StatusActive] != 2 || rep.Locks[stores.VerdictHeld] != 1 {
		t.Errorf("counts: records %v locks %v", rep.Records, rep.Locks)
	}
}

// noInventory is a store without a lock inventory.
type noInventory struct{ stores.Store }

func TestStoreWithoutLockInventory(t *testing.T) {
	p, dir := fsPlanter(t)
	if err := p.store.Save(testCtx(t), rec("db", stores.StatusActive)); err != nil {
		t.Fatal(err)
	}
	// Read-only wraps it in a lister that answers ErrUnsupported.
	rep, got := kinds(t, stores.ReadOnly(noInventory{p.store}), check.Options{Target: dir})
	assertKinds(t, rep, got, nil)
	if rep.Locks != nil || rep.Records[stores.StatusActive] != 1 {
		t.Errorf("locks %v records %v", rep.Locks, rep.Records)
	}
}

// Two files claiming one ID are one duplicate-id finding, not corrupt
// records: each file reads fine, and editing either is refused until one
// is moved aside, which is the finding's repair.
func TestDuplicateIsNotCorrupt(t *testing.T) {
	p, dir := fsPlanter(t)
	if err := p.store.Save(testCtx(t), rec("db", stores.StatusActive)); err != nil {
		t.Fatal(err)
	}
	p.raw(t, "db-copy", encode(t, rec("db", stores.StatusActive)))
	rep, got := kinds(t, p.store, check.Options{Target: dir})
	assertKinds(t, rep, got, []check.Kind{check.DuplicateID, check.NameMismatch})
	if rep.Records[stores.StatusActive] != 2 || rep.Records["corrupt"] != 0 {
		t.Errorf("counts %v, want both copies active", rep.Records)
	}
	for _, f := range rep.Findings {
		if f.Kind == check.DuplicateID && !strings.Contains(f.Repair, "db-copy.json") {
			t.Errorf("the duplicate's repair does not move the stray copy: %q", f.Repair)
		}
	}
}

// A re-check offered the last report's rows reads again only the records
// that changed, and still reports what they now say.
func TestRecheckReusesKnownRows(t *testing.T) {
	p, dir := fsPlanter(t)
	ctx := testCtx(t)
	for _, id := range []string{"a", "b", "c"} {
		if err := p.store.Save(ctx, rec(id, stores.StatusActive)); err != nil {
			t.Fatal(err)
		}
	}
	first, _ := kinds(t, p.store, check.Options{Target: dir})
	failed := rec("b", stores.StatusError)
	failed.Error = "quota exceeded"
	if err := p.store.Save(ctx, failed); err != nil {
		t.Fatal(err)
	}
	last := map[string]stores.Row{}
	for _, r := range first.Rows {
		last[r.Source] = r
	}
	var mu sync.Mutex // known is asked from the store's workers
	var reused []string
	known := func(source, version string) (stores.Row, bool) {
		r, ok := last[source]
		if ok && r.Version == version {
			mu.Lock()
			reused = append(reused, r.ID)
			mu.Unlock()
		}
		return r, ok && r.Version == version
	}
	rep, got := kinds(t, p.store, check.Options{Target: dir, Known: known})
	assertKinds(t, rep, got, []check.Kind{check.ErrorRecord})
	slices.Sort(reused)
	if !slices.Equal(reused, []string{"a", "c"}) {
		t.Errorf("reused %v, want a and c", reused)
	}
	if f := rep.Findings[0]; !strings.Contains(f.Evidence, "quota exceeded") {
		t.Errorf("the error record's evidence lacks its error text: %q", f.Evidence)
	}
}

// TestFileRepairsActOnTheirFile plants, under names holding quotes,
// newlines, escapes and invalid UTF-8, a temp file a killed run left, a
// FIFO named like a record and a misnamed record; each printed rm/mv
// repair, run by a shell as printed, deals with exactly its file, after
// which the check finds none of them.
func TestFileRepairsActOnTheirFile(t *testing.T) {
	for _, name := range []string{"plain", "it's \"odd\"", "new\nline", "esc\x1b[2J", "bad\xff", "$(touch pwned)"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := filesystem.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			temp := filepath.Join(dir, ".statescope-"+name)
			if err := os.WriteFile(temp, []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-time.Hour)
			if err := os.Chtimes(temp, old, old); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(filepath.Join(dir, name+"-fifo.json"), 0o600); err != nil {
				t.Fatal(err)
			}
			r := rec("db", stores.StatusActive)
			if err := os.WriteFile(filepath.Join(dir, name+"-misnamed.json"), []byte(encode(t, r)), 0o600); err != nil {
				t.Fatal(err)
			}
			rep, err := check.Run(testCtx(t), s, check.Options{Now: time.Now(), StaleAfter: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			fixed := 0
			for _, f := range rep.Findings {
				switch f.Kind {
				case check.TempFile, check.NotRegularFile, check.NameMismatch:
				default:
					continue
				}
				cmd := exec.Command("bash", "-c", f.Repair)
				cmd.Dir = t.TempDir() // the repair names absolute paths
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s: %s: %v\n%s", f.Kind, f.Repair, err, out)
				}
				fixed++
			}
			if fixed != 3 {
				t.Fatalf("%d repairs run, want 3: %+v", fixed, rep.Findings)
			}
			rep, err = check.Run(testCtx(t), s, check.Options{Now: time.Now(), StaleAfter: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Findings {
				t.Errorf("after the repairs: %s %q: %s", f.Kind, f.Resources, f.Evidence)
			}
			if _, err := s.Get(testCtx(t), "db"); err != nil {
				t.Errorf("the misnamed record was not moved to its name: %v", err)
			}
		})
	}
}
