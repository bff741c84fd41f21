package s3

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"statescope/stores"
	"statescope/stores/latencyproxy"
	"statescope/stores/objectstore/objectstoretest"
	"statescope/stores/repair/repairtest"
	"statescope/stores/storetest"
	"statescope/stores/storetest/testserver"
)

func TestMain(m *testing.M) {
	// The default credential chain must never reach for EC2 instance
	// metadata: that address is off this machine.
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	testserver.Main(m)
}

func testCtx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// gwConfig addresses bucket on the shared versitygw with its root keys.
func gwConfig(gw *testserver.VersityGW, bucket, prefix string) Config {
	return Config{
		Scheme: "s3", Bucket: bucket, Prefix: prefix, Endpoint: gw.Endpoint, Parallel: stores.DefaultParallelism,
		Credentials: staticCreds(gw.AccessKey, gw.SecretKey),
	}
}

func staticCreds(access, secret string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(access, secret, "")
}

// startProxy puts a latency proxy in front of the versitygw.
func startProxy(t testing.TB, gw *testserver.VersityGW, delay time.Duration) *latencyproxy.Proxy {
	t.Helper()
	p, err := latencyproxy.Start(strings.TrimPrefix(gw.Endpoint, "http://"), delay)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func openStore(t testing.TB, c Config) *Store {
	t.Helper()
	s, err := Open(testCtx(t), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newStore opens a fresh bucket on the shared versitygw.
func newStore(t testing.TB, prefix string) *Store {
	t.Helper()
	gw := testserver.SharedVersityGW(t)
	return openStore(t, gwConfig(gw, gw.NewBucket(t), prefix))
}

// putRaw writes bytes the way another writer would: unconditionally.
func putRaw(t testing.TB, s *Store, key string, body []byte) {
	t.Helper()
	_, err := s.client.PutObject(testCtx(t), &awss3.PutObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// corrupt plants garbage where the record of id would be.
func corrupt(t *testing.T, s stores.Store, id string) {
	st := s.(*Store)
	putRaw(t, st, st.cfg.Prefix+id+".json", []byte("\x00garbage{"))
}

func TestConformance(t *testing.T) {
	// The default prefix, a verbatim prefix without a slash, and the bucket root.
	for _, prefix := range []string{DefaultPrefix, "state", ""} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			storetest.Run(t, storetest.Harness{
				New:          func(t *testing.T) stores.Store { return newStore(t, prefix) },
				Corrupt:      corrupt,
				Capabilities: storetest.AllCapabilities,
			})
		})
	}
}

// Every repair runs through the safety engine on S3's ETag compare-and-swap.
func TestRepairs(t *testing.T) {
	repairtest.Run(t, repairtest.Harness{
		New:          func(t *testing.T) stores.Store { return newStore(t, DefaultPrefix) },
		Corrupt:      corrupt,
		CorruptRaw:   true,
		Capabilities: storetest.AllCapabilities,
		Plant: func(t *testing.T, s stores.Store, id string, raw []byte) {
			putRaw(t, s.(*Store), s.(*Store).cfg.Prefix+id+".json", raw)
		},
	})
}

// The checks every object-store backend shares, with the same layout
// rules as GCS and Azure Blob.
func TestObjectStore(t *testing.T) {
	objectstoretest.Run(t, objectstoretest.Harness{Open: func(t *testing.T, path string) objectstoretest.Fixture {
		gw := testserver.SharedVersityGW(t)
		bucket := gw.NewBucket(t)
		target, err := stores.ParseTarget("s3://" + bucket + path + "?endpoint=" + url.QueryEscape(gw.Endpoint))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := ParseTarget(target)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Credentials = staticCreds(gw.AccessKey, gw.SecretKey)
		s := openStore(t, cfg)
		return objectstoretest.Fixture{
			Store: s,
			Base:  "s3://" + bucket + "/",
			Put: func(t *testing.T, key, contentType, body string) {
				_, err := s.client.PutObject(testCtx(t), &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ContentType: aws.String(contentType), Body: strings.NewReader(body)})
				if err != nil {
					t.Fatal(err)
				}
			},
			ContentType: func(t *testing.T, key string) string {
				out, err := s.client.HeadObject(testCtx(t), &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				if isNotFound(err) {
					return ""
				}
				if err != nil {
					t.Fatal(err)
				}
				return aws.ToString(out.ContentType)
			},
		}
	}, Interposed: func(t *testing.T) objectstoretest.Interposed {
		gw := testserver.SharedVersityGW(t)
		ip := objectstoretest.Interpose(t, strings.TrimPrefix(gw.Endpoint, "http://"))
		cfg := gwConfig(gw, gw.NewBucket(t), DefaultPrefix)
		direct := openStore(t, cfg)
		cfg.Endpoint = "http://" + ip.Addr
		return objectstoretest.Interposed{Store: openStore(t, cfg), Direct: direct, Proxy: ip}
	}, Split: &objectstoretest.Split{
		Open: func(t *testing.T, pageSize int) objectstoretest.Interposed {
			gw := testserver.SharedVersityGW(t)
			ip := objectstoretest.Interpose(t, strings.TrimPrefix(gw.Endpoint, "http://"))
			cfg := gwConfig(gw, gw.NewBucket(t), DefaultPrefix)
			direct := openStore(t, cfg)
			cfg.Endpoint = "http://" + ip.Addr
			s := openStore(t, cfg)
			s.pageSize = int32(pageSize)
			return objectstoretest.Interposed{Store: s, Direct: direct, Proxy: ip}
		},
		After: func(r *http.Request) string {
			if q := r.URL.Query(); r.Method == http.MethodGet && q.Get("list-type") == "2" {
				return q.Get("start-after")
			}
			return ""
		},
	}})
}
