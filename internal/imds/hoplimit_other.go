//go:build !unix

package imds

import (
	"errors"
	"net"
)

// setHopLimit is not implemented on this platform: token responses keep the
// system's default TTL.
func setHopLimit(net.Conn, int) error {
	return errors.New("setting the IP TTL is not supported on this platform")
}
