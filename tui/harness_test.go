package tui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"statescope/stores"
	"statescope/stores/demo"
	"statescope/stores/memory"
)

// clock is the fixed "now" of every test: the demo files' reference time.
var clock = demo.Reference

func fixedNow() time.Time { return clock }

// keyPress builds the message a terminal key produces.
func keyPress(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// syncHarness drives a Model synchronously: every command runs to
// completion and its message is fed back, except spinner ticks (they only
// animate) — so it suits stores that answer at once.
type syncHarness struct {
	t testing.TB
	m *Model
	// updated, when set, runs after every message is handled (benchmarks
	// watch the load with it).
	updated func()
	// clipboard is the text of the last OSC 52 copy the UI asked for.
	clipboard string
}

func newSyncHarness(t testing.TB, opts Options) *syncHarness {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	m, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &syncHarness{t: t, m: m}
	t.Cleanup(func() { m.Close() })
	h.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	h.run(m.Init())
	return h
}

func (h *syncHarness) send(msg tea.Msg) {
	_, cmd := h.m.Update(msg)
	if h.updated != nil {
		h.updated()
	}
	h.run(cmd)
}

func (h *syncHarness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil, spinner.TickMsg:
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
	default:
		if v := reflect.ValueOf(msg); v.Kind() == reflect.String && v.Type() == clipboardMsgType {
			h.clipboard = v.String()
			return
		}
		h.send(msg)
	}
}

// clipboardMsgType is the type of the message tea.SetClipboard sends the
// program, which writes it out as OSC 52.
var clipboardMsgType = reflect.TypeOf(tea.SetClipboard("")())

// keys presses each key in turn; a plain string is typed letter by letter.
func (h *syncHarness) keys(keys ...string) {
	for _, k := range keys {
		h.send(keyPress(k))
	}
}

func (h *syncHarness) typeText(s string) {
	for _, r := range s {
		h.send(keyPress(string(r)))
	}
}

// screen is the frame as an operator reads it, without colours.
func (h *syncHarness) screen() string { return ansi.Strip(h.m.View().Content) }

// goldenStore is the demo state in memory with a fixed lock inventory, so
// frames are the same on every machine.
type goldenStore struct {
	*memory.Store
	mu    sync.Mutex
	locks []stores.LockInfo
}

func (g *goldenStore) Describe() string { return "golden demo" }

func (g *goldenStore) Locks(ctx context.Context) ([]stores.LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]stores.LockInfo(nil), g.locks...), nil
}

func (g *goldenStore) ForceUnlock(ctx context.Context, id, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, l := range g.locks {
		if l.ResourceID != id {
			continue
		}
		if l.Token != token {
			return stores.ErrLockChanged
		}
		g.locks = append(g.locks[:i], g.locks[i+1:]...)
		return nil
	}
	return stores.ErrNotLocked
}

func newGoldenStore(t testing.TB) *goldenStore {
	t.Helper()
	dir := filepath.Join("..", "testdata", "demo")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("demo files: %v", err)
	}
	m := memory.New()
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "metadata.json" {
			continue
		}
		m.PutRaw(stores.GuessID(raw, strings.TrimSuffix(filepath.Base(f), ".json")), raw)
	}
	gone := func(op string) *stores.Holder {
		return &stores.Holder{Tool: "statescope", User: "deploy", Host: "ci-runner-7", PID: 4242, Operation: op}
	}
	return &goldenStore{Store: m, locks: []stores.LockInfo{
		{ResourceID: "prod/db/orders", Token: "tok-orders", AcquiredAt: clock.Add(-74 * time.Hour), Holder: gone("apply"), HolderGone: true,
			Evidence: "holder pid 4242 no longer exists", Source: "/state/prod_db_orders.lock", Release: "delete lock file /state/prod_db_orders.lock"},
		{ResourceID: "prod/k8s/main", Token: "tok-k8s", AcquiredAt: clock.Add(-5 * time.Hour), Holder: gone("apply"), HolderGone: true,
			Evidence: "holder pid 4242 no longer exists", Source: "/state/prod_k8s_main.lock", Release: "delete lock file /state/prod_k8s_main.lock"},
		{ResourceID: "staging/dns/api", Token: "tok-dns", AcquiredAt: clock.Add(-time.Minute),
			Evidence: "no holder recorded (written by workflow)", Source: "/state/staging_dns_api.lock", Release: "delete lock file /state/staging_dns_api.lock"},
	}}
}

// blockingStore answers nothing: every call waits for its context, then
// reports when it returned, so tests can see cancellation arrive.
type blockingStore struct {
	started  chan string
	returned chan string
}

func newBlockingStore() *blockingStore {
	return &blockingStore{started: make(chan string, 64), returned: make(chan string, 64)}
}

func (b *blockingStore) block(ctx context.Context, op string) error {
	b.started <- op
	<-ctx.Done()
	b.returned <- op
	return ctx.Err()
}

func (b *blockingStore) Get(ctx context.Context, id string) (*stores.State, error) {
	return nil, b.block(ctx, "get")
}
func (b *blockingStore) List(ctx context.Context, _ stores.Filter) ([]stores.Entry, error) {
	return nil, b.block(ctx, "list")
}
func (b *blockingStore) Locks(ctx context.Context) ([]stores.LockInfo, error) {
	return nil, b.block(ctx, "locks")
}
func (b *blockingStore) Save(context.Context, *stores.State) error { return errors.ErrUnsupported }
func (b *blockingStore) Delete(context.Context, string) error      { return errors.ErrUnsupported }
func (b *blockingStore) Lock(context.Context, string) error        { return errors.ErrUnsupported }
func (b *blockingStore) Unlock(context.Context, string) error      { return errors.ErrUnsupported }

// settled takes what ch holds once every goroutine of the test's
// synctest bubble is blocked: an assertion on order (it happened before
// everything went idle), never on how long it took.
func settled(t *testing.T, ch <-chan string, what string) string {
	t.Helper()
	synctest.Wait()
	select {
	case op := <-ch:
		return op
	default:
		t.Fatalf("%s had not happened by the time every goroutine was idle", what)
		return ""
	}
}

// asyncHarness runs commands in goroutines, as the real program does, and
// collects their messages; for stores that block. Use it inside a synctest
// bubble: its waits are then on fake time, which passes only once every
// goroutine is blocked — an assertion on order, never on speed.
type asyncHarness struct {
	t    *testing.T
	m    *Model
	wg   sync.WaitGroup
	msgs chan tea.Msg
}

func newAsyncHarness(t *testing.T, s stores.Store) *asyncHarness {
	t.Helper()
	return newAsyncHarnessWith(t, Options{Session: Session{Store: s, Name: "blocking"}})
}

func newAsyncHarnessWith(t *testing.T, opts Options) *asyncHarness {
	t.Helper()
	opts.Now = fixedNow
	opts.StateDir = t.TempDir()
	m, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &asyncHarness{t: t, m: m, msgs: make(chan tea.Msg, 256)}
	h.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	h.run(m.Init())
	return h
}

func (h *asyncHarness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		switch msg := cmd().(type) {
		case nil, spinner.TickMsg:
		case tea.BatchMsg:
			for _, c := range msg {
				h.run(c)
			}
		default:
			h.msgs <- msg
		}
	}()
}

func (h *asyncHarness) send(msg tea.Msg) {
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

func (h *asyncHarness) keys(keys ...string) {
	for _, k := range keys {
		h.send(keyPress(k))
	}
}

// next is the next message a command produced.
func (h *asyncHarness) next(d time.Duration) tea.Msg {
	h.t.Helper()
	select {
	case msg := <-h.msgs:
		return msg
	case <-time.After(d):
		h.t.Fatalf("no message within %s", d)
		return nil
	}
}

// close leaves every view and waits for every command goroutine.
func (h *asyncHarness) close() {
	h.m.Close()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
			return
		case <-h.msgs: // drain so no command blocks on a full channel
		case <-time.After(2 * time.Second):
			h.t.Fatal("commands still running 2s after every view was left")
		}
	}
}
