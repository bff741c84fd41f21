package filesystem

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fsIocGetversion is FS_IOC_GETVERSION, _IOR('v', 1, long): the inode's
// generation number.
const fsIocGetversion = 2<<30 | uint(unsafe.Sizeof(int(0)))<<16 | 'v'<<8 | 1

// randomGeneration names the file systems that give every new inode a
// random generation, so a reused inode number still gets a new one. Others
// (btrfs: the creating transaction; tmpfs: no ioctl) prove nothing by it.
var randomGeneration = map[int64]bool{unix.EXT4_SUPER_MAGIC: true, unix.XFS_SUPER_MAGIC: true}

// identify reads what tells this open file from any other: device, inode
// number and, where the file system randomises it, generation; birth,
// change and modification times; size.
func identify(f *os.File) (identity, error) {
	fd := int(f.Fd())
	var st unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &st); err != nil {
		return identity{}, &os.PathError{Op: "statx", Path: f.Name(), Err: err}
	}
	id := identity{
		dev: unix.Mkdev(st.Dev_major, st.Dev_minor), ino: st.Ino,
		ctime: ts(st.Ctime), mtime: ts(st.Mtime), size: int64(st.Size),
	}
	if st.Mask&unix.STATX_BTIME != 0 {
		id.btime = ts(st.Btime)
	}
	var sfs unix.Statfs_t
	if useGeneration && unix.Fstatfs(fd, &sfs) == nil && randomGeneration[int64(sfs.Type)] {
		if gen, err := unix.IoctlGetUint32(fd, fsIocGetversion); err == nil {
			id.gen, id.hasGen = gen, true
		}
	}
	return id, nil
}

func ts(t unix.StatxTimestamp) int64 { return t.Sec*1e9 + int64(t.Nsec) }
