package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"statescope/stores"
)

// selectCols reads a row. JSONB comes back as text and is decoded with
// UseNumber so large integers stay exact; timestamps are scanned as times.
const selectCols = `name, type, provider, provider_ref, provider_id, status, config_hash,
	outputs::text, applied_config::text, dependencies, created_at, updated_at`

// Writes never send created_at (the database sets it on insert, as the
// engine's store does). updated_at is the record's version for the
// conditional writes, so it must change on every write even when two writes
// fall in the same microsecond or the clock steps back.
const (
	insertSQL = `INSERT INTO iac_resources AS r
	(name, type, provider, provider_ref, provider_id, status, config_hash, outputs, applied_config, dependencies)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	nextVersion = `GREATEST(NOW(), r.updated_at + interval '1 microsecond')`
	setCols     = `(type, provider, provider_ref, provider_id, status, config_hash, outputs, applied_config, dependencies, updated_at)`
	upsertSQL   = insertSQL + ` ON CONFLICT (name) DO UPDATE SET ` + setCols + ` =
	(EXCLUDED.type, EXCLUDED.provider, EXCLUDED.provider_ref, EXCLUDED.provider_id, EXCLUDED.status,
	 EXCLUDED.config_hash, EXCLUDED.outputs, EXCLUDED.applied_config, EXCLUDED.dependencies, ` + nextVersion + `)`
	createOnlySQL = insertSQL + ` ON CONFLICT (name) DO NOTHING`
	updateIfSQL   = `UPDATE iac_resources AS r SET ` + setCols + ` =
	($2, $3, $4, $5, $6, $7, $8, $9, $10, ` + nextVersion + `) WHERE name = $1 AND updated_at = $11`
)

// source names a row for entries and errors.
func source(name string) string { return "iac_resources row name=" + strconv.Quote(name) }

// scanState reads the current row. The returned state always carries the
// row's columns; problem is set (and the maps left nil) when outputs or
// applied_config is not a JSON object or null. The JSON columns are read
// in place (RawValues) and decoded by dec, which a whole listing shares.
func scanState(rows pgx.Rows, dec *objectDecoder) (st *stores.State, updated time.Time, problem string, err error) {
	var s stores.State
	var created, upd pgtype.Timestamptz
	err = rows.Scan(&s.ResourceID, &s.ResourceType, &s.Provider, &s.ProviderRef, &s.ProviderID, &s.Status, &s.ConfigHash,
		nil, nil, &s.Dependencies, &created, &upd)
	if err != nil {
		return nil, time.Time{}, "", err
	}
	if len(s.Dependencies) == 0 {
		s.Dependencies = nil
	}
	var problems []string
	var p string
	if s.CreatedAt, p = readableTime("created_at", created); p != "" {
		problems = append(problems, p)
	}
	if s.UpdatedAt, p = readableTime("updated_at", upd); p != "" {
		problems = append(problems, p)
	}
	updated = upd.Time
	raw := rows.RawValues()
	if s.Outputs, p = dec.decode("outputs", raw[7]); p != "" {
		problems = append(problems, p)
	}
	if s.Config, p = dec.decode("applied_config", raw[8]); p != "" {
		problems = append(problems, p)
	}
	if len(problems) > 0 {
		s.Outputs, s.Config = nil, nil
	}
	return &s, updated, strings.Join(problems, "; "), nil
}

// readableTime formats a timestamp column the engine's way, or says why
// it has no such form (±infinity, a year outside 1–9999): such a row is
// listed as unreadable instead of failing the whole listing.
func readableTime(column string, t pgtype.Timestamptz) (string, string) {
	if p := timeProblem(column, t); p != "" {
		return "", p
	}
	return stores.FormatTime(t.Time), ""
}

// timeProblem is why readableTime refuses t, or "".
func timeProblem(column string, t pgtype.Timestamptz) string {
	switch {
	case t.InfinityModifier != pgtype.Finite:
		return fmt.Sprintf("%s is %s, which has no RFC 3339 form", column, t.InfinityModifier)
	case t.Time.Year() < 1 || t.Time.Year() > 9999:
		return fmt.Sprintf("%s is in the year %d, outside the RFC 3339 range", column, t.Time.Year())
	}
	return ""
}

// unreadableTimesSQL finds rows readableTime refuses. Timestamps come
// back as text so they always scan.
const unreadableTimesSQL = `SELECT name, created_at::text, updated_at::text FROM iac_resources
WHERE NOT isfinite(created_at) OR NOT isfinite(updated_at)
	OR created_at < '0001-01-01 00:00:00+00' OR updated_at < '0001-01-01 00:00:00+00'
	OR created_at >= '10000-01-01 00:00:00+00' OR updated_at >= '10000-01-01 00:00:00+00'
ORDER BY name`

// UnreadableTime is a row whose created_at or updated_at has no RFC 3339
// form (±infinity, a year outside 1–9999), with both as PostgreSQL
// prints them, and the source List gives its unreadable entry.
type UnreadableTime struct{ Name, CreatedAt, UpdatedAt, Source string }

// UnreadableTimes lists the rows whose timestamps upstream cannot read
// (List has them as unreadable); a missing table has none.
func (s *Store) UnreadableTimes(ctx context.Context) ([]UnreadableTime, error) {
	rows, _ := s.pool.Query(ctx, unreadableTimesSQL) // its error comes back through rows too
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnreadableTime, error) {
		var u UnreadableTime
		err := r.Scan(&u.Name, &u.CreatedAt, &u.UpdatedAt)
		u.Source = source(u.Name)
		return u, err
	})
	if err != nil {
		if isCode(err, codeUndefinedTable) {
			return nil, nil
		}
		return nil, s.fail(ctx, "timestamp check", "", err)
	}
	return found, nil
}

// objectDecoder decodes JSONB text with UseNumber, one value after another
// through a single json.Decoder, so its buffer is reused across rows
// instead of a decoder and buffer being made for every column.
type objectDecoder struct {
	feed jsonFeed
	dec  *json.Decoder
}

// decode reads a JSONB column: an object, or null for a nil map.
func (d *objectDecoder) decode(column string, data []byte) (map[string]any, string) {
	if string(data) == "null" {
		return nil, "" // what decoding it gives, and every shape-only read
	}
	if d.dec == nil {
		d.dec = json.NewDecoder(&d.feed)
		d.dec.UseNumber()
	}
	d.feed.pending, d.feed.pad = data, true
	var m map[string]any
	if err := d.dec.Decode(&m); err != nil {
		d.dec = nil // its buffer may hold the rest of a bad value
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Sprintf("%s is a JSON %s, not an object", column, te.Value)
		}
		return nil, fmt.Sprintf("%s is unreadable: %v", column, err)
	}
	return m, ""
}

// jsonFeed serves one value, then a single space so a top-level literal
// such as null ends, then EOF: a value can never run into the next one.
type jsonFeed struct {
	pending []byte
	pad     bool
}

func (f *jsonFeed) Read(p []byte) (int, error) {
	switch {
	case len(f.pending) > 0:
		n := copy(p, f.pending)
		f.pending = f.pending[n:]
		return n, nil
	case f.pad:
		f.pad = false
		p[0] = ' '
		return 1, nil
	}
	return 0, io.EOF
}

// writeArgs are the ten insert parameters. A nil map is written as JSON
// null, as the engine does; dependencies are never NULL (the column is NOT
// NULL, which the engine's own store trips over).
func writeArgs(s *stores.State) ([]any, error) {
	outputs, err := json.Marshal(s.Outputs)
	if err != nil {
		return nil, fmt.Errorf("outputs: %w", err)
	}
	config, err := json.Marshal(s.Config)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	deps := s.Dependencies
	if deps == nil {
		deps = []string{}
	}
	return []any{s.ResourceID, s.ResourceType, s.Provider, s.ProviderRef, s.ProviderID, s.Status, s.ConfigHash,
		string(outputs), string(config), deps}, nil
}

func version(updated time.Time) string { return updated.UTC().Format(time.RFC3339Nano) }

// parseVersion reads a version back; one that does not parse cannot match
// any row.
func parseVersion(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("version %q is not an updated_at from this store: %w", v, stores.ErrConflict)
	}
	return t, nil
}

// Get reads one record. A row whose JSON columns are not objects is
// ErrCorrupt.
func (s *Store) Get(ctx context.Context, id string) (*stores.State, error) {
	v, err := s.GetVersioned(ctx, id)
	return v.State, err
}

// GetVersioned reads a record with its updated_at as the version. For a
// corrupt row it returns the version with an ErrCorrupt error, so a repair
// can still replace the row conditionally.
func (s *Store) GetVersioned(ctx context.Context, id string) (stores.Versioned, error) {
	if err := ctx.Err(); err != nil {
		return stores.Versioned{}, err
	}
	rows, err := s.pool.Query(ctx, "SELECT "+selectCols+" FROM iac_resources WHERE name = $1", id)
	if err != nil {
		return stores.Versioned{}, s.readFail(ctx, id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		err := rows.Err()
		if err == nil {
			err = stores.ErrNotFound
		}
		return stores.Versioned{}, s.readFail(ctx, id, err)
	}
	st, updated, problem, err := scanState(rows, &objectDecoder{})
	switch {
	case err != nil:
		return stores.Versioned{}, s.fail(ctx, "get", id, err)
	case problem != "":
		return stores.Versioned{Version: version(updated)}, s.fail(ctx, "get", id, fmt.Errorf("%s: %w: %s", source(id), stores.ErrCorrupt, problem))
	}
	return stores.Versioned{State: st, Version: version(updated)}, nil
}

// readFail maps a missing table to ErrNotFound: nothing was ever saved.
func (s *Store) readFail(ctx context.Context, id string, err error) error {
	if isCode(err, codeUndefinedTable) {
		err = stores.ErrNotFound
	}
	return s.fail(ctx, "get", id, err)
}

// List reads every row and filters in Go, as the engine does; rows that
// cannot be decoded come back as corrupt entries, never dropped.
func (s *Store) List(ctx context.Context, f stores.Filter) ([]stores.Entry, error) {
	return s.list(ctx, f, selectCols)
}

func (s *Store) list(ctx context.Context, f stores.Filter, cols string) ([]stores.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, done, err := s.listQuery(ctx, "SELECT "+cols+" FROM iac_resources ORDER BY name")
	if err != nil {
		return nil, s.noTable(ctx, err)
	}
	defer done()
	var out []stores.Entry
	var dec objectDecoder
	for rows.Next() {
		st, _, problem, err := scanState(rows, &dec)
		if err != nil {
			return nil, s.fail(ctx, "list", "", err)
		}
		e := stores.Entry{ID: st.ResourceID, Source: source(st.ResourceID)}
		if problem != "" {
			e.Problem = problem
		} else {
			e.State = st
		}
		if f.Match(e) {
			out = append(out, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.noTable(ctx, err)
	}
	return out, nil
}

// jsonShape reads a JSON column without its content: an object or null
// comes back as the text null, anything else as itself, so the problem it
// makes is reported in the same words as by scanState.
func jsonShape(column string) string {
	return `CASE WHEN jsonb_typeof(` + column + `) IN ('object', 'null') THEN 'null' ELSE ` + column + `::text END`
}

var (
	outputsShape = jsonShape("outputs")
	configShape  = jsonShape("applied_config")
)

// noTable is a listing's error, or none when the table does not exist:
// nothing was ever saved.
func (s *Store) noTable(ctx context.Context, err error) error {
	if isCode(err, codeUndefinedTable) {
		return nil
	}
	return s.fail(ctx, "list", "", err)
}

// listQuery sends a listing in one round trip with every result column in
// binary form (pool.QueryBinary). done closes the rows and hands the
// connection back.
func (s *Store) listQuery(ctx context.Context, sql string) (rows pgx.Rows, done func(), err error) {
	rows, err = s.pool.QueryBinary(ctx, sql)
	if err != nil {
		return nil, nil, err
	}
	return rows, rows.Close, nil
}

// rowCols reads a listed row, its dependencies too, without its JSON
// (jsonShape). created_at is read only to refuse what List refuses.
var rowCols = `name, type, provider, status, created_at, updated_at, ` + outputsShape + `, ` + configShape + `, dependencies`

// rowBatch is how many rows ListRows hands over at a time.
const rowBatch = 256

// ListRows reads the table's rows without their outputs and config
// (stores.RowLister), in batches as they arrive, in no particular order
// (sorting them is the server's costliest step in a small listing, and
// every reader of rows sorts or indexes them itself), updated_at as each
// row's version. A row known recognises at its version is yielded as
// known has it; reading it cost no more than its version.
func (s *Store) ListRows(ctx context.Context, f stores.Filter, known func(source, version string) (stores.Row, bool), yield func([]stores.Row) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rows, done, err := s.listQuery(ctx, "SELECT "+rowCols+" FROM iac_resources")
	if err != nil {
		return s.noTable(ctx, err)
	}
	defer done()
	var dec objectDecoder
	in := stores.Interner{}
	batch := make([]stores.Row, 0, rowBatch)
	// Scanned into the same variables row after row: Scan's arguments
	// escape, so declaring them in the loop allocated each one per row.
	var name string
	var created, updated pgtype.Timestamptz
	var deps []string
	for rows.Next() {
		deps = nil // a row keeps its slice: Scan must make a new one
		if err := rows.Scan(&name, nil, nil, nil, &created, &updated, nil, nil, &deps); err != nil {
			return s.fail(ctx, "list", "", err)
		}
		// type, provider and status repeat from row to row: read from the
		// row's bytes (text in binary form too) into the listing's copies.
		raw := rows.RawValues()
		for i, col := range []string{"type", "provider", "status"} {
			if raw[1+i] == nil {
				return s.fail(ctx, "list", "", fmt.Errorf("row %q: %s is NULL", name, col))
			}
		}
		src, ver := source(name), version(updated.Time)
		r, ok := stores.Row{}, false
		if known != nil {
			r, ok = known(src, ver)
		}
		if !ok {
			r = rowOf(in, name, raw[1:4], created, updated, deps, raw[6:8], &dec)
			r.Source, r.Version = src, ver
		}
		if !f.MatchRow(r) {
			continue
		}
		if batch = append(batch, r); len(batch) == rowBatch {
			if err := yield(batch); err != nil {
				return err
			}
			batch = make([]stores.Row, 0, rowBatch)
		}
	}
	if err := rows.Err(); err != nil {
		return s.noTable(ctx, err)
	}
	if len(batch) > 0 {
		return yield(batch)
	}
	return nil
}

// rowOf is a listed row, unreadable for what makes scanState refuse it:
// a timestamp with no RFC 3339 form, a JSON column that is not an object.
// fields are type, provider and status as read.
func rowOf(in stores.Interner, name string, fields [][]byte, created, updated pgtype.Timestamptz, deps []string, shapes [][]byte, dec *objectDecoder) stores.Row {
	var problems []string
	if p := timeProblem("created_at", created); p != "" {
		problems = append(problems, p)
	}
	updatedAt, p := readableTime("updated_at", updated)
	if p != "" {
		problems = append(problems, p)
	}
	for i, column := range []string{"outputs", "applied_config"} {
		if _, p := dec.decode(column, shapes[i]); p != "" {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return stores.Row{ID: name, Problem: strings.Join(problems, "; ")}
	}
	return in.Row(name, fields[0], fields[1], fields[2], updatedAt, deps)
}

// Save inserts or fully replaces a record (created_at is kept). The error
// field is not stored; see Limitations.
func (s *Store) Save(ctx context.Context, st *stores.State) error {
	_, err := s.write(ctx, "save", st, upsertSQL)
	return err
}

// SaveIf writes only if the stored updated_at still equals version; an
// empty version means the record must not exist. Otherwise ErrConflict.
func (s *Store) SaveIf(ctx context.Context, st *stores.State, ver string) error {
	sql, extra := createOnlySQL, []any(nil)
	if ver != "" {
		t, err := parseVersion(ver)
		if err != nil {
			return s.fail(ctx, "save", idOf(st), err)
		}
		sql, extra = updateIfSQL, []any{t}
	}
	n, err := s.write(ctx, "save", st, sql, extra...)
	if err == nil && n == 0 {
		return s.fail(ctx, "save", st.ResourceID, stores.ErrConflict)
	}
	return err
}

func idOf(st *stores.State) string {
	if st == nil {
		return ""
	}
	return st.ResourceID
}

func (s *Store) write(ctx context.Context, op string, st *stores.State, sql string, extra ...any) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if st == nil || st.ResourceID == "" {
		return 0, s.fail(ctx, op, "", errors.New("record has no resource_id"))
	}
	args, err := writeArgs(st)
	if err != nil {
		return 0, s.fail(ctx, op, st.ResourceID, err)
	}
	if err := s.ensureTable(ctx); err != nil {
		return 0, s.fail(ctx, op, st.ResourceID, err)
	}
	tag, err := s.pool.Exec(ctx, sql, append(args, extra...)...)
	if err != nil {
		return 0, s.fail(ctx, op, st.ResourceID, err)
	}
	return tag.RowsAffected(), nil
}

// Delete removes a record; a missing one is ErrNotFound, as upstream.
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.delete(ctx, id, "DELETE FROM iac_resources WHERE name = $1", stores.ErrNotFound)
}

// DeleteIf deletes only if the stored updated_at still equals version.
func (s *Store) DeleteIf(ctx context.Context, id, ver string) error {
	if ver == "" {
		return s.fail(ctx, "delete", id, fmt.Errorf("a conditional delete needs the version GetVersioned returned: %w", stores.ErrConflict))
	}
	t, err := parseVersion(ver)
	if err != nil {
		return s.fail(ctx, "delete", id, err)
	}
	return s.delete(ctx, id, "DELETE FROM iac_resources WHERE name = $1 AND updated_at = $2", stores.ErrConflict, t)
}

func (s *Store) delete(ctx context.Context, id, sql string, none error, extra ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, sql, append([]any{id}, extra...)...)
	switch {
	case isCode(err, codeUndefinedTable):
		return s.fail(ctx, "delete", id, none)
	case err != nil:
		return s.fail(ctx, "delete", id, err)
	case tag.RowsAffected() == 0:
		return s.fail(ctx, "delete", id, none)
	}
	return nil
}
