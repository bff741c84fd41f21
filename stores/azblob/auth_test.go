package azblob

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	const key = "a2V5LWtleS1rZXk="
	const sas = "sv=2024-01-01&ss=b&sig=c2lnbmF0dXJl"
	s := &Store{cfg: Config{Auth: Auth{Account: "acct", Key: key, SAS: sas}}}
	tests := []struct {
		name string
		err  error
	}{
		{"url error with the SAS", &url.Error{Op: "Get", URL: "https://acct.blob.core.windows.net/c/b.json?" + sas, Err: errors.New("connection refused")}},
		{"another signature", &url.Error{Op: "Put", URL: "https://acct.blob.core.windows.net/c/b.json?sig=c2lnbmF0dXJl&sv=x", Err: errors.New("timeout")}},
		{"the key", errors.New("signing with " + key + " failed")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.sdkError(tt.err)
			for _, secret := range []string{key, "c2lnbmF0dXJl"} {
				if strings.Contains(got.Error(), secret) {
					t.Errorf("%q shows a credential", got)
				}
			}
			if !errors.Is(got, tt.err) {
				t.Error("the redacted error no longer wraps the original")
			}
		})
	}
}

func TestParseConnectionString(t *testing.T) {
	tests := []struct {
		raw     string
		want    connectionString
		wantErr string
	}{
		{"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k==;EndpointSuffix=core.chinacloudapi.cn",
			connectionString{account: "acct", key: "k==", endpoint: "https://acct.blob.core.chinacloudapi.cn"}, ""},
		{"AccountName=acct;AccountKey=k;BlobEndpoint=http://127.0.0.1:10000/acct;",
			connectionString{account: "acct", key: "k", endpoint: "http://127.0.0.1:10000/acct"}, ""},
		{"BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=?sv=1&sig=x",
			connectionString{sas: "sv=1&sig=x", endpoint: "https://acct.blob.core.windows.net"}, ""},
		{"UseDevelopmentStorage=true", connectionString{}, "UseDevelopmentStorage"},
		{"AccountName=acct", connectionString{}, "neither AccountKey nor SharedAccessSignature"},
		{"AccountName=acct;garbage-key-material", connectionString{}, "without '='"},
	}
	for _, tt := range tests {
		got, err := parseConnectionString(tt.raw)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.raw, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "garbage-key-material") {
				t.Errorf("error quotes the connection string: %v", err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.raw, got, err, tt.want)
		}
	}
}
