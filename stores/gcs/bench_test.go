package gcs_test

import (
	"testing"

	"statescope/stores"
	"statescope/stores/objectstore/objectstoretest"
	"statescope/stores/storetest/testserver"
)

var listing = objectstoretest.Listing{Bench: objectstoretest.Bench{
	Server:    func(b *testing.B) string { return testserver.SharedFakeGCS(b).Addr },
	NewBucket: func(b *testing.B) string { return testserver.SharedFakeGCS(b).NewBucket(b) },
	Open: func(b *testing.B, addr, bucket string, parallel int) stores.Store {
		return openAt(b, "http://"+addr+"/storage/v1/", "gs://"+bucket+"?parallel="+testserver.Itoa(parallel))
	},
}}

func BenchmarkListLatency(b *testing.B)  { listing.Latency(b) }
func BenchmarkListLoopback(b *testing.B) { listing.Loopback(b) }

// BenchmarkRefreshLatency: a refresh of 10,000 records with 10 changed,
// at 10 ms per request, against a full load.
func BenchmarkRefreshLatency(b *testing.B) { listing.Refresh(b) }
