package redact

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"statescope/stores"
	"statescope/stores/redact/redacttest"
)

func TestIsSecretKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"password", true}, {"db_password", true}, {"PASSWORD", true}, {"secret", true},
		{"client_secret", true}, {"token", true}, {"api_key", true}, {"apiKey", true},
		{"access_key", true}, {"private_key", true}, {"credentials", true},
		{"connection_string", true}, {"dsn", true}, {"key", true}, {"ssh-key", true},
		{"\u212Aey", true}, {"paſſword", true}, {"ſaſ", true}, {"x_\u212AEY", true},
		{"endpoint", false}, {"port", false}, {"hostname", false}, {"keyspace", false},
		{"monkey_count", false}, {"region", false}, {"public_ip", false}, {"", false},
		{"key ", false}, {"_key\n", false}, {"pass-word", false}, {"tok\u00e9n", false},
		{strings.Repeat("x", 100) + "_key", true}, {strings.Repeat("é", 40) + "Token", true},
		// A token's first letters at the very end of a name that fills the
		// scan buffer.
		{strings.Repeat("x", 61) + "pas", false}, {strings.Repeat("x", 62) + "au", false},
	}
	for _, tt := range tests {
		if got := IsSecretKey(tt.key); got != tt.want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
		if ref := refIsSecretKey(tt.key); ref != tt.want {
			t.Errorf("reference rules disagree with the table on %q", tt.key)
		}
	}
}

// Every rule of the reference pattern has an example in redacttest, and
// each example is matched by its own rule alone, so dropping any one rule
// unmasks its example.
func TestEveryRuleHasItsOwnExample(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range redacttest.SecretKeys {
		if got := refRulesMatching(c.Key); !slices.Equal(got, []string{c.Rule}) {
			t.Errorf("example %q of rule %q is matched by %q", c.Key, c.Rule, got)
		}
		covered[c.Rule] = true
	}
	for _, r := range refKeyRules {
		if !covered[r] {
			t.Errorf("rule %q has no example in redacttest.SecretKeys", r)
		}
	}
	for _, c := range redacttest.SecretValues {
		if refIsSecretKey(c.Key) || !refIsSecretValue(c.Value) {
			t.Errorf("value example %q under %q does not test the value rule alone", c.Value, c.Key)
		}
	}
}

// keyVariants spells a key as given, lower-cased and upper-cased.
func keyVariants(k string) []string {
	return []string{k, strings.ToLower(k), strings.ToUpper(k)}
}

// TestEveryRuleMasks runs every secret-key and secret-value rule through
// Value at the top level, in a nested map and in a list, in every case.
func TestEveryRuleMasks(t *testing.T) {
	for _, c := range redacttest.SecretKeys {
		for _, k := range keyVariants(c.Key) {
			t.Run(c.Rule+"/"+k, func(t *testing.T) {
				if !IsSecretKey(k) {
					t.Fatalf("IsSecretKey(%q) = false", k)
				}
				for _, v := range []any{"hunter2", json.Number("42"), true, map[string]any{"a": "b"}, []any{"x"}} {
					if got := Value(k, v); got != Mask {
						t.Errorf("Value(%q, %v) = %v, want the mask", k, v, got)
					}
				}
				if got := Value(k, nil); got != nil {
					t.Errorf("Value(%q, nil) = %v: nothing to hide, null stays null", k, got)
				}
				nested := Value("outer", map[string]any{"inner": []any{map[string]any{k: "hunter2"}}})
				if got := nested.(map[string]any)["inner"].([]any)[0].(map[string]any)[k]; got != Mask {
					t.Errorf("%q in a list in a map: %v", k, got)
				}
			})
		}
	}
	for _, c := range redacttest.SecretValues {
		t.Run(c.Rule+"/"+c.Key, func(t *testing.T) {
			if got := Value(c.Key, c.Value); got != Mask {
				t.Errorf("Value(%q) = %v", c.Value, got)
			}
			if got := Value("", []any{"plain", c.Value}).([]any); got[0] != "plain" || got[1] != Mask {
				t.Errorf("in a list: %v", got)
			}
			if got := Value("x", map[string]any{"deep": map[string]any{c.Key: c.Value}}); !strings.Contains(fmt.Sprint(got), Mask) {
				t.Errorf("nested: %v", got)
			}
			if got := Text("failed: " + c.Value + " (retrying)"); len(redacttest.Leaks(got)) > 0 || !strings.HasSuffix(got, " (retrying)") {
				t.Errorf("Text = %q", got)
			}
		})
	}
}

// TestStateAndCountMaskEveryRuleEverywhere masks the record carrying every
// rule at every depth of outputs and config.
func TestStateAndCountMaskEveryRuleEverywhere(t *testing.T) {
	s := redacttest.Record("db")
	before, _ := json.Marshal(s)
	m := State(s)
	out, _ := json.Marshal(m)
	if leaks := redacttest.Leaks(string(out)); len(leaks) > 0 {
		t.Errorf("State leaves %d secrets:\n%s", len(leaks), strings.Join(leaks, "\n"))
	}
	for k, v := range redacttest.Plain {
		if m.Outputs[k] != v || m.Config["nested"].(map[string]any)["deeper"].(map[string]any)[k] != v {
			t.Errorf("plain %q masked or lost", k)
		}
	}
	if n, want := Count(s), redacttest.Masked(); n != want {
		t.Errorf("Count = %d, want %d", n, want)
	}
	if after, _ := json.Marshal(s); string(after) != string(before) {
		t.Error("masking changed the original record")
	}
	if !reflect.DeepEqual(m, refState(s)) {
		t.Error("State differs from the reference masking")
	}
}

func TestStateMasksWithoutTouchingOriginal(t *testing.T) {
	s := &stores.State{ResourceID: "db", Outputs: map[string]any{
		"host":     "db.internal",
		"password": "hunter2",
		"nested":   map[string]any{"token": "abc", "url": "postgres://app:s3cret@db:5432/app"},
		"list":     []any{"-----BEGIN RSA PRIVATE KEY-----\nxyz"},
	}, Dependencies: []string{"vpc"}}
	m := State(s)
	if m.Outputs["password"] != Mask || m.Outputs["host"] != "db.internal" {
		t.Errorf("masking: %v", m.Outputs)
	}
	nested := m.Outputs["nested"].(map[string]any)
	if nested["token"] != Mask || nested["url"] != Mask {
		t.Errorf("nested masking: %v", nested)
	}
	if m.Outputs["list"].([]any)[0] != Mask {
		t.Errorf("PEM in a list not masked")
	}
	m.Outputs["host"], m.Dependencies[0] = "changed", "changed"
	if s.Outputs["password"] != "hunter2" || s.Outputs["host"] != "db.internal" || s.Dependencies[0] != "vpc" {
		t.Error("masking shares or changed the original record")
	}
	if n := Count(s); n != 4 {
		t.Errorf("Count = %d, want 4", n)
	}
}

func TestIsSecretValue(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"postgres://app:s3cret@db/x", true}, {"a://@b then c://u:p@h", true}, {"a://u@h:p", false},
		{"https://host/x@y", false}, {"x://u:p @h", false}, {"://:@", false}, {"u:p@h", false},
		{"-----BEGIN PRIVATE KEY-----", true}, {"-----BEGIN ENCRYPTED PRIVATE KEY-----", true},
		{"-----BEGIN CERTIFICATE-----", false}, {"-----begin private key-----", false}, {"", false},
	}
	for _, tt := range tests {
		if got := IsSecretValue(tt.v); got != tt.want || refIsSecretValue(tt.v) != tt.want {
			t.Errorf("IsSecretValue(%q) = %v, reference %v, want %v", tt.v, got, refIsSecretValue(tt.v), tt.want)
		}
	}
}

func TestText(t *testing.T) {
	got := Text("dial postgres://app:s3cret@db:5432/x failed")
	if got != "dial postgres://app:"+Mask+"@db:5432/x failed" {
		t.Errorf("Text = %q", got)
	}
	pem := "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----"
	if got := Text("bad key " + pem + "\nnext line"); got != "bad key "+Mask+"\nnext line" {
		t.Errorf("Text of a PEM key = %q: its body must go too", got)
	}
	if got := Text("truncated " + pem[:40]); got != "truncated "+Mask {
		t.Errorf("Text of a truncated PEM key = %q", got)
	}
	for _, s := range []string{"no secrets", "https://host/path@v1", "user@host", "PRIVATE KEY"} {
		if Text(s) != s {
			t.Errorf("Text(%q) changed it", s)
		}
	}
}

// foldsToASCII are the runes outside ASCII that case-insensitive matching
// equates with an ASCII letter; foldKey must know exactly these.
func TestFoldKeyKnowsEveryRuneFoldingToASCII(t *testing.T) {
	var found []rune
	for r := rune(utf8RuneSelf); r <= unicode.MaxRune; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < utf8RuneSelf {
				found = append(found, r)
				break
			}
		}
	}
	if !slices.Equal(found, []rune{'\u017F', '\u212A'}) {
		t.Fatalf("runes folding to ASCII: %q; foldKey handles only ſ and K", found)
	}
	for _, r := range found {
		for _, tok := range append(slices.Clone(secretTokens), "key", "x_key") {
			for i := range tok {
				k := tok[:i] + string(r) + tok[i+1:]
				if IsSecretKey(k) != refIsSecretKey(k) {
					t.Errorf("IsSecretKey(%q) = %v, reference %v", k, IsSecretKey(k), refIsSecretKey(k))
				}
			}
		}
	}
}

const utf8RuneSelf = 0x80

// randomKey builds key names around the rules' tokens: fragments of them,
// separators, random case, runes that fold to ASCII and ones that do not.
func randomKey(rng *rand.Rand) string {
	parts := []string{"key", "_", "-", "pass", "word", "conn", "ection", "str", "cert", "ificate",
		"api", "access", "session", "sas", "au", "th", "tok", "en", "ds", "n", "x", " ", "\n",
		"\u212A", "\u017F", "é", "\xff", "ſ", "secre", "t", "pw", "d", "private", "signing", "credential"}
	var b strings.Builder
	for n := rng.IntN(6); n >= 0; n-- {
		p := parts[rng.IntN(len(parts))]
		if rng.IntN(2) == 0 {
			p = strings.ToUpper(p)
		}
		b.WriteString(p)
	}
	return b.String()
}

func randomValue(rng *rand.Rand) string {
	parts := []string{"://", "@", ":", "/", " ", "\t", "user", "pw", "host", "-----BEGIN ", "RSA ",
		"PRIVATE KEY-----", "PRIVATE KEY", "-----", "\n", "x", "é", "postgres", "https"}
	var b strings.Builder
	for n := rng.IntN(8); n >= 0; n-- {
		b.WriteString(parts[rng.IntN(len(parts))])
	}
	return b.String()
}

func randomTree(rng *rand.Rand, depth int) any {
	switch n := rng.IntN(6); {
	case n == 0 && depth < 3:
		m := map[string]any{}
		for i := rng.IntN(4); i >= 0; i-- {
			m[randomKey(rng)] = randomTree(rng, depth+1)
		}
		return m
	case n == 1 && depth < 3:
		l := []any{}
		for i := rng.IntN(3); i >= 0; i-- {
			l = append(l, randomTree(rng, depth+1))
		}
		return l
	case n == 2:
		return nil
	case n == 3:
		return json.Number("7")
	default:
		return randomValue(rng)
	}
}

// TestMatchesReferenceRules is the property test: on generated keys,
// values and records the fast matcher and the reference rules agree.
func TestMatchesReferenceRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		if k := randomKey(rng); IsSecretKey(k) != refIsSecretKey(k) || scanKey(k) != IsSecretKey(k) {
			t.Fatalf("IsSecretKey(%q) = %v, reference %v", k, IsSecretKey(k), refIsSecretKey(k))
		}
		if v := randomValue(rng); IsSecretValue(v) != refIsSecretValue(v) || Text(v) != refText(v) {
			t.Fatalf("value %q: IsSecretValue %v (reference %v), Text %q (reference %q)",
				v, IsSecretValue(v), refIsSecretValue(v), Text(v), refText(v))
		}
	}
	for range 500 {
		s := &stores.State{ResourceID: "r"}
		s.Outputs, _ = randomTree(rng, 0).(map[string]any)
		s.Config, _ = randomTree(rng, 0).(map[string]any)
		if got, want := State(s), refState(s); !reflect.DeepEqual(got, want) {
			t.Fatalf("State differs from the reference:\n%#v\n%#v", got, want)
		}
		if got, want := Count(s), refCount(s.Outputs)+refCount(s.Config); got != want {
			t.Fatalf("Count = %d, reference %d for %#v", got, want, s)
		}
	}
}

func FuzzIsSecretKey(f *testing.F) {
	for _, tok := range secretTokens {
		f.Add(tok)
		f.Add(strings.ToUpper(tok) + "_x")
	}
	for _, s := range []string{"key", "_key", "-KEY", "keys", "\u212Aey", "ſecret", "pass\xffword", "é_key"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, k string) {
		if IsSecretKey(k) != refIsSecretKey(k) || scanKey(k) != refIsSecretKey(k) {
			t.Errorf("IsSecretKey(%q) = %v, scanKey %v, reference %v", k, IsSecretKey(k), scanKey(k), refIsSecretKey(k))
		}
	})
}

func FuzzIsSecretValue(f *testing.F) {
	for _, c := range redacttest.SecretValues {
		f.Add(c.Value)
	}
	for _, s := range []string{"https://host/x@y", "a://b:c@", "://:@", "-----BEGIN  PRIVATE KEY-----", "x://u:p @h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if IsSecretValue(v) != refIsSecretValue(v) {
			t.Errorf("IsSecretValue(%q) = %v, reference %v", v, IsSecretValue(v), refIsSecretValue(v))
		}
		if Text(v) != refText(v) {
			t.Errorf("Text(%q) = %q, reference %q", v, Text(v), refText(v))
		}
	})
}

// resetKeyCache empties the verdict cache for a test of its policy.
func resetKeyCache(t *testing.T) {
	keyVerdicts.Clear()
	cachedKeys.Store(0)
	t.Cleanup(func() { keyVerdicts.Clear(); cachedKeys.Store(0) })
}

func cached(k string) bool { _, ok := keyVerdicts.Load(k); return ok }

// Names up to maxCachedKeyLen bytes are cached; longer ones are judged each
// time and never held, and a name that fits the buffer folds without
// allocating.
func TestKeyCachePolicy(t *testing.T) {
	resetKeyCache(t)
	fits, long := strings.Repeat("k", maxCachedKeyLen-4)+"_KEY", strings.Repeat("k", maxCachedKeyLen-3)+"_KEY"
	if !IsSecretKey(fits) || !IsSecretKey(long) {
		t.Fatal("wrong verdicts")
	}
	if !cached(fits) || cached(long) || cachedKeys.Load() != 1 {
		t.Errorf("cached %q: %v, %q: %v, count %d", fits, cached(fits), long, cached(long), cachedKeys.Load())
	}
	if n := testing.AllocsPerRun(10, func() { scanKey(fits) }); n != 0 {
		t.Errorf("scanning a %d-byte name allocates %v times", len(fits), n)
	}
	if n := testing.AllocsPerRun(10, func() { IsSecretKey("password") }); n != 0 {
		t.Errorf("a cached verdict allocates %v times", n)
	}
}

// The verdict cache stops growing at its bound; names past it are still
// judged right.
func TestKeyCacheIsBounded(t *testing.T) {
	resetKeyCache(t)
	for i := range maxCachedKeys + 10 {
		k := fmt.Sprintf("bounded-%d", i)
		if IsSecretKey(k) || !IsSecretKey(k+"_key") {
			t.Fatalf("wrong verdict for %q", k)
		}
	}
	if n := cachedKeys.Load(); n != maxCachedKeys || !cached("bounded-0") || cached(fmt.Sprintf("bounded-%d", maxCachedKeys)) {
		t.Errorf("cache holds %d names, bound %d", n, maxCachedKeys)
	}
	long := strings.Repeat("x", maxCachedKeyLen) + "Token"
	if !IsSecretKey(long) || !IsSecretKey(long) {
		t.Error("a long name past the cache is not judged")
	}
}

// TestConcurrentMasking: store workers mask the records they decode, many
// at once (run under -race).
func TestConcurrentMasking(t *testing.T) {
	s := redacttest.Record("db")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if leaks := redacttest.Leaks(fmt.Sprint(State(s))); len(leaks) > 0 {
					t.Errorf("a masked record still has secrets: %q", leaks)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestUnknownFieldsMasked: fields statescope does not know are masked by
// the same rules, since they are shown too.
func TestUnknownFieldsMasked(t *testing.T) {
	s, err := stores.DecodeState([]byte(`{"resource_id":"db","future":{"api_key":"k-123","plain":1.50},"session_token":"t-456","note":"ok"}`))
	if err != nil {
		t.Fatal(err)
	}
	m := State(s)
	out, _ := stores.EncodeState(m)
	for _, secret := range []string{"k-123", "t-456"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("%s shown: %s", secret, out)
		}
	}
	if !strings.Contains(string(out), `"note":"ok"`) || !strings.Contains(string(out), `1.50`) || Count(s) != 2 {
		t.Errorf("masked record %s, count %d", out, Count(s))
	}
}
