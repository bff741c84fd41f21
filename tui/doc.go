// Package tui is statescope's terminal UI: a router over a stack of views
// (resources, detail, diff, locks, help) with a k9s-style command bar.
//
// Lifecycle. The root Model is the only place a view is entered or left
// (push, pop, replace). Each view embeds a scope: a context derived from the
// app's, cancelled when the view is left, and a load generation. A load
// calls scope.begin (cancelling the load before it), runs the store call in
// a command that closes over the context, the store and the generation,
// and addresses its reply with scope.tag. The router drops replies for
// views no longer on the stack; the view drops replies of an older
// generation. Mutations run under the app context with a timeout and
// report to the router, which refreshes every open view.
//
// Repairs. Every change goes through the repair engine (env.repair): a
// view plans it, planView shows the plan's diff and applies it on enter/y;
// the engine re-reads and compares with what was shown, backs up, locks,
// writes with compare-and-swap, unlocks and audits. Set status (status.go)
// and restore (backups.go) open a planView; edit (edit.go) first hands the
// terminal to the engine's editor loop with tea.Exec. Read-only sessions
// disable the bindings and env.refuse explains why when one is pressed.
//
// Connecting. A network target is opened by the UI itself (connectView),
// so an unknown SSH host key is asked about in a dialog: HostKeys bridges
// the remote package's synchronous question to the program, and every
// open the UI starts goes through it (opening). A lost connection
// (remote.ErrUnreachable) is reopened, not reloaded: r on the failed load
// calls router.reconnect.
//
// Dialogs. A modal box over the body that takes every key (host key
// question, host key alert) implements dialog and is set as router.dialog.
//
// Adding a view. Implement View (embed scope), give it a key set in the
// keymap package, and push it from wherever it is reached: for example a
// repair action opened from the detail view with env.router.push(…).
package tui
