package repair

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"statescope/stores"
	"statescope/stores/repair/editor"
)

// Validate checks an edited record against the one it replaces: same
// resource_id, a workflow status, RFC 3339 times (created_at may be empty,
// as upstream allows).
func Validate(orig, edited *stores.State) error {
	var problems []string
	if edited.ResourceID != orig.ResourceID {
		problems = append(problems, fmt.Sprintf("resource_id must stay %q (to rename, import a copy and delete the old one)", orig.ResourceID))
	}
	if !slices.Contains(stores.Statuses, edited.Status) {
		problems = append(problems, fmt.Sprintf("status %q is not one of %s", edited.Status, strings.Join(stores.Statuses, ", ")))
	}
	if _, ok := stores.ParseTime(edited.CreatedAt); !ok && edited.CreatedAt != "" {
		problems = append(problems, fmt.Sprintf("created_at %q is not an RFC 3339 time like 2006-01-02T15:04:05Z", edited.CreatedAt))
	}
	if _, ok := stores.ParseTime(edited.UpdatedAt); !ok {
		problems = append(problems, fmt.Sprintf("updated_at %q is not an RFC 3339 time like 2006-01-02T15:04:05Z", edited.UpdatedAt))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %w", strings.Join(problems, "; "), ErrInvalid)
	}
	return nil
}

// KeepDraft saves an edited record that was not applied among the drafts
// and says where it is and how to discard it.
func (e *Engine) KeepDraft(edited *stores.State) string {
	text, err := stores.EncodeState(edited)
	if err == nil {
		var path string
		if path, err = e.Drafts.Keep("*.json", text); err == nil {
			return "your edited record was not applied; it is kept in " + path + "; " + editor.Discard(path)
		}
	}
	return "your edited record was not applied, and keeping it failed: " + err.Error()
}

// ParseEdited reads an edited record strictly: keys that are neither a
// record's nor among the original's unknown fields (typos that would be
// kept as unknown fields) and non-object outputs/config are errors, as is
// anything Validate rejects. Syntax errors name the line.
func ParseEdited(orig *stores.State, data []byte) (*stores.State, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("%s: %w", syntaxWhere(data, err), ErrInvalid)
	}
	for _, k := range []string{"outputs", "config"} {
		if v := bytes.TrimSpace(fields[k]); len(v) > 0 && v[0] != '{' && string(v) != "null" {
			return nil, fmt.Errorf("%s must be an object or null: %w", k, ErrInvalid)
		}
	}
	st, err := stores.DecodeState(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	var unknown []string
	for _, f := range st.Unknown {
		if !slices.ContainsFunc(orig.Unknown, func(o stores.Field) bool { return o.Key == f.Key }) {
			unknown = append(unknown, f.Key)
		}
	}
	if len(unknown) > 0 {
		allowed := stores.KnownKeys()
		for _, f := range orig.Unknown {
			allowed = append(allowed, f.Key)
		}
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown keys %s (a record has %s): %w", strings.Join(unknown, ", "), strings.Join(allowed, ", "), ErrInvalid)
	}
	if err := Validate(orig, st); err != nil {
		return nil, err
	}
	return st, nil
}

// syntaxWhere turns a JSON error into one that names the line and column.
func syntaxWhere(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		return "the record must be a JSON object"
	}
	if off < 0 {
		return "invalid JSON: " + err.Error()
	}
	line, col := position(data, offending(off, data, err))
	return fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, err)
}

// EditRecord opens the record seen, as stored, in the editor command (a
// shell command line such as $EDITOR) on the given terminal streams and
// returns the edited record once it is valid. It reopens the editor with
// the error on top until then; an empty or unchanged save gives
// editor.ErrCancelled. An unreadable record is opened as the text of its
// stored bytes, with where they break on top. The buffer lives in
// e.Drafts. A TUI calls it from its exec hook while suspended.
func (e *Engine) EditRecord(ctx context.Context, editorCmd string, in io.Reader, out, errOut io.Writer, seen Observed) (*stores.State, error) {
	orig, text, header := seen.State, seen.Raw, []string{"Editing " + seen.ID + ". Lines starting with '#' are ignored."}
	if seen.Corrupt != "" {
		orig = seen.rawBase()
		header = []string{
			"Editing the unreadable record " + seen.ID + " as its stored bytes. Lines starting with '#' are ignored.",
			"It does not parse: " + Diagnose(seen.Raw).String(),
			"Save a valid record to replace it: it is written exactly as saved.",
		}
	} else {
		var err error
		if text, err = stores.EncodeState(seen.State); err != nil {
			return nil, err
		}
	}
	if !bytes.HasSuffix(text, []byte("\n")) {
		text = slices.Concat(text, []byte("\n"))
	}
	var edited *stores.State
	s := editor.Session{
		Editor: editorCmd, Stdin: in, Stdout: out, Stderr: errOut,
		Pattern: "*.json", Drafts: e.Drafts,
		Header: append(header,
			"Save an empty file, or leave it unchanged, to cancel. A diff is shown before anything is written.",
			""),
	}
	_, err := s.Run(ctx, text, func(b []byte) error {
		st, err := ParseEdited(orig, b)
		edited = st
		return err
	})
	if err != nil {
		return nil, err
	}
	if seen.Corrupt == "" && edited.Equal(orig) {
		return nil, editor.ErrCancelled
	}
	return edited, nil
}
