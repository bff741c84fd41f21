package server_test

import (
	"os"
	"testing"
)

// Mutating calls keep backups and an audit log under XDG_STATE_HOME: the
// tests keep theirs in a directory of their own.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "statescope-server-state")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_STATE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
