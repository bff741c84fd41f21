package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"statescope/stores"
)

func init() { commands = append(commands, (*app).unlockCommand) }

func (a *app) unlockCommand() *cobra.Command {
	var token string
	cmd := &cobra.Command{
		Use:   "unlock ID",
		Short: "Force-release a lock, only if it is still the lock you saw",
		Long: "Releases the lock on ID only if its token still equals --token (see `statescope locks`).\n" +
			"If the lock changed hands or is gone, nothing happens and the exit code is 3.\n" +
			"Without --token on a terminal it shows the lock and asks you to type the ID back.",
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			s, name, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer stores.Close(s)
			if stores.IsReadOnly(s) {
				return fmt.Errorf("force unlock %q refused: %w", id, stores.ErrReadOnly)
			}
			fu, ok := s.(stores.ForceUnlocker)
			if !ok {
				return fmt.Errorf("%s cannot force-release locks: %w", name, stores.ErrUnsupported)
			}
			locks, err := a.inventory(cmd, s, name)
			if err != nil {
				return err
			}
			cur, found := findLock(locks, id)
			if token == "" {
				if !found {
					return refused("%s is not locked in %s; nothing to release", id, name)
				}
				if !a.isTerminal() {
					return refused("not a terminal: refusing to release without a token; after checking the lock, run:\n  statescope unlock %s --token %s%s", shellQuote(id), cur.Token, a.storeFlagHint())
				}
				if err := a.confirmRelease(cur); err != nil {
					return err
				}
				token = cur.Token
			}
			err = fu.ForceUnlock(cmd.Context(), id, token)
			switch {
			case err == nil:
				fmt.Fprintf(a.out, "released lock on %s (token %s)\n", id, token)
				return nil
			case errors.Is(err, stores.ErrNotLocked):
				return refused("%s is not locked any more; nothing released", id)
			case errors.Is(err, stores.ErrLockChanged):
				return refused("the lock on %s changed hands; nothing released.\n%s", id, describeCurrent(locks, id))
			default:
				return err
			}
		},
	}
	cmd.Flags().StringVar(&token, "token", "", "token of the lock to release, from `statescope locks`")
	return cmd
}

func findLock(locks []stores.LockInfo, id string) (stores.LockInfo, bool) {
	for _, l := range locks {
		if l.ResourceID == id {
			return l, true
		}
	}
	return stores.LockInfo{}, false
}

func describeCurrent(locks []stores.LockInfo, id string) string {
	l, ok := findLock(locks, id)
	if !ok {
		return "It was not locked when inspected."
	}
	return fmt.Sprintf("Found: token %s, verdict %s, holder %s. Inspect again with `statescope locks`.", l.Token, l.Verdict, dash(l.Holder.String()))
}

// confirmRelease shows the lock and what releasing does, and requires the
// resource ID typed back.
func (a *app) confirmRelease(l stores.LockInfo) error {
	fmt.Fprintf(a.out, "Lock on %s\n  token:    %s\n  verdict:  %s\n  holder:   %s\n  evidence: %s\n  action:   %s\n",
		l.ResourceID, l.Token, l.Verdict, dash(l.Holder.String()), l.Evidence, l.Release)
	fmt.Fprintf(a.out, "Type the resource ID to release it: ")
	line, err := bufio.NewReader(a.in).ReadString('\n')
	if err != nil && line == "" {
		return refused("no confirmation given; nothing released")
	}
	if strings.TrimSpace(line) != l.ResourceID {
		return refused("%q does not match %q; nothing released", strings.TrimSpace(line), l.ResourceID)
	}
	return nil
}

func (a *app) storeFlagHint() string {
	switch {
	case a.storeTarget != "":
		return " --store " + shellQuote(a.storeTarget)
	case a.contextName != "":
		return " --context " + shellQuote(a.contextName)
	}
	return ""
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
