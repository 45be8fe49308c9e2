//go:build !unix

package s3

import "os"

// openBlob opens an object file for reading.
func openBlob(path string) (*os.File, error) { return os.Open(path) }
