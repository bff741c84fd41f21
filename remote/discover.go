package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"statescope/remote/client"
	"statescope/remote/plugin"
	"statescope/stores"
)

// installed is one plugin in workflow's layout: <dir>/<name>/<name> next to
// <dir>/<name>/plugin.json.
type installed struct {
	name, binary string
	backends     []string
}

// manifest holds the plugin.json fields discovery needs; iacStateBackends
// may sit at the top level or under capabilities (workflow promotes it).
type manifest struct {
	IaCStateBackends []string `json:"iacStateBackends"`
	Capabilities     struct {
		IaCStateBackends []string `json:"iacStateBackends"`
	} `json:"capabilities"`
}

func (m manifest) backends() []string {
	if len(m.IaCStateBackends) > 0 {
		return m.IaCStateBackends
	}
	return m.Capabilities.IaCStateBackends
}

// readInstalled reads one plugin directory; the binary is required, the
// manifest only for backend names.
func readInstalled(dir, name string) (installed, error) {
	p := installed{name: name, binary: filepath.Join(dir, name, name)}
	info, err := os.Stat(p.binary)
	if err != nil {
		return p, fmt.Errorf("plugin %q: %w", name, err)
	}
	if info.IsDir() || info.Mode()&0o111 == 0 {
		return p, fmt.Errorf("plugin %q: %s is not an executable file", name, p.binary)
	}
	data, err := os.ReadFile(filepath.Join(dir, name, "plugin.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("plugin %q: %w", name, err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return p, fmt.Errorf("plugin %q: plugin.json: %v", name, err)
	}
	p.backends = m.backends()
	return p, nil
}

// discover lists the plugins in dir that have both a binary and a
// plugin.json, as workflow does, in name order.
func discover(dir string) ([]installed, error) {
	dirents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("plugin directory: %w (set it with --plugin-dir or WFCTL_PLUGIN_DIR)", err)
	}
	var out []installed
	for _, d := range dirents {
		if !d.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, d.Name(), "plugin.json")); err != nil {
			continue
		}
		if p, err := readInstalled(dir, d.Name()); err == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// findPlugin resolves plugin:///abs/binary, plugin://NAME and
// plugin://?backend=B to a binary, filling in the backend when the
// manifest names exactly one.
func findPlugin(t stores.Target, o *client.Options, dir string) (string, error) {
	switch {
	case t.URL.Host == "" && t.URL.Path != "":
		if !filepath.IsAbs(t.URL.Path) {
			return "", fmt.Errorf("plugin target %q: the binary path must be absolute", redact(t))
		}
		return t.URL.Path, nil
	case t.URL.Host != "":
		p, err := readInstalled(dir, t.URL.Host)
		if err != nil {
			return "", fmt.Errorf("%w (looked in plugin directory %s)", err, dir)
		}
		if o.Backend == "" && len(p.backends) == 1 {
			o.Backend = p.backends[0]
		}
		return p.binary, nil
	case o.Backend == "":
		return "", fmt.Errorf("plugin target %q names no plugin: use plugin://NAME, plugin:///abs/binary or plugin://?backend=B", redact(t))
	}
	all, err := discover(dir)
	if err != nil {
		return "", err
	}
	var match []string
	var seen []string
	for _, p := range all {
		if slices.Contains(p.backends, o.Backend) {
			match = append(match, p.binary)
		}
		seen = append(seen, fmt.Sprintf("%s (%s)", p.name, strings.Join(p.backends, ", ")))
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		if len(seen) == 0 {
			return "", fmt.Errorf("no plugin in %s serves backend %q: the directory holds no plugins", dir, o.Backend)
		}
		return "", fmt.Errorf("no plugin in %s serves backend %q; found: %s", dir, o.Backend, strings.Join(seen, "; "))
	}
	return "", fmt.Errorf("several plugins in %s serve backend %q (%s): name one with plugin://NAME", dir, o.Backend, strings.Join(match, ", "))
}

func openPlugin(ctx context.Context, t stores.Target) (stores.Store, error) {
	o, q, err := params(t, pluginParams...)
	if err != nil {
		return nil, err
	}
	allowRemote, err := allowRemoteAddr(t, q)
	if err != nil {
		return nil, err
	}
	opt := options()
	binary, err := findPlugin(t, &o, opt.PluginDir)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, q["arg"]...)
	// workflow runs a plugin in its own directory.
	cmd.Dir = filepath.Dir(binary)
	proc, err := plugin.Launch(ctx, plugin.Config{Cmd: cmd, Log: opt.Log, DialOptions: client.DialOptions(),
		StartTimeout: o.Timeout, AllowRemoteAddr: allowRemote})
	if err != nil {
		return nil, err
	}
	o.Transport = "plugin " + binary
	o.Close = proc.Close
	s, err := client.New(ctx, proc.Conn, o)
	if err != nil {
		_ = proc.Close()
		return nil, err
	}
	return s, nil
}
