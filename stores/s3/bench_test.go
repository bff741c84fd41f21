package s3

import (
	"strings"
	"testing"

	"statescope/stores"
	"statescope/stores/objectstore/objectstoretest"
	"statescope/stores/storetest/testserver"
)

// The shared listing benchmarks: 1,000 records through a 10 ms latency
// proxy at parallel 16 and 1, and 10,000 records on loopback.
var listing = objectstoretest.Listing{Bench: objectstoretest.Bench{
	Server: func(b *testing.B) string {
		return strings.TrimPrefix(testserver.SharedVersityGW(b).Endpoint, "http://")
	},
	NewBucket: func(b *testing.B) string { return testserver.SharedVersityGW(b).NewBucket(b) },
	Open: func(b *testing.B, addr, bucket string, parallel int) stores.Store {
		cfg := gwConfig(testserver.SharedVersityGW(b), bucket, DefaultPrefix)
		cfg.Endpoint, cfg.Parallel = "http://"+addr, parallel
		return openStore(b, cfg)
	},
}}

func BenchmarkListLatency(b *testing.B)  { listing.Latency(b) }
func BenchmarkListLoopback(b *testing.B) { listing.Loopback(b) }

// BenchmarkRefreshLatency: a refresh of 10,000 records with 10 changed,
// at 10 ms per request, against a full load.
func BenchmarkRefreshLatency(b *testing.B) { listing.Refresh(b) }
