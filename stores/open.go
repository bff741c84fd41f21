package stores

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// Target is a parsed store address: a scheme plus the URL, or a bare path
// for the filesystem store.
type Target struct {
	Raw    string
	Scheme string
	URL    *url.URL
	// Path is the local directory for bare-path and file:// targets.
	Path string
	// ReadOnly: opened by OpenReadOnly, only to be read. A backend may
	// then share what is safe to share between readers only.
	ReadOnly bool
}

// Opener builds a store from a parsed target.
type Opener func(ctx context.Context, t Target) (Store, error)

type backend struct {
	usage string
	open  Opener
}

var (
	registryMu sync.RWMutex
	registry   = map[string]backend{}
)

// Register makes a scheme openable. usage is the form shown in errors, e.g.
// "s3://bucket/prefix?region=R". Backends call it from init.
func Register(scheme, usage string, open Opener) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry[scheme] = backend{usage: usage, open: open}
}

// AcceptedForms lists the usage of every registered scheme, sorted.
func AcceptedForms() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	var forms []string
	for _, b := range registry {
		forms = append(forms, b.usage)
	}
	sort.Strings(forms)
	return slices.Compact(forms) // aliases (postgres, postgresql) share one form
}

// ParseTarget reads a target: "scheme://…" or a bare filesystem path.
func ParseTarget(raw string) (Target, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Target{}, fmt.Errorf("empty store target; %s", acceptedHint())
	}
	if keywordDSN.MatchString(raw) {
		// A libpq keyword DSN ("host=… dbname=…") is PostgreSQL, never a path.
		return Target{Raw: raw, Scheme: "postgres"}, nil
	}
	if !strings.Contains(raw, "://") {
		abs, err := filepath.Abs(raw)
		if err != nil {
			return Target{}, fmt.Errorf("store target %q: %w", raw, err)
		}
		return Target{Raw: raw, Scheme: "file", Path: abs}, nil
	}
	if err := checkUserInfo(raw); err != nil {
		return Target{}, err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, fmt.Errorf("malformed store target %q: %v; %s", RedactTarget(raw), unwrapURLError(err), acceptedHint())
	}
	if u.Scheme == "" {
		return Target{}, fmt.Errorf("malformed store target %q: no scheme before ://; %s", RedactTarget(raw), acceptedHint())
	}
	t := Target{Raw: raw, Scheme: strings.ToLower(u.Scheme), URL: u}
	if t.Scheme == "file" {
		if u.Host != "" && u.Host != "localhost" {
			return Target{}, fmt.Errorf("file target %q must be file:///absolute/dir (no host)", raw)
		}
		if !filepath.IsAbs(u.Path) {
			return Target{}, fmt.Errorf("file target %q must name an absolute directory", raw)
		}
		t.Path = filepath.Clean(u.Path)
	}
	return t, nil
}

// checkUserInfo refuses a URL whose authority holds more than one "@":
// parsers disagree on where its password ends (Go's takes the last "@",
// PostgreSQL's driver the first, and then resolves the rest of the
// password as a host name, quoting it in its error).
func checkUserInfo(raw string) error {
	rest := raw[strings.Index(raw, "://")+3:]
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if strings.Count(rest, "@") > 1 {
		return fmt.Errorf("store target %q: the user name or password holds an unescaped @; escape @ in the password as %%40", RedactTarget(raw))
	}
	return nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// Open opens the store a target names, through the registered backends.
func Open(ctx context.Context, raw string) (Store, error) { return open(ctx, raw, false) }

// OpenReadOnly opens a target only to read it: the store is wrapped by
// ReadOnly, and its backend is told (Target.ReadOnly).
func OpenReadOnly(ctx context.Context, raw string) (Store, error) {
	s, err := open(ctx, raw, true)
	if err != nil {
		return nil, err
	}
	return ReadOnly(s), nil
}

func open(ctx context.Context, raw string, readOnly bool) (Store, error) {
	t, err := ParseTarget(raw)
	if err != nil {
		return nil, err
	}
	t.ReadOnly = readOnly
	registryMu.RLock()
	b, ok := registry[t.Scheme]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown store scheme %q in %q; %s", t.Scheme, RedactTarget(raw), acceptedHint())
	}
	s, err := b.open(ctx, t)
	if err != nil {
		return nil, NewRedactor(raw).Error(err)
	}
	return s, nil
}

func acceptedHint() string {
	forms := AcceptedForms()
	if len(forms) == 0 {
		return "no store backends are registered"
	}
	return "accepted forms: " + strings.Join(forms, ", ")
}

// secretParams are query parameters whose values are (or may carry)
// credentials. A plugin's configuration (cfg.KEY=, config={json}) is masked
// only where its keys look secret: a directory or a bucket is not a secret.
var secretParams = []string{"secret", "password", "key", "token", "sig", "credential"}

// secretParam reports a query parameter (or configuration key) whose value
// is a credential.
func secretParam(name string) bool {
	ln := strings.ToLower(name)
	for _, s := range secretParams {
		if strings.Contains(ln, s) {
			return true
		}
	}
	return false
}

// configSecrets calls add with each secret-looking value of a config=
// JSON object, at any depth; an unreadable object is secret as a whole.
func configSecrets(v string, add func(string)) {
	var m map[string]any
	if json.Unmarshal([]byte(v), &m) != nil {
		add(v)
		return
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				walk(k, e)
			}
		case []any:
			for _, e := range t {
				walk(key, e)
			}
		case string:
			if secretParam(key) {
				add(t)
			} else if strings.Contains(t, "://") {
				targetSecrets(t, add)
			}
		}
	}
	walk("", m)
}

// maskConfig is a config= JSON object with its secret-looking values
// masked, for display.
func maskConfig(v string) string {
	masked := v
	configSecrets(v, func(secret string) {
		if secret == v {
			masked = "xxxxx"
			return
		}
		quoted, _ := json.Marshal(secret)
		masked = strings.ReplaceAll(masked, string(quoted), `"xxxxx"`)
	})
	return masked
}

var (
	keywordDSN      = regexp.MustCompile(`^\s*(host|hostaddr|dbname|user|port|sslmode|password|service)\s*=`)
	dsnPassword     = regexp.MustCompile(`(?i)\b(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
	userInfoSecret  = regexp.MustCompile(`(://[^/:@\s]*:)[^@\s]*@`)
	querySecretText = regexp.MustCompile(`(?i)([?&][^=&]*(?:secret|password|key|token|sig|credential)[^=&]*=)[^&\s]*`)
)

// RedactTarget removes credentials from a target for display: the password
// of the user info, keyword-DSN passwords and the values of secret-looking
// query parameters. Targets that do not parse are redacted textually.
func RedactTarget(raw string) string {
	if keywordDSN.MatchString(raw) {
		return dsnPassword.ReplaceAllString(raw, "${1}xxxxx")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		out := userInfoSecret.ReplaceAllString(raw, "${1}xxxxx@")
		return querySecretText.ReplaceAllString(out, "${1}xxxxx")
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	changed := false
	for k, vals := range q {
		lk := strings.ToLower(k)
		switch {
		case lk == "config":
			for i, v := range vals {
				if m := maskConfig(v); m != v {
					q[k][i] = m
					changed = true
				}
			}
			continue
		case secretParam(strings.TrimPrefix(lk, "cfg.")):
			q.Set(k, "xxxxx")
			changed = true
		}
		// A URL-valued parameter (endpoint=https://u:p@host) can carry a password.
		for i, v := range vals {
			if strings.Contains(v, "://") && !strings.Contains(lk, "secret") {
				if r := RedactTarget(v); r != v {
					q[k][i] = r
					changed = true
				}
			}
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Redactor removes credentials from text that may quote them: a backend's
// or a driver's error, a log line. It knows the secrets of the targets it
// was made for (and of the environment the backends take credentials
// from) and masks them wherever they appear, in whatever words; it also
// masks every URL password, keyword-DSN password and secret-looking query
// value, as RedactTarget does.
type Redactor struct {
	replacer *strings.Replacer
}

// minSecret is the shortest value masked wherever it appears: shorter ones
// would mangle ordinary words, and are masked where they sit in a URL or DSN.
const minSecret = 4

// minEnvSecret is the same for environment variables, whose secret-looking
// names also hold flags and switches ("true").
const minEnvSecret = 8

// NewRedactor makes a Redactor for these targets.
func NewRedactor(targets ...string) Redactor {
	seen := map[string]bool{}
	var secrets []string
	add := func(v string, min int) {
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
			if len(form) >= min && !seen[form] {
				seen[form] = true
				secrets = append(secrets, form)
			}
		}
	}
	for _, t := range targets {
		targetSecrets(t, func(v string) {
			add(v, minSecret)
			// A parser that split the value elsewhere quotes its pieces.
			for _, piece := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune("@:/", r) }) {
				add(piece, minSecret)
			}
		})
	}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && secretEnv.MatchString(k) && mixed(v) {
			add(v, minEnvSecret)
		}
	}
	// Longest first, so a secret is never half masked by a piece of it.
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, "xxxxx")
	}
	return Redactor{replacer: strings.NewReplacer(pairs...)}
}

// mixed reports a value with at least two kinds of character (lower and
// upper case, digits, others): a key or a password, not a word such as
// "postgres" that a secret-looking variable may hold and that ordinary
// messages use.
func mixed(v string) bool {
	kinds := map[int]bool{}
	for _, r := range v {
		switch {
		case unicode.IsLower(r):
			kinds[0] = true
		case unicode.IsUpper(r):
			kinds[1] = true
		case unicode.IsDigit(r):
			kinds[2] = true
		default:
			kinds[3] = true
		}
	}
	return len(kinds) >= 2
}

// secretEnv names the environment variables backends read credentials
// from (AWS_SECRET_ACCESS_KEY, AZURE_STORAGE_KEY, PGPASSWORD, …).
var secretEnv = regexp.MustCompile(`(?i)(secret|password|passwd|token|_key$|credential|connection_string|sas)`)

// targetSecrets calls add with every credential written into a target.
func targetSecrets(raw string, add func(string)) {
	if keywordDSN.MatchString(raw) {
		for _, m := range dsnPassword.FindAllStringSubmatch(raw, -1) {
			add(strings.Trim(m[2], "'"))
		}
		return
	}
	if rest, ok := strings.CutPrefix(raw[strings.Index(raw, "://")+1:], "//"); ok {
		// The user info as written, before any parser decides where it ends.
		if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				add(pw)
			}
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		for _, m := range querySecretText.FindAllStringSubmatch(raw, -1) {
			add(strings.TrimPrefix(m[0], m[1]))
		}
		return
	}
	if pw, ok := u.User.Password(); ok {
		add(pw)
	}
	for k, vals := range u.Query() {
		lk := strings.ToLower(k)
		for _, v := range vals {
			switch {
			case lk == "config":
				configSecrets(v, add)
				continue
			case secretParam(strings.TrimPrefix(lk, "cfg.")):
				add(v)
			}
			if strings.Contains(v, "://") {
				targetSecrets(v, add)
			}
		}
	}
}

// String masks every credential in s.
func (r Redactor) String(s string) string {
	if r.replacer != nil {
		s = r.replacer.Replace(s)
	}
	s = dsnPassword.ReplaceAllString(s, "${1}xxxxx")
	s = userInfoSecret.ReplaceAllString(s, "${1}xxxxx@")
	return querySecretInText.ReplaceAllString(s, "${1}xxxxx")
}

// querySecretInText is querySecretText for a URL inside other words: a
// parameter never spans white space or quotes.
var querySecretInText = regexp.MustCompile(`(?i)([?&][^=&\s'"]*(?:secret|password|key|token|sig|credential)[^=&\s'"]*=)[^&\s'"]*`)

// Error is err with its message masked; errors.Is and errors.As still see
// the errors it wraps. nil stays nil.
func (r Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := r.String(err.Error())
	if msg == err.Error() {
		return err
	}
	return redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }
