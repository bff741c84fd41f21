package stores

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Target is a parsed store address: a scheme plus the URL, or a bare path
// for the filesystem store.
type Target struct {
	Raw    string
	Scheme string
	URL    *url.URL
	// Path is the local directory for bare-path and file:// targets.
	Path string
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
	return forms
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

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// Open opens the store a target names, through the registered backends.
func Open(ctx context.Context, raw string) (Store, error) {
	t, err := ParseTarget(raw)
	if err != nil {
		return nil, err
	}
	registryMu.RLock()
	b, ok := registry[t.Scheme]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown store scheme %q in %q; %s", t.Scheme, RedactTarget(raw), acceptedHint())
	}
	return b.open(ctx, t)
}

func acceptedHint() string {
	forms := AcceptedForms()
	if len(forms) == 0 {
		return "no store backends are registered"
	}
	return "accepted forms: " + strings.Join(forms, ", ")
}

// secretParams are query parameters whose values are (or may carry)
// credentials; config= and cfg.KEY= carry a plugin's configuration.
var secretParams = []string{"secret", "password", "key", "token", "sig", "credential", "config", "cfg."}

var (
	keywordDSN      = regexp.MustCompile(`^\s*(host|hostaddr|dbname|user|port|sslmode|password|service)\s*=`)
	dsnPassword     = regexp.MustCompile(`(?i)\b(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
	userInfoSecret  = regexp.MustCompile(`(://[^/:@\s]*:)[^@\s]*@`)
	querySecretText = regexp.MustCompile(`(?i)([?&][^=&]*(?:secret|password|key|token|sig|credential|config|cfg\.)[^=&]*=)[^&\s]*`)
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
		for _, s := range secretParams {
			if strings.Contains(lk, s) {
				q.Set(k, "xxxxx")
				changed = true
			}
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
