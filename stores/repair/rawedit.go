package repair

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"statescope/stores"
)

// noBytes says why an unreadable record has no bytes to show or edit,
// and what to do instead.
const noBytes = "the store hands out no bytes of it (PostgreSQL keeps columns, not a document; " +
	"a remote plugin sends decoded records; a filesystem entry that is not a regular file is never read), " +
	"so statescope cannot back it up and changes nothing: repair it where it is stored " +
	"(PostgreSQL: an UPDATE of the column named above; a filesystem entry: put a regular file in its place)"

// UnreadableBytes returns the stored bytes of id's unreadable record, to
// show and edit it as text: from the backend's versioned read, or from a
// store that keeps records as bytes, looking through wrappers (a read
// only). The error says why there are none.
func UnreadableBytes(ctx context.Context, s stores.Store, id string) ([]byte, error) {
	var raw []byte
	var err error
	switch u := stores.Unwrap(s).(type) {
	case stores.ConditionalStore:
		var v stores.Versioned
		v, err = u.GetVersioned(ctx, id)
		raw = v.Raw
	case stores.RawReader:
		raw, err = u.ReadRaw(ctx, id)
	}
	switch {
	case len(raw) == 0 && (err == nil || errors.Is(err, stores.ErrCorrupt)):
		return nil, fmt.Errorf("%s: %w", noBytes, stores.ErrUnsupported)
	case len(raw) == 0:
		return nil, err
	}
	if _, derr := stores.DecodeState(raw); derr == nil {
		return nil, fmt.Errorf("%q is readable now: %w", id, stores.ErrConflict)
	}
	return raw, nil
}

// ObserveEdit reads a record to edit: a readable one field by field, an
// unreadable one as the text of its stored bytes. An unreadable record
// whose bytes the store does not hand out is refused, saying why.
func (e *Engine) ObserveEdit(ctx context.Context, id string) (Observed, error) {
	o, err := e.Observe(ctx, id)
	switch {
	case errors.Is(err, stores.ErrCorrupt):
		return o, fmt.Errorf("%w; it cannot be edited as text: %s", err, noBytes)
	case err != nil:
		return o, err
	case !o.Exists:
		return o, o.Editable()
	}
	return o, nil
}

// rawBase stands in for the record an unreadable one replaces: its ID,
// and the top-level keys its bytes have before they break, so an edit
// may keep fields statescope does not know.
func (o Observed) rawBase() *stores.State {
	base := &stores.State{ResourceID: o.ID}
	known := stores.KnownKeys()
	for _, k := range topKeys(o.Raw) {
		if !slices.Contains(known, k) {
			base.Unknown = append(base.Unknown, stores.Field{Key: k})
		}
	}
	return base
}

// topKeys lists an object's top-level keys up to where its text breaks.
func topKeys(raw []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		k, ok := tok.(string)
		if err != nil || !ok {
			break
		}
		keys = append(keys, k)
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			break
		}
	}
	return keys
}

// ParseProblem is why stored bytes are not a record, and where.
type ParseProblem struct {
	Reason string
	// Offset is the offending byte, len(raw) when the text ends too early,
	// -1 when the fault has no one place (well-formed JSON that is not a
	// record, such as one without resource_id).
	Offset int
	// Line and Column (characters) of Offset, from 1; 0 without an offset.
	Line, Column int
}

func (p ParseProblem) String() string {
	if p.Offset < 0 {
		return p.Reason
	}
	return fmt.Sprintf("line %d, column %d: %s", p.Line, p.Column, p.Reason)
}

// Diagnose says why raw does not decode as a record and where: the JSON
// syntax error, the value of the wrong type, or the record-level problem.
// Reason is empty for a readable record.
func Diagnose(raw []byte) ParseProblem {
	var s stores.State
	err := json.Unmarshal(raw, &s)
	if err == nil {
		if _, derr := stores.DecodeState(raw); derr != nil {
			return ParseProblem{Reason: derr.Error(), Offset: -1}
		}
		return ParseProblem{Offset: -1}
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var off int64
	reason := err.Error()
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
		reason = fmt.Sprintf("%s is %s, where a record holds %s", te.Field, article(te.Value), kindOf(te.Type))
	default:
		return ParseProblem{Reason: reason, Offset: -1}
	}
	p := ParseProblem{Reason: reason, Offset: offending(off, raw, err)}
	if p.Offset == len(raw) {
		p.Reason = "unexpected end of JSON input"
	}
	p.Line, p.Column = position(raw, p.Offset)
	return p
}

// offending is the byte a decoder's error offset points at: the offset
// is after the byte refused, or the end of the text when the text ended
// too early (where the decoder may blame a blank it made up).
func offending(off int64, data []byte, err error) int {
	var se *json.SyntaxError
	if errors.As(err, &se) && int(off) >= len(data) {
		msg := se.Error()
		if msg == "unexpected end of JSON input" || strings.HasPrefix(msg, "invalid character ' '") && !bytes.HasSuffix(data, []byte(" ")) {
			return len(data)
		}
	}
	return min(max(int(off)-1, 0), len(data))
}

// position is the line and character column of byte off, from 1.
func position(data []byte, off int) (line, col int) {
	before := data[:min(off, len(data))]
	start := bytes.LastIndexByte(before, '\n') + 1
	return bytes.Count(before, []byte("\n")) + 1, utf8.RuneCount(before[start:]) + 1
}

func article(kind string) string {
	switch kind {
	case "array", "object":
		return "an " + kind
	}
	return "a " + kind
}

func kindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice:
		return "a list"
	case reflect.String:
		return "a string"
	}
	return t.String()
}
