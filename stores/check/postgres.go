package check

import (
	"al.essio.dev/pkg/shellescape"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"statescope/stores"
	"statescope/stores/postgres"
)

// unreadableTimestampsSQL finds rows whose created_at or updated_at a
// reader cannot turn into the engine's RFC 3339 string: ±infinity, or a
// year outside 1–9999. Timestamps come back as text so they always scan.
const unreadableTimestampsSQL = `SELECT name, created_at::text, updated_at::text FROM iac_resources
WHERE NOT isfinite(created_at) OR NOT isfinite(updated_at)
	OR created_at < '0001-01-01 00:00:00+00' OR updated_at < '0001-01-01 00:00:00+00'
	OR created_at >= '10000-01-01 00:00:00+00' OR updated_at >= '10000-01-01 00:00:00+00'
ORDER BY name`

// fixTimestampsSQL sets an unreadable timestamp to now, touching nothing
// else. statescope's own writes never set created_at (the database does, as
// the engine's store has it), so this one repair is SQL.
const fixTimestampsSQL = `UPDATE iac_resources SET ` +
	`created_at = CASE WHEN created_at BETWEEN '0001-01-01Z' AND '9999-12-31Z' THEN created_at ELSE now() END, ` +
	`updated_at = CASE WHEN updated_at BETWEEN '0001-01-01Z' AND '9999-12-31Z' THEN updated_at ELSE now() END ` +
	`WHERE name = %s`

// quoteLiteral is a SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// postgres probes a PostgreSQL store's table for rows whose timestamps
// upstream cannot read, and returns their sources (the store lists them as
// unreadable; this finding says why and how to repair). The store keeps
// its pool to itself, so the probe makes one short connection of its own
// with the same DSN.
func (c *checker) postgres(ctx context.Context, s stores.Store, skip map[string]bool) error {
	if _, ok := s.(*postgres.Store); !ok {
		return nil
	}
	if t, err := stores.ParseTarget(c.opt.Target); err != nil || (t.Scheme != "postgres" && t.Scheme != "postgresql") {
		return nil
	}
	conn, err := pgx.Connect(ctx, c.opt.Target)
	if err != nil {
		return fmt.Errorf("postgres %s: timestamp check: connect: %w", postgresLabel(s), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, unreadableTimestampsSQL)
	if err != nil {
		return postgresErr(s, err)
	}
	type row struct{ name, created, updated string }
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.name, &x.created, &x.updated)
	})
	if err != nil {
		return postgresErr(s, err)
	}
	for _, r := range found {
		source := "iac_resources row name=" + strconv.Quote(r.name)
		skip[source] = true
		c.add(Finding{Kind: UnreadableTimestamp, Severity: Warning, Resources: []string{r.name},
			Source:   source,
			Evidence: fmt.Sprintf("created_at %s, updated_at %s: infinite or outside years 1–9999, so it has no RFC 3339 form and readers that scan it fail", r.created, r.updated),
			Repair:   "psql -c " + shellescape.Quote(fmt.Sprintf(fixTimestampsSQL, quoteLiteral(r.name)))})
	}
	return nil
}

func postgresErr(s stores.Store, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
		return nil // no table yet: nothing to read
	}
	return fmt.Errorf("%s: timestamp check: %w", postgresLabel(s), err)
}

func postgresLabel(s stores.Store) string { return stores.Describe(s) }
