package testserver

import (
	"testing"
)

// Azurite's well-known development account, published by Microsoft for
// local emulators; it grants nothing outside them.
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Azurite is a running azurite-blob.
type Azurite struct {
	// Addr is the server's host:port.
	Addr string
	// AccountURL is the blob endpoint of the development account.
	AccountURL string
}

// ConnectionString is the connection string for the development account.
func (a *Azurite) ConnectionString() string {
	return "DefaultEndpointsProtocol=http;AccountName=" + AzuriteAccount + ";AccountKey=" + AzuriteKey + ";BlobEndpoint=" + a.AccountURL + ";"
}

var sharedAzurite Shared[*Azurite]

// SharedAzurite returns the Azurite of this test binary, starting it on
// first use; TestMain must call Main so it is stopped.
func SharedAzurite(t testing.TB) *Azurite {
	t.Helper()
	return sharedAzurite.Get(t, "Azurite", StartAzurite)
}

// StartAzurite starts azurite-blob on a free loopback port, storing on disk
// in a temp directory, and returns it with a function that stops it.
func StartAzurite() (*Azurite, func(), error) {
	addr, stop, err := Launch(Daemon{
		Name: "azurite-blob", Candidates: []string{"azurite/node_modules/.bin/azurite-blob"}, Ready: StartupTimeout,
		// --skipApiVersionCheck: the SDK sends a newer API version than Azurite
		// knows. --disableTelemetry: otherwise it ignores SIGTERM.
		Args: func(_ string, port int, dir string) []string {
			return []string{"--blobHost", "127.0.0.1", "--blobPort", Itoa(port), "--location", dir,
				"--skipApiVersionCheck", "--disableTelemetry", "--silent"}
		},
	})
	if err != nil {
		return nil, nil, err
	}
	return &Azurite{Addr: addr, AccountURL: "http://" + addr + "/" + AzuriteAccount}, stop, nil
}
