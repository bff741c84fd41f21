// Package jsondoc changes members of a JSON object in place and keeps every
// other byte of the document as it was: key order, spacing, escapes, number
// formatting, unknown members. A record written back after a one-field
// change then differs from what was stored in that field only.
package jsondoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Member is one member of an object: its key and its value as JSON.
type Member struct {
	Key   string
	Value json.RawMessage
}

// Members lists a JSON object's members in document order, values as
// written (duplicates included, as they appear).
func Members(doc []byte) ([]Member, error) {
	o, err := parseDoc(doc)
	if err != nil {
		return nil, err
	}
	out := make([]Member, len(o.members))
	for i, m := range o.members {
		out[i] = Member{Key: m.key, Value: m.value}
	}
	return out, nil
}

// Equal reports whether two JSON values mean the same: numbers compared as
// written (1.0 is not 1), object member order and whitespace ignored.
func Equal(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	va, errA := decode(a)
	vb, errB := decode(b)
	return errA == nil && errB == nil && reflect.DeepEqual(va, vb)
}

func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// Patch returns doc, a JSON object, with each member whose key is in
// changed set to its value in want, inserted where want orders it when doc
// lacks it, or removed (every occurrence) when want lacks it. Keys are
// compared after canon (nil: as they are). Nothing else in doc changes: a
// changed value that is an object in both is patched member by member, and
// new values take the indentation of the members around them. doc itself
// is returned when nothing differs.
func Patch(doc []byte, want []Member, changed []string, canon func(string) string) ([]byte, error) {
	o, err := parseDoc(doc)
	if err != nil {
		return nil, err
	}
	st := style{unit: o.unit()}
	if err := o.apply(want, changed, canon, st, ""); err != nil {
		return nil, err
	}
	if !o.dirty {
		return doc, nil
	}
	var b bytes.Buffer
	b.Grow(len(doc) + 64)
	b.Write(doc[:o.start])
	o.render(&b)
	b.Write(doc[o.end:])
	return b.Bytes(), nil
}

// object is one parsed object: its members with the bytes between them.
type object struct {
	start, end int // doc[start] is '{', doc[end-1] is '}'
	members    []*member
	closeWS    []byte // whitespace before '}'
	dirty      bool
}

type member struct {
	key   string // decoded
	lead  []byte // whitespace before the key
	raw   []byte // the key as written, quotes included
	colon []byte // whitespace, ':' and whitespace
	value []byte
	trail []byte // whitespace between the value and ','
}

// style is how new values are written: compact, or indented by unit.
type style struct{ unit string }

// unit guesses the document's indentation step from its first indented
// member ("" for a compact document).
func (o *object) unit() string {
	for _, m := range o.members {
		if i := bytes.LastIndexByte(m.lead, '\n'); i >= 0 {
			return string(m.lead[i+1:])
		}
		return ""
	}
	return "  "
}

func (o *object) render(b *bytes.Buffer) {
	b.WriteByte('{')
	for i, m := range o.members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(m.lead)
		b.Write(m.raw)
		b.Write(m.colon)
		b.Write(m.value)
		b.Write(m.trail)
	}
	b.Write(o.closeWS)
	b.WriteByte('}')
}

// apply makes the changes; indent is the indentation of o's own line.
func (o *object) apply(want []Member, changed []string, canon func(string) string, st style, indent string) error {
	if canon == nil {
		canon = func(k string) string { return k }
	}
	wantAt := map[string]int{}
	for i, m := range want {
		wantAt[canon(m.Key)] = i
	}
	// In want order, so an inserted member can follow one inserted before it.
	keys := make([]string, 0, len(changed))
	seen := map[string]bool{}
	for _, m := range want {
		if k := canon(m.Key); slicesContains(changed, k) && !seen[k] {
			keys, seen[k] = append(keys, k), true
		}
	}
	for _, k := range changed {
		if !seen[k] {
			keys, seen[k] = append(keys, k), true
		}
	}
	for _, k := range keys {
		i, inWant := wantAt[k]
		at := o.find(k, canon)
		switch {
		case !inWant:
			o.remove(k, canon)
		case at >= 0:
			m := o.members[at]
			v, err := replace(m.value, want[i].Value, st, indent+memberIndent(m.lead, indent, st))
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			if !bytes.Equal(v, m.value) {
				m.value, o.dirty = v, true
			}
		default:
			if err := o.insert(want, i, canon, st, indent); err != nil {
				return err
			}
		}
	}
	return nil
}

func slicesContains(s []string, k string) bool {
	for _, e := range s {
		if e == k {
			return true
		}
	}
	return false
}

// find is the index of the last member with key k (the one decoders
// keep), or -1.
func (o *object) find(k string, canon func(string) string) int {
	for i := len(o.members) - 1; i >= 0; i-- {
		if canon(o.members[i].key) == k {
			return i
		}
	}
	return -1
}

func (o *object) remove(k string, canon func(string) string) {
	var kept []*member
	for _, m := range o.members {
		if canon(m.key) != k {
			kept = append(kept, m)
		}
	}
	switch {
	case len(kept) == len(o.members):
		return
	case len(kept) == 0:
		o.closeWS = nil
	case kept[0] != o.members[0]:
		// The new first member opens the object as the old one did.
		kept[0].lead = o.members[0].lead
	}
	o.members, o.dirty = kept, true
}

// insert adds want[i] after the nearest member want orders before it.
func (o *object) insert(want []Member, i int, canon func(string) string, st style, indent string) error {
	pos := 0
	for j := i - 1; j >= 0; j-- {
		if at := o.find(canon(want[j].Key), canon); at >= 0 {
			pos = at + 1
			break
		}
	}
	lead, colon := o.spacing(pos, st, indent)
	if pos == 0 && len(o.members) > 0 {
		// The new member opens the object; the old first one moves down.
		first := o.members[0]
		lead, first.lead = first.lead, lead
	}
	raw, err := json.Marshal(want[i].Key)
	if err != nil {
		return err
	}
	v, err := format(want[i].Value, st, indent+memberIndent(lead, indent, st))
	if err != nil {
		return fmt.Errorf("%s: %w", want[i].Key, err)
	}
	m := &member{key: want[i].Key, lead: lead, raw: raw, colon: colon, value: v}
	if len(o.members) == 0 && st.unit != "" {
		o.closeWS = []byte("\n" + indent)
	}
	o.members = append(o.members, nil)
	copy(o.members[pos+1:], o.members[pos:])
	o.members[pos] = m
	o.dirty = true
	return nil
}

// spacing copies the whitespace a member that follows another has, for
// one inserted at pos.
func (o *object) spacing(pos int, st style, indent string) (lead, colon []byte) {
	if n := len(o.members); n > 0 {
		m := o.members[min(max(pos, 1), n-1)]
		return m.lead, m.colon
	}
	if st.unit == "" {
		return nil, []byte(":")
	}
	return []byte("\n" + indent + st.unit), []byte(": ")
}

// memberIndent is the extra indentation of a member's line beyond its
// object's line, read from its lead.
func memberIndent(lead []byte, indent string, st style) string {
	if i := bytes.LastIndexByte(lead, '\n'); i >= 0 {
		if l := string(lead[i+1:]); strings.HasPrefix(l, indent) {
			return l[len(indent):]
		}
		return st.unit
	}
	return ""
}

// replace turns old into a value equal to want, keeping what it can.
func replace(old, want []byte, st style, indent string) ([]byte, error) {
	if Equal(old, want) {
		return old, nil
	}
	if isObject(old) && isObject(want) {
		o, err := parseObject(old, 0)
		if err != nil {
			return nil, err
		}
		if len(o.members) > 0 && bytes.IndexByte(o.members[0].lead, '\n') < 0 {
			st = style{} // written compact: keep it so
		}
		wm, err := Members(want)
		if err != nil {
			return nil, err
		}
		if err := o.apply(wm, differing(o, wm), nil, st, indent); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		o.render(&b)
		return b.Bytes(), nil
	}
	return format(want, st, indent)
}

// differing lists the keys whose values differ between o and want, or
// that only one of them has.
func differing(o *object, want []Member) []string {
	have := map[string][]byte{}
	for _, m := range o.members {
		have[m.key] = m.value // the last one counts
	}
	last := map[string][]byte{}
	for _, m := range want {
		last[m.Key] = m.Value
	}
	var out []string
	for k, v := range last {
		if h, ok := have[k]; !ok || !Equal(h, v) {
			out = append(out, k)
		}
	}
	for k := range have {
		if _, ok := last[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

func isObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// format writes a new value in the document's style.
func format(v []byte, st style, indent string) ([]byte, error) {
	var b bytes.Buffer
	var err error
	if st.unit == "" {
		err = json.Compact(&b, v)
	} else {
		err = json.Indent(&b, bytes.TrimSpace(v), indent, st.unit)
	}
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var errSyntax = errors.New("jsondoc: not a JSON object")

// parseDoc parses a document holding one object and surrounding whitespace.
func parseDoc(doc []byte) (*object, error) {
	i := skipWS(doc, 0)
	o, err := parseObject(doc, i)
	if err != nil {
		return nil, err
	}
	if skipWS(doc, o.end) != len(doc) {
		return nil, fmt.Errorf("%w: trailing data", errSyntax)
	}
	return o, nil
}

func parseObject(doc []byte, i int) (*object, error) {
	o := &object{start: i}
	var err error
	o.end, o.closeWS, err = walk(doc, i, func(m member) error {
		if m.key, err = unquote(m.raw); err != nil {
			return err
		}
		o.members = append(o.members, &m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Keys calls fn with each top-level key of a JSON object, as written
// (quotes and escapes included), and its value, in document order. It
// allocates nothing, for callers on a hot path.
func Keys(doc []byte, fn func(rawKey, value []byte)) error {
	end, _, err := walk(doc, skipWS(doc, 0), func(m member) error {
		fn(m.raw, m.value)
		return nil
	})
	if err == nil && skipWS(doc, end) != len(doc) {
		err = fmt.Errorf("%w: trailing data", errSyntax)
	}
	return err
}

// Unquote decodes a key as written.
func Unquote(raw []byte) (string, error) { return unquote(raw) }

func unquote(raw []byte) (string, error) {
	var k string
	if err := json.Unmarshal(raw, &k); err != nil {
		return "", fmt.Errorf("%w: bad key %s", errSyntax, raw)
	}
	return k, nil
}

// walk calls fn for each member of the object at doc[i], key undecoded,
// and returns the object's end and the whitespace before its '}'.
func walk(doc []byte, i int, fn func(member) error) (int, []byte, error) {
	if i >= len(doc) || doc[i] != '{' {
		return 0, nil, errSyntax
	}
	i++
	for n := 0; ; n++ {
		ws := skipWS(doc, i)
		if ws < len(doc) && doc[ws] == '}' && n == 0 {
			return ws + 1, doc[i:ws], nil
		}
		m := member{lead: doc[i:ws]}
		end, err := scanString(doc, ws)
		if err != nil {
			return 0, nil, err
		}
		m.raw = doc[ws:end]
		c := skipWS(doc, end)
		if c >= len(doc) || doc[c] != ':' {
			return 0, nil, fmt.Errorf("%w: no ':' after key %s", errSyntax, m.raw)
		}
		v := skipWS(doc, c+1)
		m.colon = doc[end:v]
		vend, err := scanValue(doc, v)
		if err != nil {
			return 0, nil, err
		}
		m.value = doc[v:vend]
		after := skipWS(doc, vend)
		if after >= len(doc) {
			return 0, nil, fmt.Errorf("%w: unterminated object", errSyntax)
		}
		switch doc[after] {
		case ',':
			m.trail = doc[vend:after]
			i = after + 1
			if err := fn(m); err != nil {
				return 0, nil, err
			}
		case '}':
			return after + 1, doc[vend:after], fn(m)
		default:
			return 0, nil, fmt.Errorf("%w: unexpected %q", errSyntax, doc[after])
		}
	}
}

func skipWS(doc []byte, i int) int {
	for i < len(doc) && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the end of the string starting at doc[i].
func scanString(doc []byte, i int) (int, error) {
	if i >= len(doc) || doc[i] != '"' {
		return 0, fmt.Errorf("%w: expected a string", errSyntax)
	}
	for j := i + 1; j < len(doc); j++ {
		switch doc[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("%w: unterminated string", errSyntax)
}

// scanValue returns the end of the value starting at doc[i]. It finds
// extents only; values are checked when they are decoded.
func scanValue(doc []byte, i int) (int, error) {
	if i >= len(doc) {
		return 0, fmt.Errorf("%w: missing value", errSyntax)
	}
	switch doc[i] {
	case '"':
		return scanString(doc, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(doc); j++ {
			switch doc[j] {
			case '"':
				end, err := scanString(doc, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("%w: unterminated value", errSyntax)
	}
	j := i
	for j < len(doc) && !strings.ContainsRune(" \t\r\n,}]", rune(doc[j])) {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("%w: missing value", errSyntax)
	}
	return j, nil
}

// Elements calls fn with each element of a JSON array, as written, in
// order. Like Keys it finds extents only and allocates nothing.
func Elements(array []byte, fn func(value []byte)) error {
	i := skipWS(array, 0)
	if i >= len(array) || array[i] != '[' {
		return fmt.Errorf("%w: not an array", errSyntax)
	}
	i = skipWS(array, i+1)
	end := i + 1
	if i >= len(array) || array[i] != ']' {
		for {
			vend, err := scanValue(array, i)
			if err != nil {
				return err
			}
			fn(array[i:vend])
			i = skipWS(array, vend)
			if i < len(array) && array[i] == ',' {
				i = skipWS(array, i+1)
				continue
			}
			if i >= len(array) || array[i] != ']' {
				return fmt.Errorf("%w: unterminated array", errSyntax)
			}
			end = i + 1
			break
		}
	}
	if skipWS(array, end) != len(array) {
		return fmt.Errorf("%w: trailing data", errSyntax)
	}
	return nil
}
