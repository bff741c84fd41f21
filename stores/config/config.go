// Package config reads statescope's config file: named contexts (a store
// target each, kubeconfig style), the default one, read-only mode, the
// stale threshold and key binding overrides.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole file.
//
//	current-context: prod
//	readonly: false
//	stale-after: 15m
//	contexts:
//	  prod: {store: "s3://bucket/iac-state/?region=eu-west-1", readonly: true}
//	  dev:  {store: /var/lib/workflow/iac-state}
//	keys:
//	  resources.refresh: [r, f5]
type Config struct {
	CurrentContext string              `yaml:"current-context"`
	ReadOnly       bool                `yaml:"readonly"`
	StaleAfter     Duration            `yaml:"stale-after"`
	Refresh        Duration            `yaml:"refresh"`
	Contexts       map[string]Context  `yaml:"contexts"`
	Keys           map[string][]string `yaml:"keys"`
	// NoMouse starts the TUI with mouse capture off, so the terminal's own
	// text selection works (global.mouse toggles it).
	NoMouse bool `yaml:"no-mouse"`
	// Path is where the file was read from ("" when there was none).
	Path string `yaml:"-"`
}

// Context is one named store.
type Context struct {
	Store    string `yaml:"store"`
	ReadOnly bool   `yaml:"readonly"`
	// Problem is why the context's entry could not be read (a list where
	// the store should be, say): that context fails where it is used, the
	// others still load.
	Problem string `yaml:"-"`
}

// UnmarshalYAML reads a context, keeping what is wrong with it as its
// Problem rather than failing the whole file.
func (c *Context) UnmarshalYAML(n *yaml.Node) error {
	type plain Context // without this method
	var p plain
	if err := n.Decode(&p); err != nil {
		reason := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n")
		*c = Context{Problem: strings.Join(strings.Fields(reason), " ")}
		return nil
	}
	*c = Context(p)
	return nil
}

// Duration reads "15m"-style YAML values.
type Duration struct{ time.Duration }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 15m or 1h", n.Line, n.Value)
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the duration back as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// DefaultPath is $XDG_CONFIG_HOME/statescope/config.yaml, or
// ~/.config/statescope/config.yaml.
func DefaultPath() string {
	base := os.Getenv("XDG_CONFIG_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".config")
	}
	return filepath.Join(base, "statescope", "config.yaml")
}

// Load reads the config. A missing file at the default path is an empty
// config; a missing file the user named explicitly is an error.
func Load(path string) (*Config, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultPath()
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return &Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var c Config
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.Path = path
	// A context without a store fails where it is used (Context, a fleet's
	// row), not every command on the config.
	if c.CurrentContext != "" {
		if _, ok := c.Contexts[c.CurrentContext]; !ok {
			return nil, fmt.Errorf("config %s: current-context %q is not among the contexts (%s)", path, c.CurrentContext, strings.Join(c.Names(), ", "))
		}
	}
	return &c, nil
}

// Names lists the context names, sorted.
func (c *Config) Names() []string {
	names := make([]string, 0, len(c.Contexts))
	for n := range c.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Context returns a named context, or the current one when name is "".
func (c *Config) Context(name string) (string, Context, error) {
	if name == "" {
		name = c.CurrentContext
	}
	if name == "" {
		if len(c.Contexts) == 1 {
			for n, ctx := range c.Contexts {
				return n, ctx, nil
			}
		}
		return "", Context{}, fmt.Errorf("no store given: use --store TARGET or --context NAME, or set current-context in %s", c.where())
	}
	ctx, ok := c.Contexts[name]
	if !ok {
		if len(c.Contexts) == 0 {
			return "", Context{}, fmt.Errorf("unknown context %q: %s defines no contexts", name, c.where())
		}
		return "", Context{}, fmt.Errorf("unknown context %q; known contexts: %s", name, strings.Join(c.Names(), ", "))
	}
	if err := ctx.Check(name, c.where()); err != nil {
		return "", Context{}, err
	}
	return name, ctx, nil
}

// Check says what keeps the context from naming a store, or from being
// named: --context "" means the current context.
func (ctx Context) Check(name, where string) error {
	if ctx.Problem != "" {
		return fmt.Errorf("context %q in %s cannot be read: %s", name, where, ctx.Problem)
	}
	if name == "" {
		return fmt.Errorf("a context in %s has an empty name, which --context cannot choose; rename it", where)
	}
	if strings.TrimSpace(ctx.Store) == "" {
		return fmt.Errorf("context %q has no store in %s", name, where)
	}
	return nil
}

// StaleThreshold is the configured threshold or the default.
func (c *Config) StaleThreshold(def time.Duration) time.Duration {
	if c.StaleAfter.Duration > 0 {
		return c.StaleAfter.Duration
	}
	return def
}

func (c *Config) where() string {
	if c.Path != "" {
		return c.Path
	}
	return DefaultPath()
}
