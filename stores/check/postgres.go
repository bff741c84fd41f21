package check

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"statescope/shellcmd"
	"statescope/stores"
	"statescope/stores/postgres"
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
		source := "iac_resources row name=" + strconv.Quote(r.Name)
		skip[source] = true
		c.add(Finding{Kind: UnreadableTimestamp, Severity: Warning, Resources: []string{r.Name},
			Source:   source,
			Evidence: fmt.Sprintf("created_at %s, updated_at %s: infinite or outside years 1–9999, so it has no RFC 3339 form and readers that scan it fail", r.CreatedAt, r.UpdatedAt),
			Repair:   "psql -c " + shellcmd.Quote(fmt.Sprintf(fixTimestampsSQL, quoteLiteral(r.Name)))})
	}
	return nil
}
