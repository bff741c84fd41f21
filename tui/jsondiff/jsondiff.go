// Package jsondiff compares two decoded JSON documents structurally and
// reports every difference by JSON path: added, removed or changed.
package jsondiff

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// Kind is what happened at a path.
type Kind int

const (
	// Added: the path exists only in the new document.
	Added Kind = iota
	// Removed: the path exists only in the old document.
	Removed
	// Changed: both have the path with different values.
	Changed
)

func (k Kind) String() string {
	switch k {
	case Added:
		return "added"
	case Removed:
		return "removed"
	default:
		return "changed"
	}
}

// Change is one difference. Old is unset for Added, New for Removed.
type Change struct {
	// Path is a JSON path such as outputs.endpoint or config.tags[2].
	Path string
	// Keys are the object keys along the path (array indexes skipped), so
	// callers can decide, for example, whether a value sits under a secret key.
	Keys []string
	Kind Kind
	Old  any
	New  any
}

// Compare returns the differences from old to new, in key order. Objects
// are compared key by key, arrays index by index, scalars by value (numbers
// by their numeric value, so 1 and 1.0 are equal).
func Compare(old, new any) []Change {
	w := walker{}
	w.walk(old, new)
	return w.out
}

// segment is one step of a path: an object key or an array index.
type segment struct {
	key   string
	index int
}

// walker keeps the current path as a stack of segments and only formats it
// when it records a change, so equal subtrees cost no string building.
type walker struct {
	path []segment
	out  []Change
}

func (w *walker) emit(kind Kind, a, b any) {
	c := Change{Kind: kind, Old: a, New: b}
	var p strings.Builder
	for _, s := range w.path {
		switch {
		case s.index >= 0:
			p.WriteString("[" + strconv.Itoa(s.index) + "]")
		case !isPlainKey(s.key):
			p.WriteString("[" + strconv.Quote(s.key) + "]")
		default:
			if p.Len() > 0 {
				p.WriteByte('.')
			}
			p.WriteString(s.key)
		}
		if s.index < 0 {
			c.Keys = append(c.Keys, s.key)
		}
	}
	c.Path = p.String()
	w.out = append(w.out, c)
}

func (w *walker) walk(a, b any) {
	switch av := a.(type) {
	case map[string]any:
		if bv, ok := b.(map[string]any); ok {
			w.object(av, bv)
			return
		}
	case []any:
		if bv, ok := b.([]any); ok {
			w.array(av, bv)
			return
		}
	}
	if !scalarEqual(a, b) {
		w.emit(Changed, a, b)
	}
}

func (w *walker) object(a, b map[string]any) {
	names := make([]string, 0, len(a)+len(b))
	for k := range a {
		names = append(names, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		av, inA := a[k]
		bv, inB := b[k]
		w.path = append(w.path, segment{key: k, index: -1})
		switch {
		case !inA:
			w.emit(Added, nil, bv)
		case !inB:
			w.emit(Removed, av, nil)
		default:
			w.walk(av, bv)
		}
		w.path = w.path[:len(w.path)-1]
	}
}

func (w *walker) array(a, b []any) {
	for i := range max(len(a), len(b)) {
		w.path = append(w.path, segment{index: i})
		switch {
		case i >= len(a):
			w.emit(Added, nil, b[i])
		case i >= len(b):
			w.emit(Removed, a[i], nil)
		default:
			w.walk(a[i], b[i])
		}
		w.path = w.path[:len(w.path)-1]
	}
}

// isPlainKey reports a key that can be written dotted; any other key is
// bracket-quoted so the path stays unambiguous.
func isPlainKey(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || !(r == '-' || (r >= '0' && r <= '9'))) {
			return false
		}
	}
	return true
}

func scalarEqual(a, b any) bool {
	if an, ok := number(a); ok {
		bn, ok := number(b)
		return ok && an == bn
	}
	switch av := a.(type) {
	case map[string]any, []any:
		return false // container against a different kind of value
	case nil:
		return b == nil
	case string:
		bv, ok := b.(string)
		return ok && av == bv
	case bool:
		bv, ok := b.(bool)
		return ok && av == bv
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// number normalises json.Number and float64 to an exact decimal text:
// int64 when it fits, otherwise an exact rational, so large IDs that a
// float64 would round never compare equal by accident.
func number(v any) (string, bool) {
	var text string
	switch n := v.(type) {
	case json.Number:
		text = n.String()
	case float64:
		text = strconv.FormatFloat(n, 'g', -1, 64)
	case int:
		return strconv.Itoa(n), true
	default:
		return "", false
	}
	if i, err := strconv.ParseInt(text, 10, 64); err == nil {
		return strconv.FormatInt(i, 10), true
	}
	if r, ok := new(big.Rat).SetString(text); ok {
		return r.RatString(), true
	}
	return text, true
}
