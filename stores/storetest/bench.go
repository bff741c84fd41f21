package storetest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"

	"statescope/stores"
)

// Realistic is record i of a benchmark store: about 1 KB as the engine
// writes it, with nested outputs and config, dependencies, and a few
// secret-looking keys (a password, a token, a connection string) so
// listing with masking does real work.
func Realistic(i int) *stores.State {
	env := []string{"prod", "staging", "dev", "qa"}[i%4]
	kind := []string{"database", "cache", "queue", "bucket", "service", "dns"}[i%6]
	id := fmt.Sprintf("%s/%s/res-%06d", env, kind, i)
	return &stores.State{
		ResourceID:   id,
		ResourceType: "infra." + kind,
		Provider:     []string{"aws", "gcp", "azure", "digitalocean"}[i%4],
		ProviderRef:  "cloud-" + env,
		ProviderID:   fmt.Sprintf("arn:aws:%s:eu-west-1:123456789012:%s/%06d", kind, env, i),
		ConfigHash:   fmt.Sprintf("%064x", uint64(i)*2654435761),
		Status:       stores.Statuses[i%len(stores.Statuses)],
		Outputs: map[string]any{
			"endpoint": fmt.Sprintf("%s-%06d.%s.internal.example.com", kind, i, env),
			"port":     json.Number(fmt.Sprint(5000 + i%1000)),
			"password": fmt.Sprintf("pw-%08x", i*7919),
			"network":  map[string]any{"vpc_id": fmt.Sprintf("vpc-%08x", i), "subnets": []any{"subnet-a", "subnet-b"}, "public": i%3 == 0},
			"tags":     map[string]any{"team": "platform", "cost_center": json.Number(fmt.Sprint(100 + i%50)), "owner": "ops@example.com"},
		},
		Config: map[string]any{
			"size":              []string{"small", "medium", "large"}[i%3],
			"replicas":          json.Number(fmt.Sprint(1 + i%5)),
			"api_token":         fmt.Sprintf("tok_%012x", i*104729),
			"connection_string": fmt.Sprintf("postgres://app:secret%d@db.internal:5432/app", i),
			"backup":            map[string]any{"enabled": true, "retention_days": json.Number("14"), "window": "02:00-03:00"},
		},
		Dependencies: []string{env + "/network/vpc", env + "/network/subnets"},
		CreatedAt:    "2026-01-02T03:04:05Z",
		UpdatedAt:    stores.FormatTime(updatedBase.Add(-time.Duration(i%10000) * time.Minute)),
	}
}

// updatedBase is the newest updated_at in a benchmark store.
var updatedBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// RealisticLarge is Realistic(i) grown to about 100 KB, as a cluster's
// record with its nodes listed in the outputs: 250 nested objects, each
// with a secret-looking key and a URL with a password, so masking walks
// deep documents.
func RealisticLarge(i int) *stores.State {
	st := Realistic(i)
	nodes := make([]any, 250)
	for j := range nodes {
		nodes[j] = map[string]any{
			"id":         fmt.Sprintf("i-%08x%04x", i, j),
			"private_ip": fmt.Sprintf("10.%d.%d.%d", i%250, j/250, j%250),
			"zone":       []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}[j%3],
			"state":      "running",
			"ssh_key":    fmt.Sprintf("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI%08x%04x", i, j),
			"metrics":    fmt.Sprintf("https://scraper:m%04x@metrics.internal:9100/node/%d", j, j),
			"labels":     map[string]any{"role": "worker", "pool": fmt.Sprintf("pool-%d", j%8), "cpu": json.Number(fmt.Sprint(2 << (j % 4)))},
		}
	}
	st.Outputs["nodes"] = nodes
	return st
}

// WriteRealistic writes records 0..n-1 into dir the way the engine's
// filesystem store does (<name>.json, MarshalIndent) and returns the bytes
// written.
func WriteRealistic(tb testing.TB, dir string, n int) int64 {
	return WriteRecords(tb, dir, n, Realistic)
}

// WriteRecords writes record(0)..record(n-1) into dir as WriteRealistic
// does and returns the bytes written.
func WriteRecords(tb testing.TB, dir string, n int, record func(int) *stores.State) int64 {
	tb.Helper()
	var total int64
	for i := range n {
		st := record(i)
		data, err := stores.EncodeState(st)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, stores.ObjectName(st.ResourceID)+".json"), data, 0o600); err != nil {
			tb.Fatal(err)
		}
		total += int64(len(data))
	}
	return total
}

// SampleHeap starts sampling the live heap every millisecond after a
// collection; stop ends it and returns the highest heap seen above the
// heap at the start, in bytes.
func SampleHeap() (stop func() uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	done, result := make(chan struct{}), make(chan uint64)
	go func() {
		peak := base
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				peak = max(peak, read())
			case <-done:
				result <- max(peak, read()) - base
				return
			}
		}
	}()
	return func() uint64 {
		close(done)
		return <-result
	}
}

// CPUTime is the CPU time (user and system) the process has used: on a
// shared machine wall time measures the neighbours too, CPU time only us.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
