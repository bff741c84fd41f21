package redact

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"statescope/stores/jsondoc"
)

// JSON writes decoded JSON values (as encoding/json decodes them into any)
// masked as Value masks them, unless Reveal, in the layout
// json.MarshalIndent(Value(key, v), Prefix, Indent) gives them: map keys
// sorted, HTML characters escaped. It writes straight from the record, with
// no masked copy and no reflection, which is most of what `list -o json`
// spends per record. Values of other Go types are encoded by encoding/json.
type JSON struct {
	Prefix, Indent string
	Reveal         bool
}

// maskJSON is Mask encoded.
var maskJSON = func() []byte { b, _ := json.Marshal(Mask); return b }()

// AppendValue appends v, held under key (masking decides by it), at depth
// levels of indentation.
func (j JSON) AppendValue(dst []byte, depth int, key string, v any) ([]byte, error) {
	if !j.Reveal && v != nil && IsSecretKey(key) {
		return append(dst, maskJSON...), nil
	}
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		if !j.Reveal && IsSecretValue(t) {
			return append(dst, maskJSON...), nil
		}
		return AppendString(dst, t), nil
	case bool:
		if t {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case json.Number:
		if isInteger(string(t)) {
			return append(dst, t...), nil
		}
	case map[string]any:
		return j.AppendMap(dst, depth, t)
	case []any:
		return j.appendList(dst, depth, t)
	}
	return j.appendEncoded(dst, depth, v)
}

// AppendMap appends m with its values masked by their keys (nil: null).
func (j JSON) AppendMap(dst []byte, depth int, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	var buf [16]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	o := j.Object(dst, depth)
	for _, k := range keys {
		o.Key(k)
		var err error
		if o.Buf, err = j.AppendValue(o.Buf, depth+1, k, m[k]); err != nil {
			return nil, err
		}
	}
	return o.End(), nil
}

// appendList appends a list, its elements masked by their content only.
// Masking copies a nil list to an empty one, so masked it is written [].
func (j JSON) appendList(dst []byte, depth int, l []any) ([]byte, error) {
	if l == nil && j.Reveal {
		return append(dst, "null"...), nil
	}
	a := j.array(dst, depth)
	for _, e := range l {
		a.Next()
		var err error
		if a.Buf, err = j.AppendValue(a.Buf, depth+1, "", e); err != nil {
			return nil, err
		}
	}
	return a.End(), nil
}

// AppendStrings appends a list of strings (nil: null).
func (j JSON) AppendStrings(dst []byte, depth int, l []string) []byte {
	if l == nil {
		return append(dst, "null"...)
	}
	a := j.array(dst, depth)
	for _, s := range l {
		a.Next()
		a.Buf = AppendString(a.Buf, s)
	}
	return a.End()
}

// appendEncoded appends what encoding/json makes of v, indented to depth.
func (j JSON) appendEncoded(dst []byte, depth int, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(data) < 2 || (data[0] != '{' && data[0] != '[') {
		return append(dst, data...), nil
	}
	b := bytes.NewBuffer(dst)
	indent := string(j.newline(nil, depth)[1:]) // what starts each line at depth
	if err := json.Indent(b, data, indent, j.Indent); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// newline appends a line break and the indentation of depth.
func (j JSON) newline(dst []byte, depth int) []byte {
	dst = append(append(dst, '\n'), j.Prefix...)
	for range depth {
		dst = append(dst, j.Indent...)
	}
	return dst
}

// Object writes an object member by member (Key, then the member's value
// appended to Buf), or an array element by element (Next, then the
// element), then End.
type Object struct {
	Buf     []byte
	j       JSON
	depth   int
	members int
	close   byte
}

// Object starts an object at depth.
func (j JSON) Object(dst []byte, depth int) Object {
	return Object{Buf: append(dst, '{'), j: j, depth: depth, close: '}'}
}

func (j JSON) array(dst []byte, depth int) Object {
	return Object{Buf: append(dst, '['), j: j, depth: depth, close: ']'}
}

// Next starts the next member or element on its own line.
func (o *Object) Next() {
	if o.members > 0 {
		o.Buf = append(o.Buf, ',')
	}
	o.members++
	o.Buf = o.j.newline(o.Buf, o.depth+1)
}

// Key starts the next member: its line, key and colon.
func (o *Object) Key(k string) {
	o.Next()
	o.Buf = append(AppendString(o.Buf, k), ':', ' ')
}

// End closes the object or array and returns the buffer.
func (o *Object) End() []byte {
	if o.members > 0 {
		o.Buf = o.j.newline(o.Buf, o.depth)
	}
	return append(o.Buf, o.close)
}

// isInteger: an integer in JSON's grammar, written as encoding/json writes
// a json.Number that holds it (other numbers go through encoding/json).
func isInteger(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	switch {
	case s == "":
		return false
	case s[0] == '0':
		return len(s) == 1
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// AppendString appends s as encoding/json encodes a string: quoted, with
// ", \ and control characters escaped, <, > and & as \u003c and so on,
// U+2028 and U+2029 escaped, and invalid UTF-8 as \ufffd.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(append(dst, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}

// AppendRaw appends the JSON value raw — text that is valid JSON — as
// AppendValue appends what encoding/json decodes from it (numbers as
// json.Number), without decoding it: object members sorted by key (of a
// repeated key the last counts), strings re-escaped only where
// encoding/json would write them otherwise than they are written.
func (j JSON) AppendRaw(dst []byte, depth int, key string, raw []byte) ([]byte, error) {
	w := rawWriters.Get().(*rawWriter)
	defer rawWriters.Put(w)
	w.JSON = j
	return w.value(dst, depth, IsSecretKey(key), raw)
}

// rawWriter is AppendRaw's scratch space, pooled: members is a stack on
// which each object being written has its members above its parent's, and
// keys holds the key names seen, with their verdicts, so a name repeated
// across records costs a map lookup, not a string and a verdict each.
type rawWriter struct {
	JSON
	members []rawMember
	keys    map[string]rawKey
}

var rawWriters = sync.Pool{New: func() any { return &rawWriter{keys: map[string]rawKey{}} }}

type rawKey struct {
	name   string
	secret bool
}

type rawMember struct {
	rawKey
	value []byte
}

// key decodes a member's key as written, with its verdict.
func (w *rawWriter) key(raw []byte) (rawKey, error) {
	if k, ok := w.keys[string(raw)]; ok {
		return k, nil
	}
	name, err := rawString(raw)
	if err != nil {
		return rawKey{}, err
	}
	k := rawKey{name, IsSecretKey(name)}
	if len(raw) <= maxCachedKeyLen && len(w.keys) < maxCachedKeys {
		w.keys[string(raw)] = k
	}
	return k, nil
}

// value appends raw; secret says its key looks secret.
func (w *rawWriter) value(dst []byte, depth int, secret bool, raw []byte) ([]byte, error) {
	if len(raw) == 0 {
		return nil, errors.New("redact: no JSON value")
	}
	if !w.Reveal && raw[0] != 'n' && secret {
		return append(dst, maskJSON...), nil
	}
	switch raw[0] {
	case '{':
		return w.object(dst, depth, raw)
	case '[':
		a := w.array(dst, depth)
		var err error
		serr := jsondoc.Elements(raw, func(v []byte) {
			if err == nil {
				a.Next()
				a.Buf, err = w.value(a.Buf, depth+1, false, v)
			}
		})
		if err = cmp.Or(serr, err); err != nil {
			return nil, err
		}
		return a.End(), nil
	case '"':
		return w.appendRawString(dst, raw)
	}
	return append(dst, raw...), nil // a number, true, false or null as written
}

func (w *rawWriter) object(dst []byte, depth int, raw []byte) ([]byte, error) {
	base := len(w.members)
	defer func() {
		clear(w.members[base:]) // the pool must not keep records alive
		w.members = w.members[:base]
	}()
	var kerr error
	err := jsondoc.Keys(raw, func(rawKey, value []byte) {
		k, err := w.key(rawKey)
		kerr = cmp.Or(kerr, err)
		w.members = append(w.members, rawMember{k, value})
	})
	if err = cmp.Or(err, kerr); err != nil {
		return nil, err
	}
	// Nested objects push above these and may move the stack; this view
	// of them stays valid.
	members := w.members[base:]
	slices.SortStableFunc(members, func(a, b rawMember) int { return strings.Compare(a.name, b.name) })
	o := w.Object(dst, depth)
	for i, m := range members {
		if i+1 < len(members) && members[i+1].name == m.name {
			continue // a repeated key: the last counts, as decoding keeps it
		}
		o.Key(m.name)
		if o.Buf, err = w.value(o.Buf, depth+1, m.secret, m.value); err != nil {
			return nil, err
		}
	}
	return o.End(), nil
}

// appendRawString appends a string given as written. Printable ASCII that
// needs no escape is written as it is; anything else is decoded and
// encoded again.
func (j JSON) appendRawString(dst []byte, raw []byte) ([]byte, error) {
	if c := raw[1 : len(raw)-1]; isPlain(c) {
		// Only a value with an '@' or a PEM marker can look secret.
		if !j.Reveal && (bytes.IndexByte(c, '@') >= 0 || bytes.Contains(c, pemMarker)) && IsSecretValue(string(c)) {
			return append(dst, maskJSON...), nil
		}
		return append(dst, raw...), nil
	}
	s, err := rawString(raw)
	if err != nil {
		return nil, err
	}
	if !j.Reveal && IsSecretValue(s) {
		return append(dst, maskJSON...), nil
	}
	return AppendString(dst, s), nil
}

var pemMarker = []byte("PRIVATE KEY-----")

// plainBytes are the bytes AppendString writes as they are.
var plainBytes = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = !strings.ContainsRune(`"\<>&`, rune(c))
	}
	return t
}()

func isPlain(b []byte) bool {
	for _, c := range b {
		if !plainBytes[c] {
			return false
		}
	}
	return true
}

// rawString decodes a JSON string as written.
func rawString(raw []byte) (string, error) {
	if c := raw[1 : len(raw)-1]; bytes.IndexByte(c, '\\') < 0 && utf8.Valid(c) {
		return string(c), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}
