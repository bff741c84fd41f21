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
