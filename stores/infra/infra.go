// Package infra finds the state store a workflow config file (infra.yaml)
// uses, the way wfctl does: the first module of type iac.state, its
// ${VAR} references expanded from the environment, its backend and keys
// turned into a statescope target. Credentials found in the config are
// returned apart, as the environment variables the backend reads, so the
// target can be shown and logged.
package infra

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Defaults upstream applies.
const (
	DefaultDirectory = "/var/lib/workflow/iac-state"
	DefaultPrefix    = "iac-state/"
)

// Resolved is the store an infra config names.
type Resolved struct {
	// URL is the statescope target. It never carries credentials.
	URL string
	// Env holds credentials from the config, as environment variables for
	// the backend (e.g. AWS_SECRET_ACCESS_KEY, PGPASSWORD). Set them in the
	// environment before opening URL.
	Env map[string]string
	// Module and Backend say which iac.state module was used and its backend.
	Module, Backend string
	// Notes are caveats worth showing, e.g. a defaulted backend.
	Notes []string
}

// file is the part of a workflow config this package reads.
type file struct {
	Modules []struct {
		Name   string         `yaml:"name"`
		Type   string         `yaml:"type"`
		Config map[string]any `yaml:"config"`
	} `yaml:"modules"`
}

// Target reads the workflow config at path and resolves its state store.
func Target(path string) (Resolved, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Resolved{}, fmt.Errorf("infra config: %w", err)
	}
	var f file
	if err := yaml.Unmarshal(data, &f); err != nil {
		return Resolved{}, fmt.Errorf("infra config %s: %w", path, err)
	}
	count, first := 0, -1
	for i, m := range f.Modules {
		if m.Type == "iac.state" {
			if first < 0 {
				first = i
			}
			count++
		}
	}
	if first < 0 {
		return Resolved{}, fmt.Errorf("infra config %s has no module of type iac.state", path)
	}
	m := f.Modules[first]
	c := config{values: map[string]string{}}
	for k, v := range m.Config {
		c.values[k] = c.expand(scalar(v))
	}
	r, err := resolve(c)
	if err != nil {
		return Resolved{}, fmt.Errorf("infra config %s, module %q: %w", path, m.Name, err)
	}
	r.Module = m.Name
	if count > 1 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d iac.state modules; using the first, %q, as wfctl does", count, m.Name))
	}
	return r, nil
}

// scalar renders a YAML value as the string upstream's config reader would
// see; nested values are not used by any backend key.
func scalar(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// config is one module's config with ${VAR} expanded.
type config struct {
	values map[string]string
	unset  []string
}

// expand replaces ${VAR} only: a bare $ is common in passwords.
func (c *config) expand(s string) string {
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := varRef.FindStringSubmatch(ref)[1]
		v, ok := os.LookupEnv(name)
		if !ok {
			c.unset = append(c.unset, name)
		}
		return v
	})
}

// exact reads a key the engine looks up by its exact name.
func (c *config) exact(key string) string { return c.values[key] }

// fold reads a key a plugin decodes with encoding/json: an exact match
// wins, otherwise any key equal under case folding.
func (c *config) fold(key string) string {
	if v, ok := c.values[key]; ok {
		return v
	}
	keys := make([]string, 0, len(c.values))
	for k := range c.values {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic when several spellings are present
	for _, k := range keys {
		if strings.EqualFold(k, key) {
			return c.values[k]
		}
	}
	return ""
}

// required reports a missing key, naming any unset variable that may be why.
func (c *config) required(backend string, keys ...string) error {
	var missing []string
	for _, k := range keys {
		if c.fold(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	err := fmt.Sprintf("backend %s needs %s", backend, strings.Join(missing, ", "))
	if len(c.unset) > 0 {
		err += fmt.Sprintf(" (unset environment variables referenced: %s)", strings.Join(c.unset, ", "))
	}
	return fmt.Errorf("%s", err)
}

// resolve builds the target for the module's backend.
func resolve(c config) (Resolved, error) {
	backend := c.exact("backend")
	r := Resolved{Backend: backend, Env: map[string]string{}}
	switch backend {
	case "", "filesystem":
		if backend == "" {
			r.Backend = "filesystem"
			r.Notes = append(r.Notes, "no backend set: wfctl uses filesystem, but the workflow engine itself uses memory (nothing persisted)")
		}
		r.URL = c.exact("directory")
		if r.URL == "" {
			r.URL = DefaultDirectory
		}
	case "postgres":
		dsn := c.exact("dsn")
		if dsn == "" {
			dsn = c.exact("connection_string")
		}
		if dsn == "" {
			return Resolved{}, c.required("postgres", "dsn")
		}
		u, password, err := postgresURL(dsn)
		if err != nil {
			return Resolved{}, err
		}
		r.URL = u
		if password != "" {
			r.Env["PGPASSWORD"] = password
		}
	case "s3", "spaces":
		if err := c.required(backend, "bucket"); err != nil {
			return Resolved{}, err
		}
		if c.fold("region") == "" && c.fold("endpoint") == "" {
			return Resolved{}, fmt.Errorf("backend %s needs region or endpoint", backend)
		}
		q := url.Values{}
		for _, k := range []string{"region", "endpoint"} {
			if v := c.fold(k); v != "" {
				q.Set(k, v)
			}
		}
		r.URL = objectURL(backend, c.fold("bucket"), c.fold("prefix"), q)
		// Static keys count only as a pair, as the plugins use them.
		if ak, sk := c.fold("accessKey"), c.fold("secretKey"); ak != "" && sk != "" {
			names := map[string][2]string{"s3": {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}, "spaces": {"DO_SPACES_ACCESS_KEY", "DO_SPACES_SECRET_KEY"}}[backend]
			r.Env[names[0]], r.Env[names[1]] = ak, sk
		}
	case "gcs":
		if err := c.required("gcs", "bucket"); err != nil {
			return Resolved{}, err
		}
		r.URL = objectURL("gs", c.fold("bucket"), c.fold("prefix"), nil)
	case "azure_blob":
		if err := c.required("azure_blob", "container", "account_url", "account_name", "account_key"); err != nil {
			return Resolved{}, err
		}
		r.URL = objectURL("azblob", c.fold("container"), c.fold("prefix"), url.Values{"account_url": {c.fold("account_url")}})
		r.Env["AZURE_STORAGE_ACCOUNT"], r.Env["AZURE_STORAGE_KEY"] = c.fold("account_name"), c.fold("account_key")
	case "memory":
		return Resolved{}, fmt.Errorf("backend memory keeps state only inside the running process; nothing is persisted for statescope to read")
	default:
		return Resolved{}, fmt.Errorf("unknown iac.state backend %q (statescope reads filesystem, postgres, s3, spaces, gcs and azure_blob)", backend)
	}
	return r, nil
}

// objectURL is scheme://bucket/prefix, the prefix verbatim (upstream
// defaults only an empty one).
func objectURL(scheme, bucket, prefix string, q url.Values) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	u := url.URL{Scheme: scheme, Host: bucket, Path: "/" + prefix, RawQuery: q.Encode()}
	return u.String()
}
