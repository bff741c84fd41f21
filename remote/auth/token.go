package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Token is an accepted bearer token, kept only as its hash, under the name
// of the file it came from (what the audit log records, never the token).
type Token struct {
	Name string
	sum  [32]byte
}

// minTokenLen keeps hand-written tokens from being guessable.
const minTokenLen = 32

// LoadOrCreateToken reads a token file, or creates it (0600, never
// replacing one) holding a random 256-bit token; created says which.
func LoadOrCreateToken(path string) (t Token, created bool, err error) {
	secret, err := ReadToken(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createToken(path); err != nil && !errors.Is(err, fs.ErrExist) {
			return Token{}, false, fmt.Errorf("token file %s: %w", path, err)
		} else if err == nil {
			created = true
		}
		secret, err = ReadToken(path)
	}
	if err != nil {
		return Token{}, false, err
	}
	return Token{Name: filepath.Base(path), sum: sha256.Sum256([]byte(secret))}, created, nil
}

func createToken(path string) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(hex.EncodeToString(b) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// ReadToken reads a token file, refusing one that other users can read:
// the token would no longer tell who is calling. Errors never quote it.
func ReadToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("token file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("token file %s is readable by other users (mode %04o): chmod 600 %s", path, perm, path)
	}
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if err != nil {
		return "", fmt.Errorf("token file %s: %w", path, err)
	}
	secret := strings.TrimSpace(string(buf[:n]))
	switch {
	case strings.ContainsAny(secret, " \t\r\n"):
		return "", fmt.Errorf("token file %s must hold one token on one line", path)
	case len(secret) < minTokenLen:
		return "", fmt.Errorf("token file %s holds a token of %d characters; use at least %d (remove the file and statescope serve writes a random one)", path, len(secret), minTokenLen)
	}
	return secret, nil
}
