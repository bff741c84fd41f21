package redact

import (
	"bytes"
	"encoding/json"
	"slices"
	"unicode/utf8"
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
	return j.appendArray(dst, depth, len(l), func(dst []byte, i int) ([]byte, error) {
		return j.AppendValue(dst, depth+1, "", l[i])
	})
}

// AppendStrings appends a list of strings (nil: null).
func (j JSON) AppendStrings(dst []byte, depth int, l []string) []byte {
	if l == nil {
		return append(dst, "null"...)
	}
	dst, _ = j.appendArray(dst, depth, len(l), func(dst []byte, i int) ([]byte, error) {
		return AppendString(dst, l[i]), nil
	})
	return dst
}

// appendArray appends an array of n elements, each appended by elem.
func (j JSON) appendArray(dst []byte, depth, n int, elem func(dst []byte, i int) ([]byte, error)) ([]byte, error) {
	if n == 0 {
		return append(dst, "[]"...), nil
	}
	dst = append(dst, '[')
	for i := range n {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = elem(j.newline(dst, depth+1), i); err != nil {
			return nil, err
		}
	}
	return append(j.newline(dst, depth), ']'), nil
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
	if err := json.Indent(b, data, string(j.newline(nil, depth)[1:]), j.Indent); err != nil {
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

// Object writes an object member by member: Key, then the member's value
// appended to Buf, then End.
type Object struct {
	Buf     []byte
	j       JSON
	depth   int
	members int
}

// Object starts an object at depth.
func (j JSON) Object(dst []byte, depth int) *Object {
	return &Object{Buf: append(dst, '{'), j: j, depth: depth}
}

// Key starts the next member: its line, key and colon.
func (o *Object) Key(k string) {
	if o.members > 0 {
		o.Buf = append(o.Buf, ',')
	}
	o.members++
	o.Buf = append(AppendString(o.j.newline(o.Buf, o.depth+1), k), ':', ' ')
}

// End closes the object and returns the buffer.
func (o *Object) End() []byte {
	if o.members > 0 {
		o.Buf = o.j.newline(o.Buf, o.depth)
	}
	return append(o.Buf, '}')
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
