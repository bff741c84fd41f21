// Package private creates and opens statescope's own files — backups, the
// audit log, edit drafts — without ever following a symbolic link. Each
// directory from statescope's state directory down is created 0700, opened
// with O_NOFOLLOW, checked to be a directory this user owns and tightened
// through its descriptor, never by path; files are created and opened
// relative to those descriptors, O_NOFOLLOW too. Anything else found on the
// way (a link, a file, another user's directory) is refused with
// ErrNotPrivate and nothing is written.
package private

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrNotPrivate: a path statescope keeps its own files under is not what
// statescope made.
var ErrNotPrivate = errors.New("not a private statescope path")

const (
	dirMode  = 0o700
	fileMode = 0o600
)

// Dir is an open directory statescope owns.
type Dir struct {
	f *os.File
	// Path is where it was opened, for messages.
	Path string
}

// Open opens the directories elems under base, one by one, creating them
// when create is set (else a missing one is fs.ErrNotExist). base is the
// user's (XDG_STATE_HOME) and is taken as it is, created if missing.
func Open(base string, create bool, elems ...string) (*Dir, error) {
	if create {
		if err := os.MkdirAll(base, dirMode); err != nil {
			return nil, err
		}
	}
	fd, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: base, Err: err}
	}
	d := &Dir{f: os.NewFile(uintptr(fd), base), Path: base}
	for _, e := range elems {
		sub, err := d.sub(e, create)
		d.Close()
		if err != nil {
			return nil, err
		}
		d = sub
	}
	return d, nil
}

// OpenPath opens dir, a path under base, as Open does with its elements.
func OpenPath(base, dir string, create bool) (*Dir, error) {
	rel, err := filepath.Rel(base, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("%s is not under %s: %w", dir, base, ErrNotPrivate)
	}
	var elems []string
	if rel != "." {
		elems = strings.Split(rel, string(filepath.Separator))
	}
	return Open(base, create, elems...)
}

func (d *Dir) fd() int { return int(d.f.Fd()) }

// sub opens (and maybe creates) the directory name inside d.
func (d *Dir) sub(name string, create bool) (*Dir, error) {
	path := filepath.Join(d.Path, name)
	if create {
		if err := unix.Mkdirat(d.fd(), name, dirMode); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, &fs.PathError{Op: "mkdir", Path: path, Err: err}
		}
	}
	fd, err := unix.Openat(d.fd(), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		}
		return nil, d.refusal(name, "a directory", err)
	}
	sub := &Dir{f: os.NewFile(uintptr(fd), path), Path: path}
	if err := sub.own(true, create); err != nil {
		sub.Close()
		return nil, err
	}
	return sub, nil
}

// own checks an open descriptor is this user's and, when tighten is set,
// makes a directory 0700 or a file 0600 through the descriptor.
func (d *Dir) own(dir, tighten bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(d.fd(), &st); err != nil {
		return &fs.PathError{Op: "stat", Path: d.Path, Err: err}
	}
	want, kind := uint32(fileMode), uint32(unix.S_IFREG)
	if dir {
		want, kind = dirMode, unix.S_IFDIR
	}
	switch {
	case st.Mode&unix.S_IFMT != kind:
		return fmt.Errorf("%s is %s, not what statescope made: %w", d.Path, describe(st.Mode), ErrNotPrivate)
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s belongs to uid %d, not to you (uid %d); statescope keeps its files only in directories you own: %w", d.Path, st.Uid, os.Geteuid(), ErrNotPrivate)
	case tighten && st.Mode&0o777 != want:
		if err := unix.Fchmod(d.fd(), want); err != nil {
			return &fs.PathError{Op: "chmod", Path: d.Path, Err: err}
		}
	}
	return nil
}

// refusal explains why name in d could not be opened as kind without
// following a link.
func (d *Dir) refusal(name, kind string, err error) error {
	path := filepath.Join(d.Path, name)
	var st unix.Stat_t
	if serr := unix.Fstatat(d.fd(), name, &st, unix.AT_SYMLINK_NOFOLLOW); serr != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		buf := make([]byte, 4096)
		n, _ := unix.Readlinkat(d.fd(), name, buf)
		return fmt.Errorf("%s is a symbolic link to %s, not %s statescope made; statescope never follows links here (remove the link to go on): %w", path, buf[:max(n, 0)], kind, ErrNotPrivate)
	}
	return fmt.Errorf("%s is %s, not %s statescope made: %w", path, describe(st.Mode), kind, ErrNotPrivate)
}

func describe(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return "a symbolic link"
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFREG:
		return "a regular file"
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "a device"
	}
	return "not a regular file"
}

// Close releases the directory.
func (d *Dir) Close() error { return d.f.Close() }

// Sub opens a directory inside d, as Open does.
func (d *Dir) Sub(name string, create bool) (*Dir, error) { return d.sub(name, create) }

// OpenFile opens the regular file name in d (flag as os.OpenFile; O_CREATE
// makes it 0600) without following a link, refusing anything that is not
// a regular file of this user's.
func (d *Dir) OpenFile(name string, flag int) (*os.File, error) {
	// O_NONBLOCK: a FIFO planted here must not hang the open.
	fd, err := unix.Openat(d.fd(), name, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, fileMode)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil, &fs.PathError{Op: "open", Path: filepath.Join(d.Path, name), Err: fs.ErrNotExist}
	case errors.Is(err, unix.EEXIST):
		return nil, &fs.PathError{Op: "open", Path: filepath.Join(d.Path, name), Err: fs.ErrExist}
	case err != nil:
		return nil, d.refusal(name, "a file", err)
	}
	f := &Dir{f: os.NewFile(uintptr(fd), filepath.Join(d.Path, name)), Path: filepath.Join(d.Path, name)}
	if err := f.own(false, flag&(os.O_WRONLY|os.O_RDWR) != 0); err != nil {
		f.Close()
		return nil, err
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		f.Close()
		return nil, err
	}
	return f.f, nil
}

// ReadFile reads the regular file name in d.
func (d *Dir) ReadFile(name string) ([]byte, error) {
	f, err := d.OpenFile(name, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// ReadDir lists d.
func (d *Dir) ReadDir() ([]fs.DirEntry, error) {
	if _, err := d.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return d.f.ReadDir(-1)
}

// Remove deletes the file name in d (never what a link points to).
func (d *Dir) Remove(name string) error {
	if err := unix.Unlinkat(d.fd(), name, 0); err != nil {
		return &fs.PathError{Op: "remove", Path: filepath.Join(d.Path, name), Err: err}
	}
	return nil
}

// WriteNew writes a complete, synced 0600 file name in d, failing with
// fs.ErrExist rather than replacing one: a temp file is linked into place.
func (d *Dir) WriteNew(name string, data []byte) error {
	tmp := ".tmp-" + name
	var f *os.File
	var err error
	for n := 0; ; n++ {
		f, err = d.OpenFile(fmt.Sprintf("%s-%d", tmp, n), os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if !errors.Is(err, fs.ErrExist) || n > 100 {
			break
		}
	}
	if err != nil {
		return err
	}
	tmp = filepath.Base(f.Name())
	defer unix.Unlinkat(d.fd(), tmp, 0)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := unix.Linkat(d.fd(), tmp, d.fd(), name, 0); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return &fs.PathError{Op: "link", Path: filepath.Join(d.Path, name), Err: fs.ErrExist}
		}
		return &fs.PathError{Op: "link", Path: filepath.Join(d.Path, name), Err: err}
	}
	return d.f.Sync()
}
