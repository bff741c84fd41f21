package check

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"statescope/stores"
	"statescope/stores/postgres"
	"statescope/stores/shellcmd"
)

// fixTimestampsSQL sets an unreadable timestamp to now, touching nothing
// else. statescope's own writes never set created_at (the database does, as
// the engine's store has it), so this one repair is SQL.
const fixTimestampsSQL = `UPDATE iac_resources SET ` +
	`created_at = CASE WHEN created_at BETWEEN '0001-01-01Z' AND '9999-12-31Z' THEN created_at ELSE now() END, ` +
	`updated_at = CASE WHEN updated_at BETWEEN '0001-01-01Z' AND '9999-12-31Z' THEN updated_at ELSE now() END ` +
	`WHERE name = %s`

// quoteLiteral is a SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// postgres reports a PostgreSQL store's rows whose timestamps upstream
// cannot read, and adds their sources to skip (the store lists them as
// unreadable; this finding says why and how to repair).
func (c *checker) postgres(ctx context.Context, s stores.Store, skip map[string]bool) error {
	pg, ok := s.(*postgres.Store)
	if !ok {
		return nil
	}
	found, err := pg.UnreadableTimes(ctx)
	if err != nil {
		return err
	}
	for _, r := range found {
		skip[r.Source] = true
		c.add(Finding{Kind: UnreadableTimestamp, Severity: Warning, Resources: []string{r.Name},
			Source:   r.Source,
			Evidence: fmt.Sprintf("created_at %s, updated_at %s: infinite or outside years 1–9999, so it has no RFC 3339 form and readers that scan it fail", r.CreatedAt, r.UpdatedAt),
			Repair:   psqlRepair(c.opt.Target, fmt.Sprintf(fixTimestampsSQL, quoteLiteral(r.Name)))})
	}
	return nil
}

// psqlRepair runs sql with psql on the store's own server, database, user
// and sslmode (never its password: psql asks, or reads PGPASSWORD or
// ~/.pgpass) under the DSN's search_path, whatever PG* variables say.
func psqlRepair(target, sql string) string {
	cfg, err := pgconn.ParseConfig(target)
	if err != nil {
		return "" // the store opened from it, so this is not expected
	}
	conninfo := fmt.Sprintf("host=%s port=%d dbname=%s user=%s", conninfoValue(cfg.Host), cfg.Port, conninfoValue(cfg.Database), conninfoValue(cfg.User))
	if mode := sslMode(target); mode != "" {
		conninfo += " sslmode=" + conninfoValue(mode)
	}
	if path, ok := cfg.RuntimeParams["search_path"]; ok {
		sql = "SELECT set_config('search_path', " + quoteLiteral(path) + ", false); " + sql
	}
	return "psql -X -v ON_ERROR_STOP=1 -d " + shellcmd.Quote(conninfo) + " -c " + shellcmd.Quote(sql)
}

// conninfoValue quotes a libpq keyword value.
func conninfoValue(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

// sslMode is the sslmode a DSN (URL or keyword form) names, if any:
// pgconn keeps only the TLS settings it implies.
func sslMode(target string) string {
	if u, err := url.Parse(target); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return u.Query().Get("sslmode")
	}
	for _, field := range strings.Fields(target) {
		if v, ok := strings.CutPrefix(field, "sslmode="); ok {
			return strings.Trim(v, "'")
		}
	}
	return ""
}
