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
// A shared reader connection runs each store's queries under that store's
// search_path: the store names it in the context it acquires with, and a
// connection set to another path is switched before it is handed out.
// search_path is the only setting a shared connection changes, and it is
// never changed inside a transaction (statescope's pooled queries run
// none), so no rollback can undo a switch behind the pool's back. Behind a
// pooler in transaction mode the switch and the next statement could land
// on different server sessions (the engine's session advisory locks do not
// work behind one either); that is why a store that may write never shares
// across search_paths. Readers whose DSNs name none share only with the
// same DSN: the server's default search_path cannot be restored on a
// connection that started on another (RESET goes back to the startup
// value).

// pathKey carries the acquiring store's search_path to the pool's hooks.
type pathKey struct{}

// pathTag is where a connection remembers the search_path it runs under
// (pgconn's per-connection data); absent, it is unknown.
const pathTag = "statescope.search_path"

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
// each run under the store's search_path (if its DSN names one).
type pool struct {
	shared *sharedPool
	path   string
}

func (p pool) in(ctx context.Context) context.Context {
	return context.WithValue(ctx, pathKey{}, p.path)
}

func (p pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return p.shared.pool.Query(p.in(ctx), sql, args...)
}

func (p pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return p.shared.pool.QueryRow(p.in(ctx), sql, args...)
}

func (p pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return p.shared.pool.Exec(p.in(ctx), sql, args...)
}

func (p pool) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	return p.shared.pool.Acquire(p.in(ctx))
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
// settings shares. For a reader, that is every reader whose DSN differs
// at most in search_path: its search_path is taken out of the settings
// the pool connects with and set per query. The pool connects lazily.
func share(dsn string, cfg *pgxpool.Config, reader bool) (pool, error) {
	path, perStore := cfg.ConnConfig.RuntimeParams["search_path"]
	perStore = perStore && reader
	key := dsn
	if perStore {
		delete(cfg.ConnConfig.RuntimeParams, "search_path")
		key = withoutSearchPath(dsn) + "\x00search_path per store"
	}
	key += pgEnv()
	pools.Lock()
	defer pools.Unlock()
	sp := pools.byKey[key]
	if sp == nil {
		if !setsPoolSize(dsn) {
			cfg.MaxConns = sharedMaxConns
		}
		if perStore {
			cfg.BeforeConnect, cfg.AfterConnect, cfg.PrepareConn = startUnder, tagPath, switchPath
		}
		p, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			return pool{}, err
		}
		sp = &sharedPool{key: key, pool: p}
		pools.byKey[key] = sp
	}
	sp.refs++
	return pool{shared: sp, path: path}, nil
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

func pathOf(ctx context.Context) (string, bool) {
	p, ok := ctx.Value(pathKey{}).(string)
	return p, ok
}

// startUnder opens a new connection on the acquiring store's search_path,
// so a connection made for one store needs no switch.
func startUnder(ctx context.Context, cc *pgx.ConnConfig) error {
	if p, ok := pathOf(ctx); ok {
		cc.RuntimeParams["search_path"] = p
	}
	return nil
}

func tagPath(ctx context.Context, c *pgx.Conn) error {
	if p, ok := pathOf(ctx); ok { // else opened by the pool itself: unknown
		c.PgConn().CustomData()[pathTag] = p
	}
	return nil
}

// switchPath sets a connection to the acquiring store's search_path unless
// it is on it already. A connection whose switch failed is closed: its
// path is then unknown. One the server had ended is replaced, as a failed
// ping's is, so another store's session being ended fails no query here.
func switchPath(ctx context.Context, c *pgx.Conn) (bool, error) {
	want, ok := pathOf(ctx)
	if !ok {
		return true, errors.New("postgres: a shared connection was asked for without a search_path")
	}
	data := c.PgConn().CustomData()
	if have, ok := data[pathTag].(string); ok && have == want {
		return true, nil
	}
	delete(data, pathTag)
	if _, err := c.Exec(ctx, "SELECT set_config('search_path', $1, false)", want); err != nil {
		if c.IsClosed() && ctx.Err() == nil {
			return false, nil // pgxpool acquires another
		}
		return false, err
	}
	data[pathTag] = want
	return true, nil
}
