// Package postgres reads and writes workflow state in the engine's
// PostgreSQL table iac_resources and takes the engine's advisory locks.
//
// Unlike the engine's store it reads timestamps correctly, writes an empty
// array for absent dependencies, fails fast on a held lock, holds each lock
// on a dedicated connection (so Unlock runs where the lock lives), and can
// list and force-release every advisory lock in the database.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"statescope/stores"
)

func init() {
	open := func(ctx context.Context, t stores.Target) (stores.Store, error) {
		if t.ReadOnly {
			return OpenReader(ctx, t.Raw)
		}
		return Open(ctx, t.Raw)
	}
	const usage = "postgres://user@host:port/db?sslmode=disable (any pgx DSN; PG* variables honoured)"
	stores.Register("postgres", usage, open)
	stores.Register("postgresql", usage, open)
}

// The capabilities statescope looks for.
var (
	_ stores.HolderLocker     = (*Store)(nil)
	_ stores.LockLister       = (*Store)(nil)
	_ stores.ForceUnlocker    = (*Store)(nil)
	_ stores.ConditionalStore = (*Store)(nil)
	_ stores.RowLister        = (*Store)(nil)
	_ stores.Limiter          = (*Store)(nil)
	_ stores.Describer        = (*Store)(nil)
	_ io.Closer               = (*Store)(nil)
)

// Table is the engine's table name. It is unqualified, as upstream has it,
// so it resolves through search_path.
const Table = "iac_resources"

// createTable is the engine's DDL: same columns, types and defaults.
const createTable = `CREATE TABLE IF NOT EXISTS iac_resources (
	name           TEXT PRIMARY KEY,
	type           TEXT NOT NULL DEFAULT '',
	provider       TEXT NOT NULL DEFAULT '',
	provider_ref   TEXT NOT NULL DEFAULT '',
	provider_id    TEXT NOT NULL DEFAULT '',
	status         TEXT NOT NULL DEFAULT '',
	config_hash    TEXT NOT NULL DEFAULT '',
	applied_config JSONB NOT NULL DEFAULT '{}',
	outputs        JSONB NOT NULL DEFAULT '{}',
	dependencies   TEXT[] NOT NULL DEFAULT '{}',
	created_at     TIMESTAMPTZ NOT NULL DEFAULT NOW(),
	updated_at     TIMESTAMPTZ NOT NULL DEFAULT NOW()
)`

// SQLSTATE codes handled specially.
const (
	codeUndefinedTable        = "42P01"
	codeUndefinedColumn       = "42703"
	codeInsufficientPrivilege = "42501"
)

// Store is one PostgreSQL database. It is safe for concurrent use.
type Store struct {
	pool    pool // shared with stores on the same server (shared.go)
	lockCfg *pgx.ConnConfig
	target  string // redacted, for Describe and errors

	tableMu sync.Mutex
	tableOK bool

	mu     sync.Mutex
	held   map[string]*heldLock
	closed bool
}

// Open connects to the database a pgx DSN (URL or keyword form) names and
// checks it answers. It creates nothing: the table is created on first write.
func Open(ctx context.Context, dsn string) (*Store, error) { return open(ctx, dsn, false) }

// OpenReader is Open for a store that will only be read (a fleet's
// check, a diff's other side): it may share sessions with readers of
// other schemas of the same database (shared.go). A store that may write
// shares only with the very same DSN, so its statements run exactly as
// the engine's do, on the search_path its connection starts with.
func OpenReader(ctx context.Context, dsn string) (*Store, error) { return open(ctx, dsn, true) }

func open(ctx context.Context, dsn string, reader bool) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, parseError(err)
	}
	target := describeTarget(dsn, cfg.ConnConfig)
	if _, set := cfg.ConnConfig.RuntimeParams["application_name"]; !set {
		cfg.ConnConfig.RuntimeParams["application_name"] = "statescope"
	}
	if cfg.ConnConfig.DefaultQueryExecMode == pgx.QueryExecModeCacheStatement {
		// pgx's default prepares each statement on every new connection,
		// a round trip of its own; statescope's connections are short-lived
		// (a fleet check opens one per context) and its queries few, so
		// each query is sent in one round trip instead, parameters and
		// results in text form. pgx parses timestamps only in ISO form:
		// DateStyle is set so a database or role default cannot change it.
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	cfg.ConnConfig.RuntimeParams["DateStyle"] = "ISO"
	lockCfg := cfg.ConnConfig.Copy()
	pool, err := share(dsn, cfg, reader)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", target, ctxErr(ctx, err))
	}
	// Logging in proves the server answers; the connection then serves
	// the first query. (A reader's search_path is sent with each statement:
	// one the server refuses fails the store's first query.)
	if err := pool.ping(ctx); err != nil {
		pool.release()
		return nil, fmt.Errorf("postgres %s: connect: %w", target, ctxErr(ctx, err))
	}
	return &Store{pool: pool, lockCfg: lockCfg, target: target, held: map[string]*heldLock{}}, nil
}

// parseError keeps pgx's reason but not the DSN it quotes: its masking
// misses forms such as "password = x", and a DSN that does not parse cannot
// be masked reliably at all.
func parseError(err error) error {
	reason := err.Error()
	if i := strings.LastIndex(reason, "`: "); i >= 0 {
		reason = reason[i+3:]
	}
	return fmt.Errorf("postgres: invalid DSN: %s", reason)
}

// describeTarget shows a URL DSN as written, password masked; a keyword
// DSN (host=… password=…) is rebuilt from the parsed settings, which never
// include the password.
func describeTarget(dsn string, cc *pgx.ConnConfig) string {
	if strings.Contains(dsn, "://") {
		return stores.RedactTarget(dsn)
	}
	u := url.URL{Scheme: "postgres", User: url.User(cc.User), Host: net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))), Path: "/" + cc.Database}
	if strings.HasPrefix(cc.Host, "/") {
		u.Host = ""
		u.RawQuery = url.Values{"host": {cc.Host}}.Encode()
	}
	return u.String()
}

// Describe names the store without credentials.
func (s *Store) Describe() string { return "postgres " + s.target }

// Limitations: the engine's table has no error column.
func (s *Store) Limitations() []string {
	return []string{"the error field is not stored: the engine's iac_resources table has no error column, so it is dropped on save"}
}

// Close releases every lock this store holds (by closing its connection)
// and gives back its share of the pool. A second Close does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	held, wasClosed := s.held, s.closed
	s.held, s.closed = nil, true
	s.mu.Unlock()
	if wasClosed {
		return nil
	}
	for _, h := range held {
		h.close(context.Background())
	}
	s.pool.release()
	return nil
}

// fail wraps err with the target, the operation and the ID. A cancelled
// context wins over whatever the driver made of it, so callers can test
// errors.Is(err, context.Canceled).
func (s *Store) fail(ctx context.Context, op, id string, err error) error {
	err = ctxErr(ctx, err)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == codeUndefinedColumn {
		err = fmt.Errorf("%w (the table predates a column the engine added later; the engine adds it when it starts, statescope never alters the table)", err)
	}
	if id == "" {
		return fmt.Errorf("postgres %s: %s: %w", s.target, op, err)
	}
	return fmt.Errorf("postgres %s: %s %q: %w", s.target, op, id, err)
}

func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// ensureTable creates the table on first write. It looks first, so a role
// that may write an existing table but not create in the schema still works.
func (s *Store) ensureTable(ctx context.Context) error {
	s.tableMu.Lock()
	defer s.tableMu.Unlock()
	if s.tableOK {
		return nil
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, "SELECT to_regclass('iac_resources') IS NOT NULL").Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := s.pool.Exec(ctx, createTable); err != nil {
			return fmt.Errorf("create table iac_resources: %w", err)
		}
	}
	s.tableOK = true
	return nil
}

// cleanupCtx bounds clean-up work that must run even when the caller's
// context has ended.
func cleanupCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}
