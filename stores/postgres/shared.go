package postgres

import (
	"context"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Stores open at the same time share their sessions when their DSNs are
// the same, and the PG* environment that fills in what they leave out is
// too. Readers (OpenReader: a fleet's checks, a diff's other side) also
// share when their DSNs (URLs) differ only in the search_path they name: a
// fleet of contexts that are schemas of one database, or the TUI's fleet,
// which keeps every context's store open between checks, then holds as
// many connections as it runs queries at once, not a pool per context, and
// PostgreSQL starts a backend per connection rather than per context.
//
// Such a pool's connections start on the server's default search_path and
// never leave it: each statement of a reader that names one is sent after
// set_config(search_path, …, true) in the same round trip, before one
// Sync, so both run in one implicit transaction and the path ends with it.
// No session state is shared, so no cancellation, error or pooler in
// transaction mode (which keeps a transaction on one server session) can
// leave one store's statement under another's path.

// setPathSQL sets the search_path until the end of the transaction.
const setPathSQL = "SELECT set_config('search_path', $1, true)"

// sharedMaxConns is a shared pool's size when the DSN does not set
// pool_max_conns: enough for the fleet's default parallelism with room to
// spare. Connections are opened only as queries need them.
const sharedMaxConns = 16

// pools are the open shared pools by key.
var pools = struct {
	sync.Mutex
	byKey map[string]*sharedPool
}{byKey: map[string]*sharedPool{}}

type sharedPool struct {
	key  string
	pool *pgxpool.Pool
	refs int
}

// pool is one store's handle on a shared pool: the pool's query methods,
// each run under the store's search_path when it names one (local).
type pool struct {
	shared *sharedPool
	path   string
	local  bool
}

// acquire hands over a connection on which first succeeded: first sends
// the store's path and its statement and reads the path's result, cleaning
// up itself when it fails. When it fails because the server had ended the
// session (so nothing ran), one more connection is tried, as pgxpool does
// when a ping fails.
func (p pool) acquire(ctx context.Context, first func(*pgxpool.Conn) error) (*pgxpool.Conn, error) {
	for retried := false; ; retried = true {
		conn, err := p.shared.pool.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		if err = first(conn); err == nil {
			return conn, nil
		}
		ended := conn.Conn().IsClosed() && ctx.Err() == nil
		conn.Release()
		if !ended || retried {
			return nil, err
		}
	}
}

// send sends a statement, after the store's path, on a connection of its
// own: the caller reads the statement's result from the batch, closes it
// and releases the connection.
func (p pool) send(ctx context.Context, sql string, args []any) (*pgxpool.Conn, pgx.BatchResults, error) {
	var br pgx.BatchResults
	conn, err := p.acquire(ctx, func(c *pgxpool.Conn) error {
		b := &pgx.Batch{}
		b.Queue(setPathSQL, p.path)
		b.Queue(sql, args...)
		br = c.SendBatch(ctx, b)
		if _, err := br.Exec(); err != nil {
			br.Close()
			return err
		}
		return nil
	})
	return conn, br, err
}

func (p pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if !p.local {
		return p.shared.pool.Query(ctx, sql, args...)
	}
	conn, br, err := p.send(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, _ := br.Query() // its error comes back through rows
	return &releasingRows{Rows: rows, done: func() { br.Close(); conn.Release() }}, nil
}

func (p pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if !p.local {
		return p.shared.pool.QueryRow(ctx, sql, args...)
	}
	rows, err := p.Query(ctx, sql, args...)
	return firstRow{rows, err}
}

func (p pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if !p.local {
		return p.shared.pool.Exec(ctx, sql, args...)
	}
	conn, br, err := p.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer conn.Release()
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// QueryBinary runs a statement without arguments with every result column
// in binary form (the pool's exec mode would have them as text, which the
// server prints and pgx parses at a cost a large listing feels).
func (p pool) QueryBinary(ctx context.Context, sql string) (pgx.Rows, error) {
	var mrr *pgconn.MultiResultReader
	conn, err := p.acquire(ctx, func(c *pgxpool.Conn) error {
		b := &pgconn.Batch{}
		if p.local {
			b.ExecParams(setPathSQL, [][]byte{[]byte(p.path)}, nil, nil, nil)
		}
		b.ExecParams(sql, nil, nil, nil, []int16{pgx.BinaryFormatCode})
		mrr = c.Conn().PgConn().ExecBatch(ctx, b)
		if !p.local {
			return nil
		}
		if !mrr.NextResult() {
			return mrr.Close()
		}
		if _, err := mrr.ResultReader().Close(); err != nil {
			mrr.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !mrr.NextResult() {
		err := mrr.Close()
		conn.Release()
		if err == nil {
			err = errors.New("postgres: no result")
		}
		return nil, err
	}
	rows := pgx.RowsFromResultReader(conn.Conn().TypeMap(), mrr.ResultReader())
	return &releasingRows{Rows: rows, done: func() { mrr.Close(); conn.Release() }}, nil
}

// ping proves the server answers: a connection is acquired (made, the
// first time) and handed back.
func (p pool) ping(ctx context.Context) error {
	conn, err := p.shared.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn.Release()
	return nil
}

// releasingRows finishes its statement's round trip and hands the
// connection back when closed or read to the end, as pgxpool's rows do.
type releasingRows struct {
	pgx.Rows
	done func()
	once sync.Once
}

func (r *releasingRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *releasingRows) Close() {
	r.Rows.Close()
	r.once.Do(r.done)
}

// firstRow is QueryRow's row: the first of rows.
type firstRow struct {
	rows pgx.Rows
	err  error
}

func (r firstRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// release gives the store's share back; the last one closes the pool.
func (p pool) release() {
	pools.Lock()
	p.shared.refs--
	last := p.shared.refs == 0
	if last {
		delete(pools.byKey, p.shared.key)
	}
	pools.Unlock()
	if last {
		p.shared.pool.Close()
	}
}

// share returns a handle on the pool every store with cfg's connection
// settings shares. For a reader, that is every reader whose URL DSN
// differs at most in search_path: its search_path is taken out of the
// settings the pool connects with and sent with each statement. The pool
// connects lazily.
func share(dsn string, cfg *pgxpool.Config, reader bool) (pool, error) {
	key := dsn
	path, local := "", false
	if reader {
		path, local = cfg.ConnConfig.RuntimeParams["search_path"]
		delete(cfg.ConnConfig.RuntimeParams, "search_path")
		key = withoutSearchPath(dsn) + "\x00readers"
	}
	key += pgEnv()
	pools.Lock()
	defer pools.Unlock()
	sp := pools.byKey[key]
	if sp == nil {
		if !setsPoolSize(dsn) {
			cfg.MaxConns = sharedMaxConns
		}
		p, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			return pool{}, err
		}
		sp = &sharedPool{key: key, pool: p}
		pools.byKey[key] = sp
	}
	sp.refs++
	return pool{shared: sp, path: path, local: local}, nil
}

// setsPoolSize tells whether dsn sets pool_max_conns, in any spelling
// pgx reads (pgxpool's parse gives a default size when it does not).
func setsPoolSize(dsn string) bool {
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return false
	}
	_, set := cc.RuntimeParams["pool_max_conns"]
	return set
}

// withoutSearchPath is a URL DSN without its search_path. A keyword DSN
// is kept whole: only stores with the very same one share.
func withoutSearchPath(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || !strings.Contains(dsn, "://") {
		return dsn
	}
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}

// pgEnv is the PG* environment, which supplies what a DSN leaves out
// (PGUSER, PGPASSWORD, PGSSLMODE, …) when it is parsed: a store opened
// after it changed shares no pool with one opened before.
func pgEnv() string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	slices.Sort(env)
	return "\x00" + strings.Join(env, "\x00")
}
