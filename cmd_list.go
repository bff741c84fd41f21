package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"statescope/stores"
	"statescope/stores/jsondoc"
	"statescope/stores/printable"
	"statescope/stores/redact"
)

func init() { commands = append(commands, (*app).listCommand) }

func (a *app) listCommand() *cobra.Command {
	var f stores.Filter
	var output string
	var reveal bool
	var fleetSel fleetFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the resources in the store",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			if f.Status != "" && !slices.Contains(stores.Statuses, f.Status) {
				return usageError{fmt.Errorf("--status %q is not a workflow status (use one of %s)", f.Status, strings.Join(stores.Statuses, ", "))}
			}
			if many, err := fleetSel.enabled(); err != nil {
				return err
			} else if many {
				return a.listFleet(cmd.Context(), &fleetSel, f, output == "json", reveal)
			}
			s, name, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer stores.Close(s)
			noState := fmt.Errorf("no state in %s: it holds no records", name)
			if output == "json" {
				n, err := writeListJSON(a.out, a.listItems(cmd.Context(), s, f, reveal), f == (stores.Filter{}))
				if err == nil && n == 0 && f == (stores.Filter{}) {
					err = noState
				}
				return err
			}
			entries, err := s.List(cmd.Context(), f)
			if err != nil {
				return err
			}
			if len(entries) == 0 && f == (stores.Filter{}) {
				return noState
			}
			locks := a.lockIndex(cmd.Context(), s)
			if err := writeListTable(a.out, entries, locks, a.now(), a.staleAfter); err != nil {
				return err
			}
			writeCorruptNotes(a.errOut, entries)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Status, "status", "", "only records with this status")
	fl.StringVar(&f.ResourceType, "type", "", "only records of this resource type")
	fl.StringVar(&f.Provider, "provider", "", "only records of this provider")
	outputFlag(cmd, &output, "table", "json")
	fl.BoolVar(&reveal, "reveal", false, "show secret-looking values in -o json")
	fleetSel.register(cmd)
	return cmd
}

func checkOutput(got string, allowed ...string) error {
	for _, a := range allowed {
		if got == a {
			return nil
		}
	}
	return usageError{fmt.Errorf("unknown output format %q (use %s)", got, strings.Join(allowed, ", "))}
}

// lockIndex returns the judged lock inventory by resource ID, or nil when
// the store has none or it failed: whether a record is locked is unknown
// then, and says so. A failing inventory does not fail a listing.
func (a *app) lockIndex(ctx context.Context, s stores.Store) map[string]stores.LockInfo {
	ll, ok := s.(stores.LockLister)
	if !ok {
		return nil
	}
	locks, err := ll.Locks(ctx)
	if err != nil {
		fmt.Fprintln(a.errOut, "statescope: lock inventory unavailable:", err)
		return nil
	}
	stores.Judge(locks, a.now(), a.staleAfter)
	idx := make(map[string]stores.LockInfo, len(locks))
	for _, l := range locks {
		idx[l.ResourceID] = l
	}
	return idx
}

func writeListTable(w io.Writer, entries []stores.Entry, locks map[string]stores.LockInfo, now time.Time, staleAfter time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, listHeader)
	for _, e := range entries {
		fmt.Fprintln(tw, listRow(e, locks, now, staleAfter))
	}
	return tw.Flush()
}

// writeCorruptNotes says why each unreadable record is unreadable, on
// stderr, so the table on stdout stays one row per record.
func writeCorruptNotes(w io.Writer, entries []stores.Entry) {
	for _, e := range entries {
		if e.Corrupt() {
			fmt.Fprintf(w, "corrupt: %s (%s): %s\n", printable.Escape(e.ID), printable.Escape(e.Source), printable.Escape(e.Problem))
		}
	}
}

const listHeader = "ID\tTYPE\tPROVIDER\tSTATUS\tLOCK\tUPDATED"

// listRow is one record's table row, tab-separated.
func listRow(e stores.Entry, locks map[string]stores.LockInfo, now time.Time, staleAfter time.Duration) string {
	lock := lockCell(locks, e.ID, now)
	if e.Corrupt() {
		return cells(e.ID, "-", "-", "CORRUPT", lock, "-")
	}
	s := e.State
	status := s.Status
	if s.IsStuck(now, staleAfter) {
		status += " (stuck)"
	}
	return cells(s.ResourceID, dash(s.ResourceType), dash(s.Provider), dash(status), lock, stores.RelativeAge(s.UpdatedAt, now))
}

// cells is a table row: values read from a store may hold tabs, newlines
// or escapes, so what does not print is escaped and the columns hold.
func cells(values ...string) string {
	for i, v := range values {
		values[i] = printable.Escape(v)
	}
	return strings.Join(values, "\t")
}

func lockCell(locks map[string]stores.LockInfo, id string, now time.Time) string {
	if locks == nil {
		return "?"
	}
	l, ok := locks[id]
	if !ok {
		return "-"
	}
	age := "locked"
	if !l.AcquiredAt.IsZero() {
		age = stores.HumanDuration(l.Age(now))
	}
	if l.Verdict == stores.VerdictOrphaned || l.Verdict == stores.VerdictStale {
		age += " " + string(l.Verdict)
	}
	return age
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// listItems streams the store's JSON elements batch by batch: from the
// records' stored bytes where the store lists them (nothing is decoded
// that is only written out again), otherwise from the decoded records.
func (a *app) listItems(ctx context.Context, s stores.Store, f stores.Filter, reveal bool) func(yield func([]listItem) error) error {
	locks := a.lockIndex(ctx, s)
	return func(yield func([]listItem) error) error {
		if rl, ok := stores.Unwrap(s).(stores.RawLister); ok {
			return rl.ListRaw(ctx, f, func(batch []stores.RawRow) error {
				items := make([]listItem, len(batch))
				for i, r := range batch {
					e := stores.Entry{ID: r.ID, Source: r.Source, Problem: a.redact(r.Problem)}
					items[i] = listEntryItem(e, locks, reveal, "")
					items[i].raw = r.Data
				}
				return yield(items)
			})
		}
		return stores.Stream(ctx, s, f, func(batch []stores.Entry) error {
			items := make([]listItem, len(batch))
			for i, e := range batch {
				e.Problem = a.redact(e.Problem) // a backend's words
				items[i] = listEntryItem(e, locks, reveal, "")
			}
			return yield(items)
		})
	}
}

// listItem is one element of `list -o json`: the record's own fields under
// their workflow names, masked unless reveal, plus whether it is locked
// (null: the store cannot say, e.g. a stock workflow plugin without a lock
// inventory) and, with --all-contexts/--contexts, its context. An
// unreadable record is its ID, source and why it is corrupt instead.
type listItem struct {
	entry stores.Entry
	// raw is the record's stored bytes when it was listed without being
	// decoded (entry.State is nil then).
	raw     []byte
	locked  *bool
	context string
	reveal  bool
}

// listEntryItem is one entry's JSON element; locked is null when locks is
// nil (the store cannot say); context is set when several contexts are
// listed.
func listEntryItem(e stores.Entry, locks map[string]stores.LockInfo, reveal bool, context string) listItem {
	it := listItem{entry: e, context: context, reveal: reveal}
	if locks != nil {
		_, held := locks[e.ID]
		it.locked = &held
	}
	return it
}

func (it listItem) MarshalJSON() ([]byte, error) {
	return it.appendJSON(nil, redact.JSON{}, 0)
}

// appendJSON appends the item at depth in layout's indentation, fields in
// upstream's order and left out where upstream leaves them out, as
// encoding/json would write the record with its outputs and config masked
// (unless reveal).
func (it listItem) appendJSON(dst []byte, layout redact.JSON, depth int) ([]byte, error) {
	j := layout
	j.Reveal = it.reveal
	o := j.Object(dst, depth)
	str := func(key, v string) {
		o.Key(key)
		o.Buf = redact.AppendString(o.Buf, v)
	}
	opt := func(key, v string) {
		if v != "" {
			str(key, v)
		}
	}
	e, s := it.entry, it.entry.State
	if s == nil && it.raw != nil && !e.Corrupt() {
		if fields, ok := rawRecordFields(it.raw); ok {
			return it.appendRaw(&o, j, depth, &fields)
		}
		// Rare: the bytes need decoding to be read as upstream reads them.
		var err error
		if s, err = stores.DecodeState(it.raw); err != nil {
			return nil, fmt.Errorf("%s: %w", e.ID, err)
		}
	}
	switch {
	case e.Corrupt():
		str("resource_id", e.ID)
		str("source", e.Source)
		str("corrupt", e.Problem)
	case s == nil:
		return nil, fmt.Errorf("%s: listed without its record", e.ID)
	default:
		str("resource_id", s.ResourceID)
		str("resource_type", s.ResourceType)
		str("provider", s.Provider)
		opt("provider_ref", s.ProviderRef)
		opt("provider_id", s.ProviderID)
		opt("config_hash", s.ConfigHash)
		str("status", s.Status)
		var err error
		for _, m := range []struct {
			key string
			m   map[string]any
		}{{"outputs", s.Outputs}, {"config", s.Config}} {
			o.Key(m.key)
			if o.Buf, err = j.AppendMap(o.Buf, depth+1, m.m); err != nil {
				return nil, err
			}
		}
		if len(s.Dependencies) > 0 {
			o.Key("dependencies")
			o.Buf = j.AppendStrings(o.Buf, depth+1, s.Dependencies)
		}
		str("created_at", s.CreatedAt)
		str("updated_at", s.UpdatedAt)
		opt("error", s.Error)
	}
	return it.end(&o), nil
}

// end writes the fields after the record's own and closes the item.
func (it listItem) end(o *redact.Object) []byte {
	o.Key("locked")
	switch {
	case it.locked == nil:
		o.Buf = append(o.Buf, "null"...)
	case *it.locked:
		o.Buf = append(o.Buf, "true"...)
	default:
		o.Buf = append(o.Buf, "false"...)
	}
	if it.context != "" {
		o.Key("context")
		o.Buf = redact.AppendString(o.Buf, it.context)
	}
	return o.End()
}

// recordKeys are the record's JSON keys in upstream's order, and whether
// upstream leaves out an empty value (omitempty).
var recordKeys = [...]recordKey{
	{"resource_id", false}, {"resource_type", false}, {"provider", false}, {"provider_ref", true},
	{"provider_id", true}, {"config_hash", true}, {"status", false}, {"outputs", false},
	{"config", false}, {"dependencies", true}, {"created_at", false}, {"updated_at", false},
	{"error", true},
}

type recordKey struct {
	key       string
	omitEmpty bool
}

// isMap: outputs and config, the fields that are masked.
func (k recordKey) isMap() bool { return k.key == "outputs" || k.key == "config" }

// rawFields are a record's field values as written, in recordKeys' order.
type rawFields [len(recordKeys)][]byte

// rawRecordFields finds the values of a record's fields in its bytes (nil:
// absent). ok is false when the bytes must be decoded to be read as
// encoding/json reads them: a key that is not one of recordKeys as written
// there (escaped, in another case, unknown), a repeated key, or a null
// where a string or the dependencies belong.
func rawRecordFields(data []byte) (fields rawFields, ok bool) {
	ok = true
	err := jsondoc.Keys(data, func(rawKey, value []byte) {
		i := slices.IndexFunc(recordKeys[:], func(k recordKey) bool {
			return len(rawKey) == len(k.key)+2 && string(rawKey[1:len(rawKey)-1]) == k.key
		})
		switch {
		case i < 0 || fields[i] != nil:
			ok = false
		case !recordKeys[i].isMap() && (value[0] == 'n' || (value[0] == '[' && bytes.Contains(value, []byte("null")))):
			ok = false
		default:
			fields[i] = value
		}
	})
	return fields, ok && err == nil
}

// appendRaw writes a record from its fields as written, as appendJSON
// writes it decoded.
func (it listItem) appendRaw(o *redact.Object, j redact.JSON, depth int, fields *rawFields) ([]byte, error) {
	plain := j
	plain.Reveal = true // the record's own strings are never masked
	for i, k := range recordKeys {
		v := fields[i]
		if k.omitEmpty && isEmptyJSON(v) {
			continue
		}
		o.Key(k.key)
		var err error
		switch {
		case v == nil && k.isMap():
			o.Buf = append(o.Buf, "null"...)
		case v == nil:
			o.Buf = append(o.Buf, `""`...)
		case k.isMap():
			o.Buf, err = j.AppendRaw(o.Buf, depth+1, "", v)
		default:
			o.Buf, err = plain.AppendRaw(o.Buf, depth+1, "", v)
		}
		if err != nil {
			return nil, err
		}
	}
	return it.end(o), nil
}

// isEmptyJSON: absent, "" or [] — what omitempty leaves out.
func isEmptyJSON(v []byte) bool {
	return v == nil || string(v) == `""` || (v[0] == '[' && len(bytes.TrimSpace(v[1:len(v)-1])) == 0)
}

// writeListJSON writes the items as one JSON array as they are listed:
// they are gathered in chunks, each chunk is encoded by one of GOMAXPROCS
// encoders and written and flushed as soon as it is, so nothing holds the
// whole store and the listing goes on while they encode (it waits only
// when all of them are busy). Items keep
// their order within a chunk; chunks are written as they complete. The
// document is what json.Encoder with a two-space indent writes for the
// array in that order. With emptyIsError nothing is written for an empty
// listing (the caller reports it); otherwise it is []. It returns how many
// items were written.
func writeListJSON(w io.Writer, stream func(yield func([]listItem) error) error, emptyIsError bool) (int, error) {
	lw := &listWriter{bw: bufio.NewWriterSize(w, 64<<10)}
	chunks := make(chan []listItem)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var buf []byte
			for c := range chunks {
				buf = lw.write(buf[:0], c)
			}
		})
	}
	var chunk []listItem
	size := 0
	err := stream(func(batch []listItem) error {
		for _, it := range batch {
			chunk = append(chunk, it)
			size += len(it.raw)
			if len(chunk) == chunkItems || size >= chunkBytes {
				chunks <- chunk
				chunk, size = nil, 0
			}
		}
		return lw.failed()
	})
	if err == nil && len(chunk) > 0 {
		chunks <- chunk
	}
	close(chunks)
	wg.Wait()
	if err = cmp.Or(err, lw.err); err != nil {
		return lw.n, err
	}
	switch {
	case lw.n > 0:
		lw.bw.WriteString("\n]\n")
	case !emptyIsError:
		lw.bw.WriteString("[]\n")
	}
	return lw.n, lw.bw.Flush()
}

// A chunk is encoded when it holds chunkItems items or chunkBytes of
// stored records, whichever comes first: enough to keep the hand-overs
// rare, little enough to bound what is held.
const (
	chunkItems = 64
	chunkBytes = 1 << 20
)

// listWriter is the output writeListJSON's encoders share.
type listWriter struct {
	mu  sync.Mutex
	bw  *bufio.Writer
	n   int
	err error
}

func (lw *listWriter) failed() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.err
}

// write encodes a chunk's items into buf, each after the separator that
// follows an array element, then writes and flushes them; the first chunk
// written opens the array instead. It returns buf for reuse.
func (lw *listWriter) write(buf []byte, chunk []listItem) []byte {
	j := redact.JSON{Prefix: "  ", Indent: "  "}
	var err error
	for _, it := range chunk {
		if buf, err = it.appendJSON(append(buf, ",\n  "...), j, 0); err != nil {
			break
		}
	}
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.err = cmp.Or(lw.err, err); lw.err != nil {
		return buf
	}
	out := buf
	if lw.n == 0 {
		lw.bw.WriteByte('[')
		out = buf[1:]
	}
	lw.bw.Write(out)
	lw.n += len(chunk)
	lw.err = lw.bw.Flush()
	return buf
}
