package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"statescope/stores"
)

// Key is the engine's advisory-lock key for a resource ID: FNV-1a 64 of
// the raw ID bytes with the sign bit cleared.
func Key(id string) int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return int64(h.Sum64() & 0x7FFFFFFFFFFFFFFF)
}

// SplitKey is how pg_locks shows a bigint key: classid holds the high 32
// bits, objid the low 32.
func SplitKey(k int64) (classid, objid uint32) {
	return uint32(uint64(k) >> 32), uint32(k)
}

// heldLock is a lock this process holds, on a connection of its own: an
// advisory lock belongs to the session that took it, so Unlock must run there.
type heldLock struct {
	id   string
	key  int64
	conn *pgx.Conn
}

func (h *heldLock) pid() uint32 { return h.conn.PgConn().PID() }

// close ends the session, which also drops any lock it still holds.
func (h *heldLock) close(ctx context.Context) {
	c, cancel := cleanupCtx(ctx)
	defer cancel()
	_ = h.conn.Close(c)
}

// maxAppName: the server truncates application_name to 63 bytes.
const maxAppName = 63

// appName tells other statescope processes who holds a lock. The ID goes
// last because it is the part most likely to be truncated.
func appName(h *stores.Holder, id string) string {
	clean := strings.NewReplacer(" ", "_", "=", "_").Replace
	return fmt.Sprintf("statescope pid=%d host=%s user=%s op=%s id=%s", h.PID, clean(h.Host), clean(h.User), clean(h.Operation), id)
}

// parseAppName reads appName back, dropping a field cut by truncation. The
// ID it returns may be cut or mangled; callers check it against the key.
func parseAppName(app string) (h *stores.Holder, id string, ok bool) {
	rest, ok := strings.CutPrefix(app, "statescope pid=")
	if !ok {
		return nil, "", false
	}
	fields, id, hasID := strings.Cut("pid="+rest, " id=")
	parts := strings.Fields(fields)
	if !hasID && len(app) >= maxAppName && len(parts) > 0 {
		parts = parts[:len(parts)-1]
	}
	h = &stores.Holder{Tool: "statescope"}
	for _, p := range parts {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "pid":
			h.PID, _ = strconv.Atoi(v)
		case "host":
			h.Host = v
		case "user":
			h.User = v
		case "op":
			h.Operation = v
		}
	}
	return h, id, true
}

// Lock takes the lock for this process with the operation "lock".
func (s *Store) Lock(ctx context.Context, id string) error {
	return s.LockAs(ctx, id, stores.NewHolder("lock"))
}

// LockAs takes the engine's advisory lock without waiting (the engine's own
// Lock waits), on a new connection named after the holder, kept until Unlock.
func (s *Store) LockAs(ctx context.Context, id string, h *stores.Holder) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if h == nil {
		h = stores.NewHolder("lock")
	}
	s.mu.Lock()
	_, mine := s.held[id]
	s.mu.Unlock()
	if mine {
		return s.fail(ctx, "lock", id, fmt.Errorf("%w (by this statescope process)", stores.ErrLocked))
	}
	cfg := s.lockCfg.Copy()
	cfg.RuntimeParams["application_name"] = appName(h, id)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return s.fail(ctx, "lock", id, err)
	}
	hl := &heldLock{id: id, key: Key(id), conn: conn}
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", hl.key).Scan(&got); err != nil || !got {
		hl.close(ctx)
		if err != nil {
			return s.fail(ctx, "lock", id, err)
		}
		return s.fail(ctx, "lock", id, fmt.Errorf("%w%s", stores.ErrLocked, s.heldBy(ctx, hl.key)))
	}
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.held[id] = hl
	}
	s.mu.Unlock()
	if closed {
		hl.close(ctx)
		return s.fail(ctx, "lock", id, errors.New("store is closed"))
	}
	return nil
}

// heldBy says who holds key, for the "already locked" message; best effort.
func (s *Store) heldBy(ctx context.Context, key int64) string {
	rows, err := s.lockRows(ctx, &key)
	if err != nil {
		return ""
	}
	for _, r := range rows {
		if r.granted && r.pid != nil {
			return fmt.Sprintf(" (held by PostgreSQL backend pid %d, %s from %s)", *r.pid, r.appLabel(), r.clientLabel())
		}
	}
	return ""
}

// Unlock releases a lock this process holds, on the connection that took
// it, and checks the server agrees it was held.
func (s *Store) Unlock(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	h := s.held[id]
	delete(s.held, id)
	s.mu.Unlock()
	if h == nil {
		return s.fail(ctx, "unlock", id, fmt.Errorf("%w by this statescope process (a lock another session holds can only be force-released)", stores.ErrNotLocked))
	}
	return s.release(ctx, "unlock", h)
}

// release unlocks and closes a lock connection this process owned. Closing
// ends the session, so the lock is gone even if the unlock itself failed.
func (s *Store) release(ctx context.Context, op string, h *heldLock) error {
	defer h.close(ctx)
	var released bool
	if err := h.conn.QueryRow(ctx, "SELECT pg_advisory_unlock($1)", h.key).Scan(&released); err != nil {
		return s.fail(ctx, op, h.id, fmt.Errorf("%w (its connection was closed, which releases the lock)", err))
	}
	if !released {
		return s.fail(ctx, op, h.id, fmt.Errorf("%w: its session no longer held it", stores.ErrNotLocked))
	}
	return nil
}

// lockRow is one advisory lock row of pg_locks with its session from
// pg_stat_activity. Session columns are NULL when this role may not see
// them (it needs pg_read_all_stats) and pid is NULL for a prepared
// transaction.
type lockRow struct {
	key                                  int64
	granted                              bool
	pid                                  *int32
	vxid, db                             string
	backendStart, stateChange, queryTime *time.Time
	state, app, client, dbUser           *string
	clientPort                           *int32
}

const locksSQL = `SELECT (l.classid::bigint << 32) | l.objid::bigint AS key, l.granted, l.pid,
	l.virtualtransaction, current_database(),
	a.backend_start, a.state_change, a.query_start, a.state, a.application_name,
	host(a.client_addr), a.client_port, a.usename
FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.objsubid = 1
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND ($1::bigint IS NULL OR (l.classid::bigint << 32) | l.objid::bigint = $1)
ORDER BY key, l.granted DESC, l.pid`

// anyLockSQL asks whether locksSQL has any row, from pg_locks alone: a
// new session spends milliseconds of server CPU planning the sessions join
// (a fleet check pays that per context), and the usual answer is none.
const anyLockSQL = `SELECT EXISTS (SELECT FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 1
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))`

// lockRows reads the advisory locks of this database, all or one key's.
func (s *Store) lockRows(ctx context.Context, key *int64) ([]lockRow, error) {
	rows, err := s.pool.Query(ctx, locksSQL, key)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (lockRow, error) {
		var l lockRow
		err := r.Scan(&l.key, &l.granted, &l.pid, &l.vxid, &l.db, &l.backendStart, &l.stateChange, &l.queryTime,
			&l.state, &l.app, &l.client, &l.clientPort, &l.dbUser)
		return l, err
	})
}

// token identifies one holding session: a pid is reused, a pid together
// with its backend start is not. Without pg_read_all_stats the start is
// hidden and the pid alone is used.
func (r lockRow) token() string {
	if r.pid == nil {
		return ""
	}
	if r.backendStart == nil {
		return fmt.Sprintf("%d:-", *r.pid)
	}
	return fmt.Sprintf("%d:%d", *r.pid, r.backendStart.UnixNano())
}

func (r lockRow) appLabel() string {
	switch {
	case r.app == nil:
		return "a session"
	case *r.app == "":
		return "a session without application_name"
	}
	return strconv.Quote(*r.app)
}

func (r lockRow) clientLabel() string {
	switch {
	case r.client != nil && r.clientPort != nil:
		return fmt.Sprintf("%s port %d", *r.client, *r.clientPort)
	case r.client != nil:
		return *r.client
	case r.backendStart != nil:
		return "a local socket"
	}
	return "an address this role may not see"
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Locks lists every advisory lock in the current database, whoever holds
// it, with the holding session. Keys are mapped back to resource IDs by
// hashing the names in iac_resources; other keys are listed as
// advisory-key:<k>.
func (s *Store) Locks(ctx context.Context) ([]stores.LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var anyLock bool
	if err := s.pool.QueryRow(ctx, anyLockSQL).Scan(&anyLock); err != nil {
		return nil, s.fail(ctx, "locks", "", err)
	}
	if !anyLock {
		return nil, nil
	}
	rows, err := s.lockRows(ctx, nil)
	if err != nil {
		return nil, s.fail(ctx, "locks", "", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	inv := inventory{own: map[uint32]bool{}, byPID: map[int32][]int64{}, waiters: map[int64][]string{}}
	if inv.names, err = s.namesByKey(ctx); err != nil {
		return nil, s.fail(ctx, "locks", "", err)
	}
	s.mu.Lock()
	for id, h := range s.held {
		inv.own[h.pid()] = true
		inv.names[h.key] = id
	}
	s.mu.Unlock()
	loopbackClient := false
	for _, r := range rows {
		switch {
		case !r.granted && r.pid != nil:
			inv.waiters[r.key] = append(inv.waiters[r.key], strconv.Itoa(int(*r.pid)))
		case r.granted && r.pid != nil:
			inv.byPID[*r.pid] = append(inv.byPID[*r.pid], r.key)
		}
		if ip := net.ParseIP(str(r.client)); ip != nil && ip.IsLoopback() {
			loopbackClient = true
		}
	}
	if loopbackClient {
		inv.local, _ = s.localServer(ctx)
	}
	var out []stores.LockInfo
	for _, r := range rows {
		if r.granted {
			out = append(out, inv.describe(r))
		}
	}
	return out, nil
}

// inventory is what describing one lock needs to know about the others.
type inventory struct {
	names   map[int64]string
	own     map[uint32]bool    // backend pids of this process's lock connections
	byPID   map[int32][]int64  // keys each session holds
	waiters map[int64][]string // pids waiting for each key
	local   *localServer       // nil unless the server runs on this host
}

// idOf maps a key to a resource ID, reporting whether it is one.
func (inv *inventory) idOf(key int64, r lockRow) (string, bool) {
	if id, ok := inv.names[key]; ok {
		return id, true
	}
	// Another statescope names the ID in application_name; trust it only
	// if it hashes to the key (it may be truncated or mangled).
	if _, id, ok := parseAppName(str(r.app)); ok && id != "" && Key(id) == key {
		return id, true
	}
	return fmt.Sprintf("advisory-key:%d", key), false
}

// namesByKey hashes every resource name; a missing table has none.
func (s *Store) namesByKey(ctx context.Context) (map[int64]string, error) {
	names := map[int64]string{}
	rows, err := s.pool.Query(ctx, "SELECT name FROM iac_resources")
	if err != nil {
		if isCode(err, codeUndefinedTable) {
			return names, nil
		}
		return nil, err
	}
	defer rows.Close()
	var name string
	for rows.Next() {
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		names[Key(name)] = name
	}
	if err := rows.Err(); err != nil && !isCode(err, codeUndefinedTable) {
		return nil, err
	}
	return names, nil
}

// describe turns a granted row into a LockInfo: holder, age, evidence and
// what releasing it does.
func (inv *inventory) describe(r lockRow) stores.LockInfo {
	id, known := inv.idOf(r.key, r)
	classid, objid := SplitKey(r.key)
	info := stores.LockInfo{
		ResourceID: id,
		Token:      r.token(),
		Source:     fmt.Sprintf("pg_locks advisory key %d (classid %d, objid %d) in database %s", r.key, classid, objid, r.db),
	}
	var why []string
	if !known {
		why = append(why, "no iac_resources row hashes to this key, so it may not be a workflow lock")
	}
	if w := inv.waiters[r.key]; len(w) > 0 {
		why = append(why, fmt.Sprintf("%d session(s) waiting for it: pid %s", len(w), strings.Join(w, ", ")))
	}
	if r.pid == nil {
		why = append(why, "held by prepared transaction "+r.vxid)
		info.Evidence = strings.Join(why, "; ")
		info.Release = "cannot be force-released: end the prepared transaction with COMMIT PREPARED or ROLLBACK PREPARED"
		return info
	}
	pid := *r.pid
	details := map[string]string{
		"backend_pid":   strconv.Itoa(int(pid)),
		"application":   str(r.app),
		"client":        r.clientLabel(),
		"state":         str(r.state),
		"since":         stamp(r.stateChange),
		"backend_start": stamp(r.backendStart),
		"db_user":       str(r.dbUser),
	}
	for k, v := range details {
		if v == "" {
			delete(details, k)
		}
	}
	holder := &stores.Holder{PID: int(pid), Details: details}
	statescope, _, isStatescope := parseAppName(str(r.app))
	switch {
	case isStatescope && r.backendStart != nil:
		// statescope opens a connection per lock, so the session's start is
		// when the lock was taken, and the holder's own pid is named.
		statescope.Details = details
		holder = statescope
		info.AcquiredAt = *r.backendStart
		why = append(why, "taken by statescope on a connection of its own (age from backend_start)")
	case r.stateChange != nil:
		info.AcquiredAt = *r.stateChange
		why = append(why, sessionEvidence(r))
	case r.backendStart != nil:
		info.AcquiredAt = *r.backendStart
		why = append(why, "age from the session's backend_start (no state_change); PostgreSQL does not record when an advisory lock was taken")
	default:
		why = append(why, "this role cannot see the holding session (grant pg_read_all_stats to see it); the token checks the pid only")
	}
	holder.Since = info.AcquiredAt.UTC()
	info.Holder = holder
	if inv.own[uint32(pid)] {
		info.Evidence = strings.Join(append(why, "held by this statescope process"), "; ")
		info.Release = fmt.Sprintf("unlock and close this process's own lock connection (backend pid %d); nothing else is affected", pid)
		return info
	}
	gone, note := inv.local.clientGone(r)
	if note != "" {
		why = append(why, note)
	}
	info.HolderGone = gone
	info.Evidence = strings.Join(why, "; ")
	var others []string
	for _, k := range inv.byPID[pid] {
		if k != r.key {
			other, _ := inv.idOf(k, r)
			others = append(others, strconv.Quote(other))
		}
	}
	also := "no other locks"
	if len(others) > 0 {
		also = "its locks on " + strings.Join(others, ", ")
	}
	info.Release = fmt.Sprintf("terminate PostgreSQL backend pid %d (session of %s from %s), which also releases: %s", pid, r.appLabel(), r.clientLabel(), also)
	switch str(r.state) {
	case "active":
		info.Release += "; its running query is cancelled"
	case "idle in transaction", "idle in transaction (aborted)":
		info.Release += "; its open transaction is rolled back"
	}
	return info
}

// sessionEvidence explains an age taken from state_change, the best
// PostgreSQL offers: it never records when an advisory lock was taken.
func sessionEvidence(r lockRow) string {
	since := stamp(r.stateChange)
	switch state := str(r.state); state {
	case "idle":
		return "session idle since " + since + " (pg_stat_activity.state_change; the lock is at least that old)"
	case "active":
		return "session running a query since " + since + " (pg_stat_activity.state_change); if its client died meanwhile, PostgreSQL notices only when the query ends unless client_connection_check_interval is set"
	default:
		return fmt.Sprintf("session %s since %s (pg_stat_activity.state_change)", state, since)
	}
}

// terminateSQL ends the session only if it is still the one the token
// names and still holds the key, in one statement, so nothing can change
// hands between the check and the act.
const terminateSQL = `SELECT pg_terminate_backend(a.pid, 5000) FROM pg_stat_activity a
WHERE a.pid = $1 AND a.backend_start IS NOT DISTINCT FROM $2::timestamptz
	AND EXISTS (SELECT 1 FROM pg_locks l
		WHERE l.pid = a.pid AND l.granted AND l.locktype = 'advisory' AND l.objsubid = 1
			AND (l.classid::bigint << 32) | l.objid::bigint = $3
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))`

// ForceUnlock releases the lock on id if the holding session is still the
// one token names: this process's own lock connection is unlocked and
// closed; any other session is terminated (waiting up to 5 s for it to
// exit), which releases everything it held.
func (s *Store) ForceUnlock(ctx context.Context, id, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	const op = "force unlock"
	key := Key(id)
	rows, err := s.lockRows(ctx, &key)
	if err != nil {
		return s.fail(ctx, op, id, err)
	}
	var match *lockRow
	var current []string
	for i, r := range rows {
		if !r.granted {
			continue
		}
		current = append(current, r.token())
		if r.token() == token {
			match = &rows[i]
		}
	}
	switch {
	case len(current) == 0:
		return s.fail(ctx, op, id, stores.ErrNotLocked)
	case match == nil:
		return s.fail(ctx, op, id, fmt.Errorf("held now by session %s, not %s: %w", strings.Join(current, ", "), token, stores.ErrLockChanged))
	case match.pid == nil:
		return s.fail(ctx, op, id, fmt.Errorf("held by a prepared transaction; end it with COMMIT PREPARED or ROLLBACK PREPARED: %w", stores.ErrUnsupported))
	}
	pid := *match.pid
	s.mu.Lock()
	h := s.held[id]
	if h != nil && h.pid() == uint32(pid) {
		delete(s.held, id)
	} else {
		h = nil
	}
	s.mu.Unlock()
	if h != nil {
		return s.release(ctx, op, h)
	}
	var terminated bool
	err = s.pool.QueryRow(ctx, terminateSQL, pid, match.backendStart, key).Scan(&terminated)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return s.fail(ctx, op, id, fmt.Errorf("session %s let go of it meanwhile: %w", token, stores.ErrLockChanged))
	case isCode(err, codeInsufficientPrivilege):
		return s.fail(ctx, op, id, s.permissionError(ctx, pid, err))
	case err != nil:
		return s.fail(ctx, op, id, err)
	case !terminated:
		return s.fail(ctx, op, id, fmt.Errorf("PostgreSQL backend pid %d was signalled but had not exited after 5 s; the lock may still be held", pid))
	}
	after, err := s.lockRows(ctx, &key)
	if err != nil {
		return s.fail(ctx, op, id, fmt.Errorf("backend pid %d terminated, but checking the lock failed: %w", pid, err))
	}
	for _, r := range after {
		if r.granted && r.token() == token {
			return s.fail(ctx, op, id, fmt.Errorf("backend pid %d was terminated but still holds the lock", pid))
		}
	}
	return nil
}

// permissionError says which grant terminating another role's session needs.
func (s *Store) permissionError(ctx context.Context, pid int32, err error) error {
	var role string
	if s.pool.QueryRow(ctx, "SELECT current_user").Scan(&role) != nil {
		role = s.lockCfg.User
	}
	var pgErr *pgconn.PgError
	errors.As(err, &pgErr)
	if strings.Contains(strings.ToLower(pgErr.Message+" "+pgErr.Detail), "superuser") {
		return fmt.Errorf("role %q may not terminate backend pid %d: that session belongs to a superuser, and only a superuser can terminate it: %w", role, pid, err)
	}
	return fmt.Errorf("role %q may not terminate backend pid %d, a session of another role: it needs `GRANT pg_signal_backend TO %s` (run by a superuser): %w",
		role, pid, pgx.Identifier{role}.Sanitize(), err)
}
