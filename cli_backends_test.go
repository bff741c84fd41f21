package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"statescope/stores"
	"statescope/stores/redact/redacttest"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

func TestMain(m *testing.M) {
	// Invoked as `statescope` (see statescopeOnPath), this binary is the CLI.
	if filepath.Base(os.Args[0]) == "statescope" {
		main()
	}
	testserver.Main(m)
}

// backendTargets starts (or reuses) each real server and returns a fresh,
// empty target on it, with the environment its credentials come from.
var backendTargets = []struct {
	name string
	open func(t *testing.T) string
}{
	{"postgres", func(t *testing.T) string {
		pg := testserver.Postgres(t)
		return pg.SuperuserDSN(pg.NewDatabase(t, "postgres"))
	}},
	{"s3", func(t *testing.T) string {
		gw := testserver.SharedVersityGW(t)
		t.Setenv("AWS_ACCESS_KEY_ID", gw.AccessKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", gw.SecretKey)
		return "s3://" + gw.NewBucket(t) + "/iac-state/?region=" + gw.Region + "&endpoint=" + gw.Endpoint
	}},
	{"gcs", func(t *testing.T) string {
		g := testserver.SharedFakeGCS(t)
		t.Setenv("STORAGE_EMULATOR_HOST", g.Addr)
		return "gs://" + g.NewBucket(t)
	}},
	{"azblob", func(t *testing.T) string {
		az := testserver.SharedAzurite(t)
		name := "t-" + stores.RandomHex(6)
		cred, err := container.NewSharedKeyCredential(testserver.AzuriteAccount, testserver.AzuriteKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := container.NewClientWithSharedKeyCredential(az.AccountURL+"/"+name, cred, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Create(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		t.Setenv("AZURE_STORAGE_ACCOUNT", testserver.AzuriteAccount)
		t.Setenv("AZURE_STORAGE_KEY", testserver.AzuriteKey)
		return "azblob://" + name + "?account_url=" + az.AccountURL
	}},
}

// TestCLIOnEveryBackend drives list, show, locks and unlock --token against
// each real server: the operator's path after a crash left a lock behind.
func TestCLIOnEveryBackend(t *testing.T) {
	for _, b := range backendTargets {
		t.Run(b.name, func(t *testing.T) {
			target := b.open(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			s, err := stores.Open(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			defer stores.Close(s)
			secret := redacttest.Record("team/db")
			stuck := storetest.Record("team/cache")
			stuck.Status, stuck.UpdatedAt = stores.StatusProvisioning, "2026-01-01T00:00:00Z"
			for _, r := range []*stores.State{secret, stuck} {
				if err := s.Save(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			// This store instance plays the crashed holder.
			if err := s.Lock(ctx, "team/db"); err != nil {
				t.Fatal(err)
			}

			// statescope runs one command on the target. None here reveals,
			// so neither stdout nor stderr may show any of the secrets.
			statescope := func(args ...string) (int, string, string) {
				t.Helper()
				code, out, errOut := cli(t, "", append([]string{"--store", target}, args...)...)
				if leaks := redacttest.Leaks(out + errOut); len(leaks) > 0 {
					t.Errorf("%s shows secrets:\n%s", args, strings.Join(leaks, "\n"))
				}
				return code, out, errOut
			}

			code, out, errOut := statescope("list")
			if code != 0 || !strings.Contains(out, "team/db") || !strings.Contains(out, "team/cache") {
				t.Fatalf("list: exit %d\n%s%s", code, out, errOut)
			}
			if b.name != "postgres" && !strings.Contains(out, "(stuck)") {
				t.Errorf("stuck record not flagged:\n%s", out)
			}
			code, out, _ = statescope("show", "team/db", "-o", "json")
			if code != 0 || !strings.Contains(out, `"endpoint"`) {
				t.Errorf("show: exit %d, record missing:\n%s", code, out)
			}

			code, out, errOut = statescope("locks", "-o", "json")
			if code != 0 {
				t.Fatalf("locks: exit %d: %s", code, errOut)
			}
			var locks []struct {
				ResourceID string `json:"resource_id"`
				Token      string `json:"token"`
			}
			if err := json.Unmarshal([]byte(out), &locks); err != nil || len(locks) != 1 || locks[0].ResourceID != "team/db" {
				t.Fatalf("locks: %v\n%s", err, out)
			}
			if code, _, errOut := statescope("unlock", "team/db", "--token", "stale-token"); code != 3 {
				t.Errorf("unlock with a stale token: exit %d, %s", code, errOut)
			}
			// The printed command, pasted into a shell, releases exactly
			// that lock: S3 tokens carry quotes, Azure tokens a |.
			code, _, errOut = statescope("unlock", "team/db")
			line := printedCommand(t, errOut)
			if code != 3 || !strings.HasPrefix(line, "statescope unlock team/db --token ") {
				t.Fatalf("unlock without a token: exit %d, %s", code, errOut)
			}
			if code, out := runInShell(t, line); code != 0 || !strings.Contains(out, "released") || len(redacttest.Leaks(out)) > 0 {
				t.Fatalf("sh -c %s: exit %d, %s", line, code, out)
			}
			code, out, _ = statescope("locks", "-o", "json")
			if code != 0 || strings.TrimSpace(out) != "[]" {
				t.Errorf("lock still listed after unlock: %s", out)
			}
		})
	}
}
