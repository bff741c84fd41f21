package s3

import (
	"strings"
	"testing"

	"statescope/stores"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		raw  string
		want Config // Credentials never come from a target
		sign string
	}{
		{"s3://bucket?region=eu-west-1",
			Config{Scheme: "s3", Bucket: "bucket", Prefix: DefaultPrefix, Region: "eu-west-1", Parallel: stores.DefaultParallelism}, "eu-west-1"},
		{"s3://bucket/state?endpoint=http://127.0.0.1:9000",
			Config{Scheme: "s3", Bucket: "bucket", Prefix: "state", Endpoint: "http://127.0.0.1:9000", Parallel: stores.DefaultParallelism}, "us-east-1"},
		{"s3://bucket/?region=us-east-2&parallel=4",
			Config{Scheme: "s3", Bucket: "bucket", Prefix: DefaultPrefix, Region: "us-east-2", Parallel: 4}, "us-east-2"},
		{"s3://bucket/team/prod/?region=r&endpoint=https://minio.example.com/",
			Config{Scheme: "s3", Bucket: "bucket", Prefix: "team/prod/", Region: "r", Endpoint: "https://minio.example.com", Parallel: stores.DefaultParallelism}, "r"},
		{"spaces://my-space?region=nyc3",
			Config{Scheme: "spaces", Bucket: "my-space", Prefix: DefaultPrefix, Region: "nyc3", Endpoint: "https://nyc3.digitaloceanspaces.com", Parallel: stores.DefaultParallelism}, "nyc3"},
		{"spaces://my-space/iac?endpoint=https://ams3.digitaloceanspaces.com",
			Config{Scheme: "spaces", Bucket: "my-space", Prefix: "iac", Endpoint: "https://ams3.digitaloceanspaces.com", Parallel: stores.DefaultParallelism}, "us-east-1"},
		{"spaces://my-space?region=fra1&endpoint=http://127.0.0.1:7070",
			Config{Scheme: "spaces", Bucket: "my-space", Prefix: DefaultPrefix, Region: "fra1", Endpoint: "http://127.0.0.1:7070", Parallel: stores.DefaultParallelism}, "fra1"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			target, err := stores.ParseTarget(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseTarget(target)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if s := got.SigningRegion(); s != tt.sign {
				t.Errorf("signing region %q, want %q", s, tt.sign)
			}
		})
	}
}

func TestParseTargetErrors(t *testing.T) {
	const secret = "wJalrXUtnFEMI-K7MDENG"
	tests := []struct {
		raw, wantMsg string
	}{
		{"s3://bucket", "region or endpoint is required"},
		{"spaces://bucket/prefix", "region or endpoint is required; use spaces://bucket/prefix?region=nyc3"},
		{"s3://bucket?region=r&parallel=0", "parallel=0"},
		{"s3://bucket?region=r&parallel=lots", "parallel=lots"},
		{"s3://bucket?region=r&parallel=100000", "from 1 to 256"},
		{"s3://bucket?regoin=r", `unknown option "regoin"`},
		{"s3://bucket?region=a&region=b", `option "region" is given 2 times`},
		{"s3://bucket?region=r&secretKey=" + secret, `unknown option "secretKey"`},
		{"s3://bucket?region=r&endpoint=ftp://host", "http:// or https://"},
		{"s3://bucket?region=r&endpoint=https://user:" + secret + "@host", "endpoint must be a URL without credentials"},
		{"s3://bucket?region=r&endpoint=https://user:" + secret + "@host&regoin=x", "endpoint must be a URL without credentials"},
		{"s3://key:" + secret + "@bucket?region=r", "credentials are not accepted in the target"},
		{"s3://bucket:9000?region=r", "a bucket name has no port"},
		{"s3:///prefix?region=r", "names no bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.wantMsg, func(t *testing.T) {
			target, err := stores.ParseTarget(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseTarget(target)
			if err == nil {
				t.Fatalf("%s: accepted", stores.RedactTarget(tt.raw))
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error repeats a credential: %v", err)
			}
		})
	}
}

// The schemes are registered, so the CLI's accepted-forms hint shows them.
func TestRegistered(t *testing.T) {
	forms := strings.Join(stores.AcceptedForms(), " ")
	for _, scheme := range []string{"s3://", "spaces://"} {
		if !strings.Contains(forms, scheme) {
			t.Errorf("accepted forms %q lack %s", forms, scheme)
		}
	}
}
