package redact

import (
	"encoding/json"
	"fmt"
	"testing"

	"statescope/stores"
)

// Key names as real states spell them: mostly plain, a few secret-looking.
var benchKeys = []string{
	"endpoint", "port", "arn", "id", "name", "region", "vpc_id", "subnet_ids", "security_group_ids",
	"engine", "engine_version", "instance_class", "allocated_storage", "tags", "Environment",
	"master_username", "master_password", "connection_string", "api_key", "kms_key_id",
	"ssh-key", "hosted_zone_id", "dns_name", "created_by", "backup_retention_period",
}

// benchRecords returns n records of about 1 KB each, nested outputs and a
// few secret-looking keys and values, like the ones workflow writes.
func benchRecords(n int) []*stores.State {
	recs := make([]*stores.State, n)
	for i := range recs {
		recs[i] = &stores.State{
			ResourceID: fmt.Sprintf("team/db-%05d", i), ResourceType: "infra.database", Provider: "aws",
			Status: stores.StatusActive, CreatedAt: "2026-01-02T03:04:05Z", UpdatedAt: "2026-01-02T03:04:06Z",
			Outputs: map[string]any{
				"endpoint": fmt.Sprintf("db-%d.cluster.eu-west-1.rds.amazonaws.com", i), "port": json.Number("5432"),
				"arn": fmt.Sprintf("arn:aws:rds:eu-west-1:123456789012:db:db-%d", i), "master_username": "app",
				"master_password": "hunter2", "connection_string": "postgres://app:hunter2@db:5432/app",
				"dns_name": "db.internal.example.com", "hosted_zone_id": "Z2FDTNDATAQYW2",
				"tags":       map[string]any{"Environment": "prod", "created_by": "workflow", "team": "payments"},
				"subnet_ids": []any{"subnet-0a1b2c3d", "subnet-1b2c3d4e", "subnet-2c3d4e5f"},
				"replicas": []any{
					map[string]any{"id": "r1", "endpoint": "https://r1.example.com:5432/app", "region": "eu-west-1"},
					map[string]any{"id": "r2", "endpoint": "https://r2.example.com:5432/app", "region": "eu-west-2"},
				},
			},
			Config: map[string]any{
				"engine": "postgres", "engine_version": "16.3", "instance_class": "db.r6g.large",
				"allocated_storage": json.Number("100"), "backup_retention_period": json.Number("7"),
				"kms_key_id": "arn:aws:kms:eu-west-1:123456789012:key/abcd", "vpc_id": "vpc-0123456789",
				"security_group_ids": []any{"sg-0123", "sg-4567"}, "api_key": "AKIAEXAMPLE",
			},
		}
	}
	return recs
}

// BenchmarkIsSecretKey compares the cached token scan, the scan alone and
// the reference expression on the same key names (ratios come from one run).
func BenchmarkIsSecretKey(b *testing.B) {
	for _, impl := range []struct {
		name string
		fn   func(string) bool
	}{{"fast", IsSecretKey}, {"uncached", scanKey}, {"reference", refIsSecretKey}} {
		b.Run(impl.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				impl.fn(benchKeys[i%len(benchKeys)])
			}
		})
	}
}

// BenchmarkMask10k masks 10,000 records of about 1 KB, as `list -o json`
// does, with the fast matcher and with the reference rules.
func BenchmarkMask10k(b *testing.B) {
	recs := benchRecords(10_000)
	for _, impl := range []struct {
		name string
		fn   func(*stores.State) *stores.State
	}{{"fast", State}, {"reference", refState}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, r := range recs {
					impl.fn(r)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
		})
	}
}
