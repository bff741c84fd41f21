// Package remote opens stores served over workflow's IaCStateBackend gRPC
// contract: a running server (grpc://, unix://), a plugin binary launched
// here with the go-plugin handshake (plugin://), or either of those on
// another host reached over SSH (ssh://). Importing it registers the schemes.
//
// Target forms (every form takes backend=, timeout=, config= and cfg.KEY=):
//
//	grpc://host:port?backend=NAME
//	unix:///path/to.sock?backend=NAME
//	plugin:///abs/path/to/binary?backend=NAME   launch that binary
//	plugin://NAME?backend=B                     <plugin-dir>/NAME/NAME
//	plugin://?backend=B                         the plugin whose plugin.json lists B
//	ssh://[user@]host[:port]?socket=/remote.sock&backend=NAME
//	ssh://[user@]host[:port]?tcp=127.0.0.1:9000&backend=NAME
//	ssh://[user@]host[:port]?plugin=/remote/binary&backend=NAME
//
// backend= picks the backend (optional when exactly one is served).
// config={"bucket":"b"} and cfg.bucket=b give the configuration, sent with
// Configure before any state call (without any, only when the plugin asks).
// timeout=30s bounds each call and a plugin's whole launch. grpc, unix and
// ssh socket=/tcp= targets take token_file=, tls=, ca=, cert= and key= to
// authenticate to `statescope serve`.
// Plugin targets also take allow_remote_addr=true (accept a handshake
// announcing a non-loopback TCP address) and arg= (repeatable): the
// plugin's arguments, e.g.
// arg=serve&arg=--plugin&arg=--store&arg=/dir for statescope itself. Like
// workflow, statescope starts plugins without arguments by default; a
// statescope binary started that way serves the store its Configure names.
//
// The plugin directory (Options.PluginDir, else $WFCTL_PLUGIN_DIR, else
// ./data/plugins) has workflow's layout: <dir>/<name>/<name> next to
// <dir>/<name>/plugin.json, whose iacStateBackends (top level or under
// capabilities) lists the backends the plugin serves.
//
// SSH follows ~/.ssh/config and known_hosts strictly; ?socket= needs
// AllowStreamLocalForwarding on the server, ?tcp= AllowTcpForwarding.
package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	"statescope/remote/auth"
	"statescope/remote/client"
	"statescope/stores"
	mask "statescope/stores/redact"
)

// Options are statescope's global settings that remote targets use.
type Options struct {
	// PluginDir is searched for plugin://NAME and plugin://?backend=B, in
	// workflow's layout; empty means $WFCTL_PLUGIN_DIR, then ./data/plugins.
	PluginDir string
	// AcceptNewHostKey accepts and records an SSH host key that is not in
	// known_hosts without asking (--accept-new-host-key).
	AcceptNewHostKey bool
	// HostKeyPrompt is asked about an unknown SSH host key; true accepts
	// and records it. The TUI shows the SHA256 fingerprint.
	HostKeyPrompt func(host, fingerprint string) bool
	// Log receives plugin stderr and connection events; never the TUI's
	// terminal. Nil means os.Stderr.
	Log io.Writer
}

var (
	optsMu sync.RWMutex
	opts   Options
)

// Configure sets the global options; main calls it after parsing flags.
func Configure(o Options) {
	optsMu.Lock()
	defer optsMu.Unlock()
	opts = o
}

func options() Options {
	optsMu.RLock()
	defer optsMu.RUnlock()
	o := opts
	if o.Log == nil {
		o.Log = os.Stderr
	}
	if o.PluginDir == "" {
		o.PluginDir = os.Getenv("WFCTL_PLUGIN_DIR")
	}
	if o.PluginDir == "" {
		o.PluginDir = "data/plugins"
	}
	return o
}

// ErrUnreachable: the backend could not be reached or the connection was
// lost; open the target again to reconnect.
var ErrUnreachable = client.ErrUnreachable

// UnlockWarning is implemented by remote stores: what a plain Unlock does
// on the backend, for a confirmation before using it.
type UnlockWarning interface {
	UnlockWarning() string
}

func init() {
	stores.Register("grpc", "grpc://host:port?backend=NAME", openGRPC)
	stores.Register("unix", "unix:///path/to.sock?backend=NAME", openUnix)
	stores.Register("plugin", "plugin:///abs/binary, plugin://NAME or plugin://?backend=NAME", openPlugin)
	stores.Register("ssh", "ssh://[user@]host[:port]?socket=/path.sock|tcp=HOST:PORT|plugin=/path/binary&backend=NAME", openSSH)
}

// common are the parameters every target accepts.
var common = []string{"backend", "timeout", "config"}

// params reads the common parameters and rejects unknown ones, so a typo
// does not silently change what is opened.
func params(t stores.Target, extra ...string) (client.Options, url.Values, error) {
	q := t.URL.Query()
	known := append(slices.Clone(common), extra...)
	var o client.Options
	for k := range q {
		if !slices.Contains(known, k) && !strings.HasPrefix(k, "cfg.") {
			sort.Strings(known)
			return o, nil, fmt.Errorf("%s: unknown parameter %q (accepted: %s, cfg.KEY)", redact(t), k, strings.Join(known, ", "))
		}
	}
	o.Backend = q.Get("backend")
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return o, nil, fmt.Errorf("%s: timeout=%q is not a positive duration", redact(t), v)
		}
		o.Timeout = d
	}
	if v := q.Get("config"); v != "" {
		if err := json.Unmarshal([]byte(v), &o.Config); err != nil {
			return o, nil, fmt.Errorf("%s: config= is not a JSON object: %v", redact(t), err)
		}
	}
	for k, vs := range q {
		if key, ok := strings.CutPrefix(k, "cfg."); ok && key != "" {
			if o.Config == nil {
				o.Config = map[string]any{}
			}
			o.Config[key] = vs[len(vs)-1]
		}
	}
	return o, q, nil
}

// redact hides credentials in a target for messages: what RedactTarget
// hides, and the secret-looking parts of the configuration (config=,
// cfg.KEY) — a directory or a bucket name is not a secret.
func redact(t stores.Target) string {
	if t.URL == nil {
		return t.Raw
	}
	u := *t.URL
	q := u.Query()
	cfg := url.Values{}
	for k, vs := range q {
		key, isCfg := strings.CutPrefix(k, "cfg.")
		if k != "config" && !isCfg {
			continue
		}
		for _, v := range vs {
			cfg.Add(k, redactConfig(k == "config", key, v))
		}
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	out := stores.RedactTarget(u.String())
	if len(cfg) == 0 {
		return out
	}
	sep := "?"
	if strings.Contains(out, "?") {
		sep = "&"
	}
	return out + sep + cfg.Encode()
}

// redactConfig masks a cfg.KEY value whose key or content looks secret, or
// the secret-looking values inside a config= JSON object.
func redactConfig(isJSON bool, key, v string) string {
	if !isJSON {
		if mask.Value(key, v) != v {
			return "xxxxx"
		}
		return v
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return "xxxxx" // unreadable: it cannot be masked selectively
	}
	b, err := json.Marshal(mask.Map(m))
	if err != nil {
		return "xxxxx"
	}
	return string(b)
}

// pluginParams are what targets that launch a plugin accept.
var pluginParams = []string{"arg", "allow_remote_addr"}

// allowRemoteAddr reads allow_remote_addr=: whether a plugin may announce a
// TCP address that is not loopback.
func allowRemoteAddr(t stores.Target, q url.Values) (bool, error) {
	return boolParam(t, q, "allow_remote_addr")
}

func boolParam(t stores.Target, q url.Values, key string) (bool, error) {
	v := q.Get(key)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: %s=%q is not true or false", redact(t), key, v)
	}
	return b, nil
}

// authParams are how a target authenticates to `statescope serve`.
var authParams = []string{"token_file", "tls", "ca", "cert", "key"}

// clientAuth reads token_file=, tls=, ca=, cert= and key=.
func clientAuth(t stores.Target, q url.Values) (auth.ClientConfig, error) {
	c := auth.ClientConfig{TokenFile: q.Get("token_file"), CA: q.Get("ca"), Cert: q.Get("cert"), Key: q.Get("key")}
	var err error
	c.TLS, err = boolParam(t, q, "tls")
	return c, err
}

// dialer opens the byte stream gRPC runs over.
type dialer func(ctx context.Context) (net.Conn, error)

// connect builds the client store over a dialer; closeTransport runs after
// the gRPC connection is closed. serverName is what a TLS server's
// certificate must name.
func connect(ctx context.Context, o client.Options, ac auth.ClientConfig, serverName string, dial dialer, closeTransport func() error) (*client.Store, error) {
	creds, err := ac.DialOptions(serverName)
	if err != nil {
		if closeTransport != nil {
			closeTransport()
		}
		return nil, err
	}
	cc, err := grpc.NewClient("passthrough:///statescope", append(append(client.DialOptions(), creds...),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return dial(ctx) }),
	)...)
	if err != nil {
		if closeTransport != nil {
			closeTransport()
		}
		return nil, err
	}
	o.Close = func() error {
		err := cc.Close()
		if closeTransport != nil {
			if terr := closeTransport(); err == nil {
				err = terr
			}
		}
		return err
	}
	s, err := client.New(ctx, cc, o)
	if err != nil {
		_ = o.Close()
		return nil, err
	}
	return s, nil
}

func netDialer(network, addr string) dialer {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

func openGRPC(ctx context.Context, t stores.Target) (stores.Store, error) {
	o, q, err := params(t, authParams...)
	if err != nil {
		return nil, err
	}
	ac, err := clientAuth(t, q)
	if err != nil {
		return nil, err
	}
	if t.URL.Host == "" || t.URL.Port() == "" {
		return nil, fmt.Errorf("grpc target %q needs host:port", redact(t))
	}
	o.Transport = "grpc tcp://" + t.URL.Host
	return connect(ctx, o, ac, t.URL.Host, netDialer("tcp", t.URL.Host), nil)
}

func openUnix(ctx context.Context, t stores.Target) (stores.Store, error) {
	o, q, err := params(t, authParams...)
	if err != nil {
		return nil, err
	}
	ac, err := clientAuth(t, q)
	if err != nil {
		return nil, err
	}
	if t.URL.Host != "" || !strings.HasPrefix(t.URL.Path, "/") {
		return nil, fmt.Errorf("unix target %q must be unix:///absolute/path.sock", redact(t))
	}
	o.Transport = "grpc unix://" + t.URL.Path
	return connect(ctx, o, ac, "localhost", netDialer("unix", t.URL.Path), nil)
}
