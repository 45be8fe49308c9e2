//go:build !unix

package imds

import (
	"errors"
	"net"
)

func getHopLimit(*net.TCPConn) (int, error) { return 0, errors.New("unsupported") }
