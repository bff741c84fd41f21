// Command statescope inspects and repairs the IaC state of the workflow
// engine: a terminal UI, and a small CLI beside it for scripts.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"statescope/remote"
	"statescope/remote/plugin"
	"statescope/stores"
	"statescope/stores/config"
	_ "statescope/stores/filesystem"
	_ "statescope/stores/memory"
	"statescope/tui"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes: scripts rely on these.
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitRefused = 3
	// exitFindings: `check` found something at or above --fail-on.
	exitFindings = 4
)

// usageError marks a mistake in how the command was called (exit 2).
type usageError struct{ error }

// refusedError marks a safety check that refused to act (exit 3).
type refusedError struct{ error }

func refused(format string, args ...any) error {
	return refusedError{fmt.Errorf(format, args...)}
}

// app is what every command shares: global flags, the config and the
// standard streams (injectable for tests).
type app struct {
	storeTarget string
	// resolved is the target the flags or the config named, once known:
	// its credentials are masked in everything printed to stderr.
	resolved    string
	contextName string
	configPath  string
	readOnly    bool
	staleAfter  time.Duration

	in     io.Reader
	out    io.Writer
	errOut io.Writer
	// isTerminal reports whether stdin and stdout are a terminal, so the CLI
	// may ask questions.
	isTerminal func() bool
	now        func() time.Time

	cfg     *config.Config
	tui     tuiFlags
	backend backendFlags
	// hostKeys is the running terminal UI's host key dialog: while it is
	// set, "trust this host key?" is asked there, never on the terminal
	// the UI draws on (remote's options are process-wide).
	hostKeys atomic.Pointer[tui.HostKeys]
	// closers are closed when the command ends (the application log).
	closers []io.Closer

	redactorMu    sync.Mutex
	redactorFor   [2]string
	redactorSet   bool
	redactorCache stores.Redactor
}

// commands holds the constructors of the subcommands; each cmd_*.go file
// adds its own in init, so commands live beside their code.
var commands []func(*app) *cobra.Command

// shutdownGrace is how long a command has to wind down after SIGINT or
// SIGTERM cancelled its context. A call that ignores its context (an
// open(2) that blocks, a driver that does not honour cancellation) must
// not keep statescope running: past the grace the process exits anyway.
// Writes are atomic renames or conditional requests, so none is left half
// done; the repair engine releases its lock without waiting for the grace.
const shutdownGrace = 1500 * time.Millisecond

// interrupted is the cancellation cause a signal leaves on the context.
type interrupted struct{ sig os.Signal }

func (i interrupted) Error() string { return "interrupted by " + signalName(i.sig) }

// exitCode is the shell's convention for a process ended by a signal.
func (i interrupted) exitCode() int {
	if s, ok := i.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitError
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

func main() {
	ctx := context.Background()
	// A plugin's host owns its lifetime: go-plugin ignores SIGINT (the
	// host's terminal sends it to the plugin too) and serve resets SIGTERM.
	if os.Getenv(plugin.Handshake.MagicCookieKey) == "" {
		ctx = interruptible(ctx, os.Stderr)
	}
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// interruptible returns a context cancelled by the first SIGINT or SIGTERM.
// A second signal, or the grace running out, ends the process.
func interruptible(parent context.Context, errOut io.Writer) context.Context {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		first := interrupted{<-sigs}
		cancel(first)
		select {
		case <-sigs:
		case <-time.After(shutdownGrace):
		}
		fmt.Fprintf(errOut, "statescope: %v; exiting\n", first)
		os.Exit(first.exitCode())
	}()
	return ctx
}

func run(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) int {
	a := &app{in: in, out: out, now: time.Now, isTerminal: stdioIsTerminal}
	// Whatever reaches stderr, a driver's words included, is redacted.
	a.errOut = redacting{errOut, a.redact}
	errOut = a.errOut
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.ExecuteContext(ctx)
	for _, c := range a.closers {
		c.Close()
	}
	var sig interrupted
	// A command that finished despite the signal (serve's normal stop is a
	// SIGTERM) succeeded; one that was cut short says why.
	if err != nil && errors.As(context.Cause(ctx), &sig) {
		// What was cancelled says only "context canceled": say why.
		if !errors.Is(err, context.Canceled) {
			fmt.Fprintln(errOut, "statescope:", err)
		}
		fmt.Fprintf(errOut, "statescope: %v\n", sig)
		return sig.exitCode()
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errDifferent):
		return exitError // diff's answer, not a failure: its output says it
	}
	fmt.Fprintln(errOut, "statescope:", err)
	var ue usageError
	var re refusedError
	var dt diffTrouble
	var fe findingsError
	switch {
	case errors.As(err, &ue), errors.As(err, &dt):
		return exitUsage
	case errors.As(err, &fe):
		return exitFindings
	case errors.As(err, &re), errors.Is(err, stores.ErrReadOnly), errors.Is(err, stores.ErrLockChanged),
		errors.Is(err, remote.ErrHostKeyMismatch), errors.Is(err, remote.ErrHostKeyUnknown):
		return exitRefused
	default:
		return exitError
	}
}

func (a *app) rootCommand() *cobra.Command {
	bi, _ := debug.ReadBuildInfo()
	root := &cobra.Command{
		Use:   "statescope",
		Short: "Inspect and repair workflow IaC state",
		Long: "statescope browses the per-resource IaC state of the workflow engine, shows its locks,\n" +
			"and releases orphaned locks safely. Without a command it opens the terminal UI.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionLine(bi),
		Args:          unknownCommand,
		// cobra applies its default distance only to its own suggestions.
		SuggestionsMinimumDistance: 2,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if a.staleAfter < 0 {
				return usageError{fmt.Errorf("--stale-after %s: a duration cannot be negative", a.staleAfter)}
			}
			cfg, err := config.Load(a.configPath)
			if err != nil {
				return err
			}
			a.cfg = cfg
			if !cmd.Flags().Changed("stale-after") {
				a.staleAfter = cfg.StaleThreshold(stores.DefaultStaleAfter)
			}
			a.configureRemote()
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			// workflow starts plugins without arguments, with its cookie set.
			if handled, err := a.servePluginFromEnv(cmd.Context()); handled {
				return err
			}
			return a.runTUI(cmd.Context())
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.storeTarget, "store", "", "store target: a directory, file:///dir, mem://, or a backend URL")
	pf.StringVar(&a.contextName, "context", "", "named context from the config file")
	pf.StringVar(&a.configPath, "config", "", "config file (default "+config.DefaultPath()+")")
	pf.BoolVar(&a.readOnly, "readonly", false, "refuse every mutation, including lock release")
	pf.DurationVar(&a.staleAfter, "stale-after", stores.DefaultStaleAfter, "age after which a lock or a half-done record is suspect")
	pf.StringVar(&a.backend.infraPath, "infra", "", "open the store of the first iac.state module in this workflow config")
	pf.StringVar(&a.backend.pluginDir, "plugin-dir", "", "workflow plugin directory for plugin:// targets (default $WFCTL_PLUGIN_DIR, then ./data/plugins)")
	pf.BoolVar(&a.backend.acceptNewHostKey, "accept-new-host-key", false, "trust an SSH host key missing from known_hosts and record it")
	a.addTUIFlags(pf)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	for _, c := range commands {
		root.AddCommand(c(a))
	}
	a.addCompletions(root)
	return root
}

// unknownCommand refuses arguments to the bare command: they can only be
// a mistyped command (exit 2), and cobra's suggestions say which was meant.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		for i := range s {
			s[i] = strconv.Quote(s[i])
		}
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError{fmt.Errorf("%s (see `statescope --help`)", msg)}
}

// count is n and its noun, plural unless n is 1: "1 record", "2 records".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// target resolves --store / --context / the config's current context into
// a target string and whether it must be opened read-only.
func (a *app) target() (target, name string, readOnly bool, err error) {
	readOnly = a.readOnly || a.cfg.ReadOnly
	given := 0
	for _, v := range []string{a.storeTarget, a.contextName, a.backend.infraPath} {
		if v != "" {
			given++
		}
	}
	if given > 1 {
		return "", "", false, usageError{errors.New("give one of --store, --context and --infra")}
	}
	if a.backend.infraPath != "" {
		t, err := a.infraTarget()
		if err != nil {
			return "", "", false, err
		}
		return t, stores.RedactTarget(t), readOnly, nil
	}
	if a.storeTarget != "" {
		return a.storeTarget, stores.RedactTarget(a.storeTarget), readOnly, nil
	}
	name, ctx, err := a.cfg.Context(a.contextName)
	if err != nil {
		return "", "", false, usageError{err}
	}
	a.resolved = ctx.Store
	return ctx.Store, name, readOnly || ctx.ReadOnly, nil
}

// redact masks the credentials of the store targets in play, and any
// other URL or DSN password, in text about to be shown or logged.
func (a *app) redact(s string) string {
	return a.redactor().String(s)
}

// redactor is the Redactor for the current targets, built once per pair:
// building one scans the environment and every target's secrets, too much
// to repeat for each listed entry or stderr write.
func (a *app) redactor() stores.Redactor {
	a.redactorMu.Lock()
	defer a.redactorMu.Unlock()
	key := [2]string{a.storeTarget, a.resolved}
	if a.redactorFor != key || !a.redactorSet {
		a.redactorCache, a.redactorFor, a.redactorSet = stores.NewRedactor(key[0], key[1]), key, true
	}
	return a.redactorCache
}

// redacting writes through redact. Each write is redacted whole: every
// message is printed with one Fprint.
type redacting struct {
	w      io.Writer
	redact func(string) string
}

func (r redacting) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// openStore opens the store the flags name, read-only when asked.
func (a *app) openStore(ctx context.Context) (stores.Store, string, error) {
	target, name, ro, err := a.target()
	if err != nil {
		return nil, "", err
	}
	s, err := stores.Open(ctx, target)
	if err != nil {
		return nil, "", err
	}
	if ro {
		s = stores.ReadOnly(s)
	}
	return s, name, nil
}

func stdioIsTerminal() bool {
	return term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
}

// usageArgs wraps cobra's argument validators so a wrong argument count
// exits with the usage code.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// targetArgs are the flags that select the same store again in a command
// printed for the user to run. Credentials are never printed: a target
// that carries some is shown redacted (see credentialsNote).
func (a *app) targetArgs() []string {
	switch {
	case a.storeTarget != "":
		return []string{"--store", stores.RedactTarget(a.storeTarget)}
	case a.contextName != "":
		return []string{"--context", a.contextName}
	case a.backend.infraPath != "":
		return []string{"--infra", a.backend.infraPath}
	}
	// Chosen by the config (its current context, or its only one): named,
	// so a command run later acts on this store even after the current
	// context changed.
	if name, _, err := a.cfg.Context(""); err == nil && name != "" {
		return []string{"--context", name}
	}
	return nil
}

// credentialsNote follows a printed command whose --store lost its
// credentials to redaction.
func (a *app) credentialsNote() string {
	if a.storeTarget == "" || stores.RedactTarget(a.storeTarget) == a.storeTarget {
		return ""
	}
	return "\n  (the target's credentials are not shown: put them back where it says xxxxx)"
}
