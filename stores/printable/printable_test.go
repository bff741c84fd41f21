package printable_test

import (
	"testing"

	"statescope/stores/printable"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"prod/db/orders", "prod/db/orders"},
		{`q"uote\back`, `q"uote\back`},
		{"münchen 東京", "münchen 東京"},
		{"new\nline\ttab\r", `new\nline\ttab\r`},
		{"esc\x1b[31m\x07\x00\x7f", `esc\x1b[31m\a\x00\x7f`},
		{"bidi\u202e zw\u200b", `bidi\u202e zw\u200b`},
		{"bad\xff\xfe", `bad\xff\xfe`},
		{"c1\u0085", `c1\u0085`},
	} {
		if got := printable.Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if printable.Is(tc.in) != (tc.in == tc.want) {
			t.Errorf("Is(%q) = %v", tc.in, printable.Is(tc.in))
		}
	}
}

// FuzzEscape: what Escape gives always prints, a string is kept as it is
// exactly when it prints, and escaping twice changes nothing.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"prod/db/orders", "new\nline", "esc\x1b[2J", "bidi\u202e", "bad\xff", "~\x7f", " "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := printable.Escape(s)
		if !printable.Is(e) {
			t.Errorf("Escape(%q) = %q does not print", s, e)
		}
		if printable.Is(s) != (e == s) {
			t.Errorf("Is(%q) = %v but Escape gives %q", s, printable.Is(s), e)
		}
		if printable.Escape(e) != e {
			t.Errorf("escaping %q twice changed it", s)
		}
	})
}
