package stores

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Verdict is statescope's judgement of one lock.
type Verdict string

const (
	// VerdictOrphaned: the holder is known to be gone.
	VerdictOrphaned Verdict = "orphaned"
	// VerdictStale: older than the threshold, holder not known to be alive.
	VerdictStale Verdict = "stale"
	// VerdictHeld: fresh, or the holder is known to be alive.
	VerdictHeld Verdict = "held"
	// VerdictUnknown: no age and no holder to judge by.
	VerdictUnknown Verdict = "unknown"
)

// DefaultStaleAfter is the age past which a lock or a half-done record is
// suspicious.
const DefaultStaleAfter = 15 * time.Minute

// Holder says who took a lock, as far as the backend can tell.
type Holder struct {
	Tool      string    `json:"tool,omitempty"`
	User      string    `json:"user,omitempty"`
	Host      string    `json:"host,omitempty"`
	PID       int       `json:"pid,omitempty"`
	Operation string    `json:"operation,omitempty"`
	Since     time.Time `json:"since,omitzero"`
	// Nonce makes every lock statescope takes a distinct instance, so a
	// token never matches a later lock taken in the same second.
	Nonce string `json:"nonce,omitempty"`
	// Details carries backend-specific facts (application name, client
	// address, session state…), shown as evidence.
	Details map[string]string `json:"details,omitempty"`
}

// String is a one-line description for tables.
func (h *Holder) String() string {
	if h == nil {
		return ""
	}
	var b strings.Builder
	if h.User != "" {
		b.WriteString(h.User)
	}
	if h.Host != "" {
		b.WriteString("@" + h.Host)
	}
	if h.PID != 0 {
		fmt.Fprintf(&b, " pid %d", h.PID)
	}
	if h.Operation != "" {
		b.WriteString(" (" + h.Operation + ")")
	}
	return strings.TrimSpace(b.String())
}

// LockInfo is one lock in a store's inventory.
type LockInfo struct {
	ResourceID string
	// Token identifies this exact lock instance; ForceUnlock acts only if
	// the lock still has it.
	Token string
	// AcquiredAt is when the lock was taken; zero when the backend cannot tell.
	AcquiredAt time.Time
	Holder     *Holder
	// HolderGone is set by backends that can prove the holder has ended.
	HolderGone bool
	Verdict    Verdict
	// Evidence is the human explanation of what was found and why the verdict.
	Evidence string
	// Source is where the lock lives (file path, object key, pg_locks row).
	Source string
	// Release says exactly what ForceUnlock will do, for confirm dialogs.
	Release string
	// Raw is the lock artefact's content as read, when it has one.
	Raw []byte
	// Unproven says why a release by Token cannot be proven to act on this
	// very lock instance ("" when it can); such releases are refused.
	Unproven string
	// NoRecord: no record maps to this lock's name, so ResourceID is the
	// name itself (what a crash between Lock and the first save leaves).
	NoRecord bool
}

// Matches reports whether the lock is id's: its resource ID, or, for a
// lock without a record, the name the engine's rule gives id.
func (l LockInfo) Matches(id string) bool {
	return l.ResourceID == id || l.NoRecord && ObjectName(id) == l.ResourceID
}

// Errors for a release whose token cannot name one lock instance.
var (
	// ErrTooFresh: the lock was inspected within one timestamp tick of
	// being taken, when a re-take could still look identical.
	ErrTooFresh = errors.New("too fresh to prove it is the lock you saw — look again")
	// ErrUnproven: nothing the backend shows tells this lock from the next.
	ErrUnproven = errors.New("the backend cannot prove which lock instance a token names")
)

// FreshWindow: a lock changed this recently before it was inspected may be
// indistinguishable from one re-taken with the same content in the same
// timestamp tick (a second on the coarsest clocks), plus a second for
// another machine's clock. Past it, any re-take carries a later time.
const FreshWindow = 2 * time.Second

// TooFresh says why a lock last changed at changed and inspected at now
// cannot yet be told from a re-take, or "" once FreshWindow has passed.
func TooFresh(changed, now time.Time) string {
	age := now.Sub(changed)
	if age >= FreshWindow {
		return ""
	}
	return fmt.Sprintf("changed %s before it was inspected, within the timestamp tick in which a re-take with the same content looks identical: %v", HumanDuration(age), ErrTooFresh)
}

// freshTokenPrefix marks a token taken while the lock was too fresh.
const freshTokenPrefix = "fresh-"

// FreshToken marks tok as taken too early to prove anything; releasing
// by it is refused with ErrTooFresh, and looking again gives a real one.
func FreshToken(tok string) string { return freshTokenPrefix + tok }

// IsFreshToken reports a token made by FreshToken.
func IsFreshToken(tok string) bool { return strings.HasPrefix(tok, freshTokenPrefix) }

// UnprovenUnlocker is optional: release whatever lock is current on id,
// for a lock no token can prove. The caller must say so to the user.
type UnprovenUnlocker interface {
	ForceUnlockUnproven(ctx context.Context, id string) error
}

// Age is how long the lock has been held, or zero when unknown.
func (l LockInfo) Age(now time.Time) time.Duration {
	if l.AcquiredAt.IsZero() {
		return 0
	}
	return now.Sub(l.AcquiredAt)
}

// LockLister is an optional capability: an inventory of every lock.
type LockLister interface {
	Locks(ctx context.Context) ([]LockInfo, error)
}

// ForceUnlocker is an optional capability: release a lock held by anyone,
// but only if its token still equals the one the caller saw. A different
// token gives ErrLockChanged, no lock ErrNotLocked; nothing changes in either case.
type ForceUnlocker interface {
	ForceUnlock(ctx context.Context, id, token string) error
}

// Judge sets Verdict and completes Evidence for each lock, then sorts them
// orphaned first, then stale, unknown and held, oldest first within each.
func Judge(locks []LockInfo, now time.Time, staleAfter time.Duration) {
	host, _ := os.Hostname()
	for i := range locks {
		judgeOne(&locks[i], now, staleAfter, host)
	}
	sort.SliceStable(locks, func(i, j int) bool {
		ri, rj := verdictRank[locks[i].Verdict], verdictRank[locks[j].Verdict]
		if ri != rj {
			return ri < rj
		}
		ai, aj := locks[i].AcquiredAt, locks[j].AcquiredAt
		if !ai.Equal(aj) {
			return ai.Before(aj)
		}
		return locks[i].ResourceID < locks[j].ResourceID
	})
}

var verdictRank = map[Verdict]int{VerdictOrphaned: 0, VerdictStale: 1, VerdictUnknown: 2, VerdictHeld: 3}

func judgeOne(l *LockInfo, now time.Time, staleAfter time.Duration, host string) {
	var why []string
	backendSaid := l.Evidence != ""
	if backendSaid {
		why = append(why, l.Evidence)
	}
	h := l.Holder
	switch {
	case l.HolderGone:
		if len(why) == 0 {
			why = append(why, "the holder is gone")
		}
		l.Verdict = VerdictOrphaned
	case h != nil && h.PID != 0 && h.Host != "" && h.Host == host:
		if ProcessAlive(h.PID) {
			why = append(why, fmt.Sprintf("holder pid %d is running on this host", h.PID))
			l.Verdict = VerdictHeld
		} else {
			why = append(why, fmt.Sprintf("holder pid %d no longer exists on this host", h.PID))
			l.Verdict = VerdictOrphaned
		}
	case l.AcquiredAt.IsZero():
		l.Verdict = VerdictUnknown
		why = append(why, "acquisition time unknown")
	case now.Sub(l.AcquiredAt) > staleAfter:
		l.Verdict = VerdictStale
		why = append(why, fmt.Sprintf("held %s, longer than %s", HumanDuration(now.Sub(l.AcquiredAt)), HumanDuration(staleAfter)))
	default:
		l.Verdict = VerdictHeld
		why = append(why, fmt.Sprintf("taken %s ago", HumanDuration(now.Sub(l.AcquiredAt))))
	}
	if l.Verdict != VerdictOrphaned && !(h != nil && h.PID != 0 && h.Host == host) {
		if note := holderNote(h, backendSaid); note != "" {
			why = append(why, note)
		}
	}
	l.Evidence = strings.Join(why, "; ")
}

// holderNote says what is known of a holder that was not checked, so "no
// holder recorded" never reads like "a holder we could not check". A
// backend that described the holder itself (a PostgreSQL session's pid
// and client) needs no note.
func holderNote(h *Holder, backendSaid bool) string {
	switch {
	case backendSaid:
		return ""
	case h == nil:
		return "no holder recorded"
	case h.PID == 0:
		return "holder recorded without a pid"
	case h.Host == "":
		return fmt.Sprintf("holder pid %d, host not recorded: not checked", h.PID)
	default:
		return fmt.Sprintf("holder pid %d on %s, not checked from this host", h.PID, h.Host)
	}
}

// ProcessAlive reports whether a local pid exists (signal 0). EPERM means it
// exists but belongs to someone else.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// NewHolder describes this process as a lock holder for an operation.
func NewHolder(operation string) *Holder {
	h := &Holder{Tool: "statescope", PID: os.Getpid(), Operation: operation, Since: time.Now().UTC().Truncate(time.Second), Nonce: RandomHex(8)}
	h.Host, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		h.User = u.Username
	}
	return h
}

// EncodeLockBody is the content of a lock file or object statescope writes:
// the RFC 3339 time upstream writes, then a line of holder JSON that
// workflow never reads (it only tests the lock's existence).
func EncodeLockBody(h *Holder) []byte {
	b, _ := json.Marshal(h)
	return []byte(FormatTime(h.Since) + "\n" + string(b))
}

// DecodeLockBody reads a lock body: upstream's bare timestamp, GCS's literal
// "locked", an empty Azure placeholder, or statescope's timestamp + holder.
// It returns what it could tell and a note on anything it could not.
func DecodeLockBody(body []byte) (at time.Time, h *Holder, note string) {
	first, rest, _ := bytes.Cut(bytes.TrimSpace(body), []byte("\n"))
	text := string(bytes.TrimSpace(first))
	switch {
	case text == "":
		return time.Time{}, nil, "lock body is empty"
	case text == "locked":
		return time.Time{}, nil, `lock body is "locked" (no timestamp)`
	}
	t, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		return time.Time{}, nil, fmt.Sprintf("lock body is not a timestamp: %q", truncate(text, 60))
	}
	if t.IsZero() {
		return time.Time{}, nil, "lock body holds the zero time"
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		var holder Holder
		if json.Unmarshal(rest, &holder) == nil {
			h = &holder
		} else {
			note = "holder line is unreadable"
		}
	}
	return t, h, note
}

// RandomHex returns n random bytes as hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// HasNonce reports a lock body statescope wrote: its holder's nonce makes
// every instance's bytes unique.
func HasNonce(body []byte) bool {
	_, h, _ := DecodeLockBody(body)
	return h != nil && h.Nonce != ""
}

// HolderLocker is optional: a store that records who holds a lock. Lock on
// such a store records this process with the operation "lock".
type HolderLocker interface {
	LockAs(ctx context.Context, id string, h *Holder) error
}

// LockFor takes a lock recording this process and the operation, where the
// store can record a holder; otherwise it is a plain Lock.
func LockFor(ctx context.Context, s Store, id, operation string) error {
	if hl, ok := s.(HolderLocker); ok {
		return hl.LockAs(ctx, id, NewHolder(operation))
	}
	return s.Lock(ctx, id)
}
