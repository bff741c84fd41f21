package main

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"statescope/stores"
	"statescope/stores/config"
	"statescope/stores/repair"
	"statescope/stores/repair/backup"
)

// completionTimeout bounds how long a shell waits for IDs from the store
// (a variable so tests under -race on a loaded machine can wait longer).
var completionTimeout = 3 * time.Second

// outputFlag adds -o/--output with its formats (the first is the
// default); the shell completes them.
func outputFlag(cmd *cobra.Command, output *string, formats ...string) {
	cmd.Flags().StringVarP(output, "output", "o", formats[0], "output format: "+strings.Join(formats, " or "))
	cmd.RegisterFlagCompletionFunc("output", fixed(formats))
}

// addCompletions teaches the shell (`statescope completion bash|zsh|fish`)
// the arguments of each command: resource IDs from the store the command
// line names, statuses and contexts.
func (a *app) addCompletions(root *cobra.Command) {
	statuses := fixed(stores.Statuses)
	root.RegisterFlagCompletionFunc("context", a.completeContexts)
	root.RegisterFlagCompletionFunc("against", a.completeContexts)
	for _, c := range root.Commands() {
		switch c.Name() {
		case "show", "edit", "rm":
			c.ValidArgsFunction = a.completeIDs(1, nil)
		case "restore":
			c.ValidArgsFunction = a.completeRestorable
		case "diff":
			c.ValidArgsFunction = a.completeIDs(2, nil)
		case "set-status":
			c.ValidArgsFunction = a.completeIDs(1, statuses)
		case "unlock":
			c.ValidArgsFunction = a.completeLocked
		case "recover":
			c.ValidArgsFunction = a.completeLocked
			c.RegisterFlagCompletionFunc("status", statuses)
		case "list":
			c.RegisterFlagCompletionFunc("status", statuses)
		}
	}
}

// fromStore completes with the IDs list finds in the store the command
// line names, opened as the command would open it, but never asking
// anything (no terminal) and never waiting long.
func (a *app) fromStore(cmd *cobra.Command, toComplete string, list func(context.Context, stores.Store) ([]string, error)) ([]cobra.Completion, cobra.ShellCompDirective) {
	const failed = cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	// The pre-run loaded the config before __complete's own arguments,
	// --config among them, were parsed.
	cfg, err := config.Load(a.configPath)
	if err != nil {
		return nil, failed
	}
	a.cfg = cfg
	a.isTerminal = func() bool { return false }
	a.configureRemote()
	ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
	defer cancel()
	s, _, err := a.openStore(ctx)
	if err != nil {
		return nil, failed
	}
	defer stores.Close(s)
	ids, err := list(ctx, s)
	if err != nil {
		return nil, failed
	}
	slices.Sort(ids)
	return matching(slices.Compact(ids), toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeIDs completes the first n arguments with resource IDs, and the
// one after them with then (when given).
func (a *app) completeIDs(n int, then cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		switch {
		case len(args) < n:
			return a.fromStore(cmd, toComplete, recordIDs)
		case len(args) == n && then != nil:
			return then(cmd, args, toComplete)
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeLocked completes unlock's ID with the locked resources.
func (a *app) completeLocked(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.fromStore(cmd, toComplete, lockedIDs)
}

// completeRestorable completes restore's ID with the records and the
// deleted records this store has backups of.
func (a *app) completeRestorable(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.fromStore(cmd, toComplete, func(ctx context.Context, s stores.Store) ([]string, error) {
		ids, err := recordIDs(ctx, s)
		target, _, _, terr := a.target()
		dir, derr := repair.DefaultStateDir()
		if err != nil || terr != nil || derr != nil {
			return ids, err
		}
		backups, _ := repair.New(s, repair.TargetName(target), dir).Backups.ListStore(repair.TargetName(target))
		for _, b := range backups {
			if b.Meta.Kind == backup.KindRecord {
				ids = append(ids, b.Meta.ResourceID)
			}
		}
		return ids, nil
	})
}

func recordIDs(ctx context.Context, s stores.Store) ([]string, error) {
	entries, err := s.List(ctx, stores.Filter{})
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	return ids, err
}

// lockedIDs are the resources the lock inventory lists, or every record's
// where the store has no inventory.
func lockedIDs(ctx context.Context, s stores.Store) ([]string, error) {
	ll, ok := s.(stores.LockLister)
	if !ok {
		return recordIDs(ctx, s)
	}
	locks, err := ll.Locks(ctx)
	ids := make([]string, 0, len(locks))
	for _, l := range locks {
		ids = append(ids, l.ResourceID)
	}
	return ids, err
}

func (a *app) completeContexts(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	cfg, err := config.Load(a.configPath)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	return matching(cfg.Names(), toComplete), cobra.ShellCompDirectiveNoFileComp
}

// fixed completes from a fixed list, in its order.
func fixed(choices []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return matching(choices, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// matching keeps the candidates that start with what was typed.
func matching(candidates []string, prefix string) []cobra.Completion {
	var out []cobra.Completion
	for _, c := range candidates {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}
