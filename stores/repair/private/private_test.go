package private_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"statescope/stores/repair/private"
)

// TestRefusesWhatStatescopeDidNotMake: every kind of thing planted where
// statescope keeps a directory or a file is refused, never followed,
// opened blocking or chmod'ed.
func TestRefusesWhatStatescopeDidNotMake(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, at string)
		file  bool // planted where a file goes (else a directory)
		want  string
	}{
		{"link to a directory", func(t *testing.T, at string) { must(t, os.Symlink(t.TempDir(), at)) }, false, "symbolic link to "},
		{"link to a file", func(t *testing.T, at string) { must(t, os.Symlink(filepath.Join(t.TempDir(), "f"), at)) }, true, "symbolic link to "},
		{"a file where a directory goes", func(t *testing.T, at string) { must(t, os.WriteFile(at, nil, 0o600)) }, false, "is a regular file"},
		{"a FIFO where a file goes", func(t *testing.T, at string) { must(t, syscall.Mkfifo(at, 0o600)) }, true, "FIFO"},
		{"a directory where a file goes", func(t *testing.T, at string) { must(t, os.Mkdir(at, 0o700)) }, true, "is a directory"},
		{"another user's directory", func(t *testing.T, at string) {
			if os.Geteuid() != 0 {
				if os.Getenv("CI") != "" {
					t.Fatal("this case needs root, and CI runs as root")
				}
				t.Skip("needs root to chown")
			}
			must(t, os.Mkdir(at, 0o755))
			must(t, os.Chown(at, 65534, 65534))
		}, false, "belongs to uid 65534"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			must(t, os.Mkdir(filepath.Join(base, "statescope"), 0o700))
			at := filepath.Join(base, "statescope", "x")
			tt.plant(t, at)
			var err error
			if tt.file {
				var d *private.Dir
				d, err = private.Open(base, true, "statescope")
				must(t, err)
				defer d.Close()
				_, err = d.OpenFile("x", os.O_WRONLY|os.O_APPEND|os.O_CREATE)
			} else {
				_, err = private.Open(base, true, "statescope", "x", "deeper")
			}
			if !errors.Is(err, private.ErrNotPrivate) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrNotPrivate saying %q", err, tt.want)
			}
			if _, err := os.Lstat(filepath.Join(at, "deeper")); err == nil {
				t.Error("created through it")
			}
		})
	}
}

func TestOpenCreatesPrivateDirs(t *testing.T) {
	base := filepath.Join(t.TempDir(), "state-home")
	d, err := private.Open(base, true, "statescope", "drafts")
	must(t, err)
	must(t, d.WriteNew("a", []byte("one")))
	if err := d.WriteNew("a", []byte("two")); !errors.Is(err, os.ErrExist) {
		t.Errorf("WriteNew over an existing file: %v", err)
	}
	data, err := d.ReadFile("a")
	if err != nil || string(data) != "one" {
		t.Errorf("read back %q, %v", data, err)
	}
	d.Close()
	for _, p := range []string{filepath.Join(base, "statescope"), filepath.Join(base, "statescope", "drafts")} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want 0700", p, fi.Mode(), err)
		}
	}
	if fi, err := os.Stat(filepath.Join(base, "statescope", "drafts", "a")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if _, err := private.Open(base, false, "statescope", "missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("opening a missing directory: %v, want ErrNotExist", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
