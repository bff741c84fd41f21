//go:build !linux

package filesystem

import "os"

// identify reads what this platform tells portably: modification time and
// size. Without a change time or generation, only the freshness rule and
// statescope's nonces prove a lock instance.
func identify(f *os.File) (identity, error) {
	info, err := f.Stat()
	if err != nil {
		return identity{}, err
	}
	m := info.ModTime().UnixNano()
	return identity{ctime: m, mtime: m, size: info.Size()}, nil
}
