package repair

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"statescope/stores"
	"statescope/stores/redact"
)

// Diff is a unified diff of two records (nil = no record) with every
// secret-looking value masked. A masked value that differs between the two
// is marked "(changed)" so the diff still shows that it changes. Diffs are
// printed and may be logged, so they never carry secrets.
func Diff(fromName, toName string, from, to *stores.State) string {
	a, b := maskPair(from, to)
	ud := difflib.UnifiedDiff{
		A:        lines(a),
		B:        lines(b),
		FromFile: fromName,
		ToFile:   toName,
		Context:  3,
	}
	text, err := difflib.GetUnifiedDiffString(ud)
	if err != nil || text == "" {
		return "(no differences)\n"
	}
	return text
}

// lines is a record's upstream encoding as diff lines; no record, no lines.
func lines(s *stores.State) []string {
	if s == nil {
		return nil
	}
	b, err := stores.EncodeState(s)
	if err != nil {
		return []string{"(unencodable record: " + err.Error() + ")\n"}
	}
	return difflib.SplitLines(string(b))
}

const changedMask = redact.Mask + " (changed)"

func maskPair(a, b *stores.State) (*stores.State, *stores.State) {
	switch {
	case a == nil && b == nil:
		return nil, nil
	case a == nil:
		return nil, redact.State(b)
	case b == nil:
		return redact.State(a), nil
	}
	ma, mb := a.Clone(), b.Clone()
	ma.Outputs, mb.Outputs = maskMaps(a.Outputs, b.Outputs)
	ma.Config, mb.Config = maskMaps(a.Config, b.Config)
	ma.Error, mb.Error = maskStrings(a.Error, b.Error)
	ua, ub := maskMaps(redact.FieldValues(a.Unknown), redact.FieldValues(b.Unknown))
	ma.Unknown, mb.Unknown = fieldsFrom(a.Unknown, ua), fieldsFrom(b.Unknown, ub)
	return ma, mb
}

// fieldsFrom is fs in its order with the values of masked.
func fieldsFrom(fs []stores.Field, masked map[string]any) []stores.Field {
	out := make([]stores.Field, 0, len(fs))
	for _, f := range fs {
		v, err := json.Marshal(masked[f.Key])
		if err != nil {
			v, _ = json.Marshal(redact.Mask)
		}
		out = append(out, stores.Field{Key: f.Key, Value: v})
	}
	return out
}

// maskStrings masks free text the way redact.Text does, marking a change
// that masking would hide.
func maskStrings(a, b string) (string, string) {
	ma, mb := redact.Text(a), redact.Text(b)
	if a != b && ma == mb {
		mb += " (changed)"
	}
	return ma, mb
}

func maskMaps(a, b map[string]any) (map[string]any, map[string]any) {
	if a == nil || b == nil {
		return redact.Map(a), redact.Map(b)
	}
	ma, mb := make(map[string]any, len(a)), make(map[string]any, len(b))
	for k, va := range a {
		if vb, ok := b[k]; ok {
			ma[k], mb[k] = maskValues(k, va, vb)
		} else {
			ma[k] = redact.Value(k, va)
		}
	}
	for k, vb := range b {
		if _, ok := a[k]; !ok {
			mb[k] = redact.Value(k, vb)
		}
	}
	return ma, mb
}

// maskValues masks one value present on both sides under the same key.
func maskValues(key string, a, b any) (any, any) {
	if am, ok := a.(map[string]any); ok {
		if bm, ok := b.(map[string]any); ok && !redact.IsSecretKey(key) {
			return maskMaps(am, bm)
		}
	}
	if al, ok := a.([]any); ok {
		if bl, ok := b.([]any); ok && len(al) == len(bl) && !redact.IsSecretKey(key) {
			ma, mb := make([]any, len(al)), make([]any, len(bl))
			for i := range al {
				ma[i], mb[i] = maskValues("", al[i], bl[i])
			}
			return ma, mb
		}
	}
	ma, mb := redact.Value(key, a), redact.Value(key, b)
	if mb == redact.Mask && !reflect.DeepEqual(a, b) {
		mb = changedMask
	}
	return ma, mb
}

// indent prefixes every line, for nesting diffs in messages.
func indent(s, prefix string) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, prefix) + "\n"
}
