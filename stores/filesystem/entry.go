package filesystem

import (
	"errors"
	"fmt"
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

// DescribeEntry says what a non-regular entry is (NotRegularError, check).
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

// openFD opens a directory entry for reading only if it is a regular file,
// and returns its descriptor and size. The type is checked before opening
// (opening a device can have effects of its own) unless the directory
// listing already said the entry is a regular file, and always again with
// fstat on the open descriptor, which is opened with O_NOFOLLOW|O_NONBLOCK
// so a link swapped in meanwhile is not followed and a FIFO cannot block.
// Raw descriptors spare a listing the poller registration os.File tries.
func openFD(path string, listedRegular bool) (int, int64, error) {
	if !listedRegular {
		info, err := os.Lstat(path)
		if err != nil {
			return -1, 0, err
		}
		if !info.Mode().IsRegular() {
			return -1, 0, &NotRegularError{Path: path, What: DescribeEntry(path, info.Mode())}
		}
	}
	var fd int
	err := retry(func() (err error) {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENXIO) {
			if info, lerr := os.Lstat(path); lerr == nil {
				return -1, 0, &NotRegularError{Path: path, What: DescribeEntry(path, info.Mode())}
			}
		}
		return -1, 0, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return -1, 0, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		what := "not a regular file, not read"
		if info, lerr := os.Lstat(path); lerr == nil {
			what = DescribeEntry(path, info.Mode())
		}
		return -1, 0, &NotRegularError{Path: path, What: what}
	}
	return fd, st.Size, nil
}

// retry repeats a system call interrupted by a signal.
func retry(call func() error) error {
	for {
		if err := call(); err != syscall.EINTR {
			return err
		}
	}
}

// openEntry is openFD as an *os.File, for the few callers (locks) that
// keep the file open.
func openEntry(path string, listedRegular bool) (*os.File, int64, error) {
	fd, size, err := openFD(path, listedRegular)
	if err != nil {
		return nil, 0, err
	}
	return os.NewFile(uintptr(fd), path), size, nil
}

// readFD reads an open entry of the given size to its end (it may have
// grown), refusing one too large to be a record or lock.
func readFD(fd int, path string, size int64) ([]byte, error) {
	data := make([]byte, 0, min(size, maxFileBytes)+1)
	for {
		var n int
		err := retry(func() (err error) {
			n, err = syscall.Read(fd, data[len(data):cap(data)])
			return err
		})
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		data = data[:len(data)+n]
		if len(data) > maxFileBytes {
			return nil, fmt.Errorf("%s is larger than the %d MiB a record may have", path, maxFileBytes>>20)
		}
		if n == 0 {
			return data, nil
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
	fd, size, err := openFD(path, listedRegular)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	return readFD(fd, path, size)
}
