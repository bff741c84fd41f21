package filesystem

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// identity is what can be observed of one file instance.
type identity struct {
	dev, ino uint64
	// gen is the inode generation; hasGen only where the file system
	// randomises it per inode (see randomGeneration).
	gen    uint32
	hasGen bool
	// btime, ctime and mtime are nanoseconds since the epoch (btime 0 when
	// unknown). ctime cannot be set by a writer: a new file gets the clock.
	btime, ctime, mtime int64
	size                int64
}

// useGeneration is cleared by tests to exercise file systems without one.
var useGeneration = true

// token hashes the identity with the content.
func (id identity) token(body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d|%d|%d|%d|%d|%d|%d|", id.dev, id.ino, id.gen, id.btime, id.ctime, id.mtime, id.size)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// changed is the file's change time.
func (id identity) changed() time.Time { return time.Unix(0, id.ctime) }
