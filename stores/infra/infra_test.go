package infra

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"statescope/stores"
)

func TestTarget(t *testing.T) {
	t.Setenv("STATE_ROOT", "/srv/wf")
	t.Setenv("PG_PASSWORD", "pg-s3cret")
	t.Setenv("S3_SECRET", "s3-s3cret")
	t.Setenv("AZ_KEY", "az-s3cret")
	tests := []struct {
		file    string
		url     string
		env     map[string]string
		backend string
		notes   int
		err     string
	}{
		{file: "filesystem.yaml", url: "/srv/wf/iac-state", backend: "filesystem"},
		{file: "default-backend.yaml", url: DefaultDirectory, backend: "filesystem", notes: 1},
		{file: "postgres-url.yaml", url: "postgres://app@db.internal:5432/workflow?sslmode=require",
			env: map[string]string{"PGPASSWORD": "pg-s3cret"}, backend: "postgres"},
		{file: "postgres-keyword.yaml", url: "postgres://app@db.internal:5433/wf?sslmode=disable",
			env: map[string]string{"PGPASSWORD": `p@ss w'rd$x`}, backend: "postgres"},
		{file: "postgres-socket.yaml", url: "postgres:///wf?host=%2Fvar%2Frun%2Fpostgresql", backend: "postgres"},
		{file: "postgres-missing.yaml", err: "backend postgres needs dsn (unset environment variables referenced: DATABASE_URL)"},
		{file: "s3.yaml", url: "s3://acme-state/prod/?endpoint=https%3A%2F%2Fminio.internal%3A9000&region=eu-west-1",
			env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3-s3cret"}, backend: "s3"},
		{file: "s3-key-case.yaml", url: "s3://acme-state/state?region=us-east-1",
			env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "shh"}, backend: "s3"},
		{file: "s3-one-key.yaml", url: "s3://acme-state/iac-state/?region=us-east-1", backend: "s3"},
		{file: "s3-no-region.yaml", err: "backend s3 needs region or endpoint"},
		{file: "spaces.yaml", url: "spaces://acme-state/iac-state/?region=nyc3",
			env: map[string]string{"DO_SPACES_ACCESS_KEY": "DO00EXAMPLE", "DO_SPACES_SECRET_KEY": "do-secret"}, backend: "spaces"},
		{file: "gcs.yaml", url: "gs://acme-state/envs/prod/", backend: "gcs"},
		{file: "azure.yaml", url: "azblob://tfstate/iac-state/?account_url=https%3A%2F%2Facme.blob.core.windows.net",
			env: map[string]string{"AZURE_STORAGE_ACCOUNT": "acme", "AZURE_STORAGE_KEY": "az-s3cret"}, backend: "azure_blob"},
		{file: "azure-missing-key.yaml", err: "backend azure_blob needs account_key (unset environment variables referenced: AZ_KEY_UNSET)"},
		{file: "memory.yaml", err: "nothing is persisted"},
		{file: "unknown-backend.yaml", err: `unknown iac.state backend "consul"`},
		{file: "no-state-module.yaml", err: "has no module of type iac.state"},
		{file: "two-state-modules.yaml", url: "gs://first/iac-state/", backend: "gcs", notes: 1},
		{file: "does-not-exist.yaml", err: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Target(filepath.Join("testdata", tt.file))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.env == nil {
				tt.env = map[string]string{}
			}
			if got.URL != tt.url || !reflect.DeepEqual(got.Env, tt.env) || got.Backend != tt.backend || len(got.Notes) != tt.notes {
				t.Errorf("got %+v\nwant URL %s env %v backend %s and %d notes", got, tt.url, tt.env, tt.backend, tt.notes)
			}
			for name, secret := range got.Env {
				// The account name is also in account_url, and no secret.
				if name != "AZURE_STORAGE_ACCOUNT" && strings.Contains(got.URL, secret) {
					t.Errorf("target %s carries a credential", got.URL)
				}
			}
			if _, err := stores.ParseTarget(got.URL); err != nil {
				t.Errorf("statescope cannot parse the target: %v", err)
			}
		})
	}
}

// TestPostgresURLMeansTheSame: the URL plus PGPASSWORD connect exactly
// where the original DSN does.
func TestPostgresURLMeansTheSame(t *testing.T) {
	for _, dsn := range []string{
		`host=db.internal port=5433 user=app password='p@ss w\'rd' dbname=wf sslmode=disable connect_timeout=7`,
		`host = /var/run/postgresql user=app dbname = 'my db' sslmode=disable`,
		`host=a,b port=5432,5433 user=app password=pw sslmode=disable target_session_attrs=any`,
		`postgres://app:p%40ss@db.internal:5432/wf?sslmode=disable&application_name=x`,
		`postgresql://db.internal/wf?user=app&password=pw&sslmode=disable`,
	} {
		target, password, err := postgresURL(dsn)
		if err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
		if strings.Contains(target, "pw") || strings.Contains(target, "p@ss") || strings.Contains(target, "p%40ss") {
			t.Errorf("target %s carries the password", target)
		}
		t.Setenv("PGPASSWORD", password)
		want, err := pgconn.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgconn.ParseConfig(target)
		if err != nil {
			t.Fatalf("%s → %s: %v", dsn, target, err)
		}
		type where struct {
			Host, Database, User, Password string
			Port                           uint16
			Params                         map[string]string
			Fallbacks                      int
		}
		w := where{want.Host, want.Database, want.User, want.Password, want.Port, want.RuntimeParams, len(want.Fallbacks)}
		g := where{got.Host, got.Database, got.User, got.Password, got.Port, got.RuntimeParams, len(got.Fallbacks)}
		if !reflect.DeepEqual(w, g) {
			t.Errorf("%s\n→ %s\nwant %+v\n got %+v", dsn, target, w, g)
		}
	}
}

func TestParseKeywordsRejectsGarbage(t *testing.T) {
	for _, dsn := range []string{"just-a-password", "host=x password='unterminated", "=value"} {
		// The error must not quote the DSN, which may hold a password.
		if _, _, err := postgresURL(dsn); !errors.Is(err, errDSN) || err.Error() != errDSN.Error() {
			t.Errorf("%q: %v", dsn, err)
		}
	}
}
