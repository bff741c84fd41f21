package testserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"statescope/stores"
)

// VersityGW is a running versitygw with the posix backend: the only S3
// server measured here that honours every conditional header locks need.
type VersityGW struct {
	// Endpoint is the base URL, e.g. http://127.0.0.1:PORT (path-style).
	Endpoint  string
	AccessKey string
	SecretKey string
	// Region is the region versitygw signs with (its default).
	Region string
}

var (
	sharedVersityGW Shared[*VersityGW]
	bucketSeq       atomic.Int64
)

// SharedVersityGW returns the versitygw of this test binary, starting it on
// first use; TestMain must call Main so it is stopped.
func SharedVersityGW(t testing.TB) *VersityGW {
	t.Helper()
	return sharedVersityGW.Get(t, "versitygw", StartVersityGW)
}

// StartVersityGW starts versitygw on a free loopback port over a fresh
// directory and returns it with a function that stops it and removes the data.
func StartVersityGW() (*VersityGW, func(), error) {
	gw := &VersityGW{AccessKey: "statescope-" + stores.RandomHex(4), SecretKey: stores.RandomHex(20), Region: "us-east-1"}
	addr, stop, err := Launch(Daemon{
		Name: "versitygw", Candidates: []string{"bin/versitygw"}, Ready: StartupTimeout,
		Env: []string{"ROOT_ACCESS_KEY_ID=" + gw.AccessKey, "ROOT_SECRET_ACCESS_KEY=" + gw.SecretKey},
		// Without --keep-alive every request opens a connection and parallel
		// GETs run 2.5× slower.
		Args: func(addr string, _ int, dir string) []string {
			return []string{"--port", addr, "--keep-alive", "--quiet", "posix", dir}
		},
	})
	if err != nil {
		return nil, nil, err
	}
	gw.Endpoint = "http://" + addr
	return gw, stop, nil
}

// NewBucket creates an empty bucket with a name unique to this test binary.
func (g *VersityGW) NewBucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%s", bucketSeq.Add(1), stores.RandomHex(4))
	ctx, cancel := Ctx(30 * time.Second)
	defer cancel()
	if err := g.CreateBucket(ctx, name); err != nil {
		t.Fatalf("versitygw: create bucket %s: %v", name, err)
	}
	return name
}

// emptyPayloadHash is the SHA-256 of an empty body, which SigV4 signs.
var emptyPayloadHash = func() string { h := sha256.Sum256(nil); return hex.EncodeToString(h[:]) }()

// CreateBucket sends a signed path-style CreateBucket. It signs by hand so
// this package needs only the SDK's signer, not the S3 client.
func (g *VersityGW) CreateBucket(ctx context.Context, name string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, g.Endpoint+"/"+name, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Amz-Content-Sha256", emptyPayloadHash)
	creds := aws.Credentials{AccessKeyID: g.AccessKey, SecretAccessKey: g.SecretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptyPayloadHash, "s3", g.Region, time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("status %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
