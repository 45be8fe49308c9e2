//go:build unix

package s3

import (
	"os"
	"syscall"
)

// openBlob opens an object file for reading. os.Open would also register the file
// with the runtime's poller (an epoll_ctl that a regular file always refuses): one
// system call per GetObject for nothing. A file made by os.NewFile from a blocking
// descriptor is not registered, and still serves as sendfile's source.
func openBlob(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
