package filesystem

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// maxFileBytes bounds what one read holds in memory; a record or lock is
// kilobytes, so anything near this is not one.
const maxFileBytes = 256 << 20

// NotRegularError: a directory entry is not a regular file (a symlink,
// FIFO, socket, device or directory). It is never read, followed or
// written through; What says what it is.
type NotRegularError struct {
	Path string
	What string
}

func (e *NotRegularError) Error() string { return notRegular + ": " + e.What }

// notRegular starts every NotRegularError.
const notRegular = "not a regular file"

// DescribeEntry says what a non-regular entry is (NotRegularError, and the
// health check, which looks without opening).
func DescribeEntry(path string, mode fs.FileMode) string {
	switch {
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return "symlink, not followed"
		}
		return fmt.Sprintf("symlink to %s, not followed", target)
	case mode&fs.ModeNamedPipe != 0:
		return "FIFO (named pipe), not read"
	case mode&fs.ModeSocket != 0:
		return "socket, not read"
	case mode&fs.ModeDevice != 0:
		return "device file, not read"
	case mode.IsDir():
		return "directory, not read"
	}
	return fmt.Sprintf("%s, not read", mode.Type())
}

// openEntry opens a directory entry for reading only if it is a regular
// file, and returns its size. The type is checked before opening (opening
// a device can have effects of its own) unless the directory listing
// already said the entry is a regular file, and always again with fstat on
// the open file, which is opened with O_NOFOLLOW|O_NONBLOCK so a link
// swapped in meanwhile is not followed and a FIFO cannot block.
func openEntry(path string, listedRegular bool) (*os.File, int64, error) {
	if !listedRegular {
		info, err := os.Lstat(path)
		if err != nil {
			return nil, 0, err
		}
		if !info.Mode().IsRegular() {
			return nil, 0, &NotRegularError{Path: path, What: DescribeEntry(path, info.Mode())}
		}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENXIO) {
			if info, lerr := os.Lstat(path); lerr == nil {
				return nil, 0, &NotRegularError{Path: path, What: DescribeEntry(path, info.Mode())}
			}
		}
		return nil, 0, err
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, 0, err
		}
		return nil, 0, &NotRegularError{Path: path, What: DescribeEntry(path, info.Mode())}
	}
	return f, info.Size(), nil
}

// readOpen reads an open entry of the given size to its end (it may have
// grown), refusing one too large to be a record or lock.
func readOpen(f *os.File, size int64) ([]byte, error) {
	data := make([]byte, 0, min(size, maxFileBytes)+1)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if len(data) > maxFileBytes {
			return nil, fmt.Errorf("%s is larger than the %d MiB a record may have", f.Name(), maxFileBytes>>20)
		}
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
}

// ReadFile reads a regular file in a state directory without following a
// link or blocking on a FIFO; anything else is a *NotRegularError.
func ReadFile(path string) ([]byte, error) { return readEntryFile(path, false) }

func readEntryFile(path string, listedRegular bool) ([]byte, error) {
	f, size, err := openEntry(path, listedRegular)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readOpen(f, size)
}
