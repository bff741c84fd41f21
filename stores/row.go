package stores

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"
	"unique"
)

// Row is a listed record reduced to what a table shows, sorts and filters
// on, and where to fetch the whole record: a few hundred bytes however
// large its outputs and config are. Views open, diff or repair a record
// by fetching it (Get, GetVersioned); nothing else of it is kept per row.
type Row struct {
	ID string
	// Source says where the record lives (file path, object key, row).
	Source string
	// Problem is empty for a good record, otherwise why it could not be
	// read, or (Readable) what else is wrong with it, such as a conflict.
	Problem string
	// Readable: the record decoded, so the fields below are its own.
	Readable                                  bool
	ResourceType, Provider, Status, UpdatedAt string
	// Error is the record's error text (set by the engine on failure).
	Error string
	// Dependencies are the IDs the record depends on (nil for none): few
	// and short, and the table flags a dependency no record has.
	Dependencies []string
	// Version is the backend's version of the record as read (ETag,
	// generation, updated_at); empty where the store has none.
	Version string
}

// Corrupt reports whether the record could not be decoded.
func (r Row) Corrupt() bool { return r.Problem != "" }

// IsStuck is State.IsStuck for the row's record.
func (r Row) IsStuck(now time.Time, threshold time.Duration) bool {
	return (&State{Status: r.Status, UpdatedAt: r.UpdatedAt}).IsStuck(now, threshold)
}

// NewRow is the row of a good record. Rows share one copy of each type,
// provider and status string: they repeat across records.
func NewRow(id, resourceType, provider, status, updatedAt string) Row {
	return Row{ID: id, Readable: true, ResourceType: intern(resourceType), Provider: intern(provider), Status: intern(status), UpdatedAt: updatedAt}
}

// WithDependencies sets the row's dependencies, sharing one copy of each
// ID across rows (many records depend on the same few); none is nil.
func (r Row) WithDependencies(deps []string) Row {
	r.Dependencies = nil
	if len(deps) > 0 {
		r.Dependencies = make([]string, len(deps))
		for i, d := range deps {
			r.Dependencies[i] = intern(d)
		}
	}
	return r
}

// RowOf reduces a listed entry to its row.
func RowOf(e Entry, version string) Row {
	r := Row{ID: e.ID}
	if s := e.State; s != nil {
		r = NewRow(e.ID, s.ResourceType, s.Provider, s.Status, s.UpdatedAt).WithDependencies(s.Dependencies)
		r.Error = s.Error
	}
	r.Source, r.Problem, r.Version = e.Source, e.Problem, version
	return r
}

func intern(s string) string { return unique.Make(s).Value() }

// Interner shares one copy of each repeated string within one listing
// (type, provider, status): a map lookup, cheaper than NewRow's
// process-wide sharing. Not safe for concurrent use.
type Interner map[string]string

// intern is the listing's copy of b's text, allocated only the first time.
func (in Interner) intern(b []byte) string {
	if v, ok := in[string(b)]; ok {
		return v
	}
	s := string(b)
	in[s] = s
	return s
}

// Row is the row of a good record, as NewRow(…).WithDependencies(deps)
// makes it, from its type, provider and status as read (bytes), sharing
// them within the listing. deps is kept as given: dependency IDs mostly
// differ from record to record.
func (in Interner) Row(id string, resourceType, provider, status []byte, updatedAt string, deps []string) Row {
	if len(deps) == 0 {
		deps = nil
	}
	return Row{ID: id, Readable: true, ResourceType: in.intern(resourceType), Provider: in.intern(provider),
		Status: in.intern(status), UpdatedAt: updatedAt, Dependencies: deps}
}

// rowShape is a record's top level as DecodeState reads it, with only the
// listed fields kept: every other field is checked for the type DecodeState
// needs (so a row is corrupt exactly when the record is) but not built.
type rowShape struct {
	ResourceID   string     `json:"resource_id"`
	ResourceType string     `json:"resource_type"`
	Provider     string     `json:"provider"`
	ProviderRef  kind       `json:"provider_ref"`
	ProviderID   kind       `json:"provider_id"`
	ConfigHash   kind       `json:"config_hash"`
	Status       string     `json:"status"`
	Outputs      objectKind `json:"outputs"`
	Config       objectKind `json:"config"`
	Dependencies []string   `json:"dependencies"`
	CreatedAt    kind       `json:"created_at"`
	UpdatedAt    string     `json:"updated_at"`
	Error        string     `json:"error"`
}

// errShape: a value has a type DecodeState would refuse.
var errShape = errors.New("value of the wrong type")

// kind accepts what decodes into a string field: a string or null.
type kind struct{}

func (kind) UnmarshalJSON(b []byte) error { return wantFirst(b, '"') }

// objectKind accepts what decodes into map[string]any: an object or null.
type objectKind struct{}

func (objectKind) UnmarshalJSON(b []byte) error { return wantFirst(b, '{') }

// wantFirst accepts a value that starts with c, or null. The decoder has
// already checked the value's syntax before handing it over.
func wantFirst(b []byte, c byte) error {
	if len(b) > 0 && (b[0] == c || b[0] == 'n') {
		return nil
	}
	return errShape
}

// DecodeRow reads a record's row without building its outputs and config.
// It accepts and refuses exactly what DecodeState does, with the same
// error; Source, Problem and Version are left to the caller.
func DecodeRow(data []byte) (Row, error) {
	var sh rowShape
	if json.Unmarshal(data, &sh) != nil || sh.ResourceID == "" {
		// Rare: let DecodeState say why, in its words (it also accepts a
		// few trailing bytes Unmarshal refuses).
		s, err := DecodeState(data)
		if err != nil {
			return Row{}, err
		}
		return RowOf(Entry{ID: s.ResourceID, State: s}, ""), nil
	}
	r := NewRow(sh.ResourceID, sh.ResourceType, sh.Provider, sh.Status, sh.UpdatedAt).WithDependencies(sh.Dependencies)
	r.Error = sh.Error
	return r, nil
}

// RowLister is optional: listing rows without decoding outputs and config,
// and refreshing a listing at the cost of what changed. known is asked, for
// each listed record, with its source and the version the listing reports;
// when it returns a row (the one read before at that version) the store
// yields that row instead of fetching the record again. known may be nil
// and may be called from several goroutines.
type RowLister interface {
	ListRows(ctx context.Context, f Filter, known func(source, version string) (Row, bool), yield func([]Row) error) error
}

// AllRows is every row ListRows gives, in one slice: for readers that need
// the whole listing at once (the dependency graph, check).
func AllRows(ctx context.Context, s Store, f Filter, known func(source, version string) (Row, bool)) ([]Row, error) {
	var batches [][]Row
	err := ListRows(ctx, s, f, known, func(batch []Row) error {
		batches = append(batches, batch)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// One copy at the end: rows are large, and growing a slice batch by
	// batch copies them again and again.
	return slices.Concat(batches...), nil
}

// Known offers rows read before to a refresh (RowLister's known): the row
// at a source is reused when the store lists the record at the version it
// was read at. nil when no row has a version.
func Known(rows []Row) func(source, version string) (Row, bool) {
	bySource := make(map[string]Row, len(rows))
	for _, r := range rows {
		if r.Version != "" {
			bySource[r.Source] = r
		}
	}
	if len(bySource) == 0 {
		return nil
	}
	return func(source, version string) (Row, bool) {
		r, ok := bySource[source]
		return r, ok && r.Version == version
	}
}

// RawRow is a listed row with its record's stored bytes (nil for a record
// that cannot be read; a readable one may still have a problem, such as a
// conflict).
type RawRow struct {
	Row
	Data []byte
}

// RawLister is optional: listing rows with each record's stored bytes,
// which DecodeRow accepted, without building the records — for callers
// that only write records out again (list -o json). Batches, filter and
// conflicts are as Stream gives them.
type RawLister interface {
	ListRaw(ctx context.Context, f Filter, yield func([]RawRow) error) error
}

// ListRows lists s's rows in batches as they arrive: through its RowLister
// when it has one, otherwise by reducing each streamed entry to its row as
// its batch arrives, so no decoded record outlives its batch.
func ListRows(ctx context.Context, s Store, f Filter, known func(source, version string) (Row, bool), yield func([]Row) error) error {
	if rl, ok := s.(RowLister); ok {
		return rl.ListRows(ctx, f, known, yield)
	}
	return Stream(ctx, s, f, func(batch []Entry) error {
		rows := make([]Row, len(batch))
		for i, e := range batch {
			rows[i] = RowOf(e, "")
		}
		return yield(rows)
	})
}
