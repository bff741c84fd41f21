package azblob_test

import (
	"testing"

	"statescope/stores"
	"statescope/stores/azblob"
	"statescope/stores/objectstore/objectstoretest"
	"statescope/stores/storetest/testserver"
)

var listing = objectstoretest.Listing{Bench: objectstoretest.Bench{
	Server: func(b *testing.B) string { return testserver.SharedAzurite(b).Addr },
	NewBucket: func(b *testing.B) string {
		_, _, name := newContainer(b)
		return name
	},
	Open: func(b *testing.B, addr, bucket string, parallel int) stores.Store {
		return newStore(b, azblob.Config{Container: bucket, AccountURL: "http://" + addr + "/" + testserver.AzuriteAccount, Auth: devAuth, Parallel: parallel})
	},
}}

func BenchmarkListLatency(b *testing.B)  { listing.Latency(b) }
func BenchmarkListLoopback(b *testing.B) { listing.Loopback(b) }
