package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

// endpointKey marks a request that arrived through a VPC endpoint's listener.
type endpointKey struct{}

// MaxListeners bounds the VPC endpoint listeners of one server (file descriptors);
// EC2's CreateVpcEndpoint refuses endpoints beyond its quotas before this.
const MaxListeners = 1000

// Listeners runs one loopback listener per VPC endpoint, all served by the same
// server; it implements service.EndpointListeners.
type Listeners struct {
	srv   *Server
	mu    sync.Mutex
	m     map[string]*http.Server
	limit int // 0: MaxListeners
	// ports is the range new listeners take their port from (serve
	// --endpoint-ports); zero: any free port the system picks.
	ports PortRange
}

// PortRange is an inclusive range of TCP ports; the zero value is no range.
type PortRange struct{ Lo, Hi int }

// ParsePortRange reads "45000-45099" (or a single port, "45000").
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		hi = lo
	}
	a, errA := strconv.Atoi(strings.TrimSpace(lo))
	b, errB := strconv.Atoi(strings.TrimSpace(hi))
	if errA != nil || errB != nil || a < 1 || b > 65535 || a > b {
		return PortRange{}, fmt.Errorf("port range %q: want FIRST-LAST, two ports from 1 to 65535, FIRST <= LAST (45000-45099)", s)
	}
	return PortRange{a, b}, nil
}

func (p PortRange) String() string { return fmt.Sprintf("%d-%d", p.Lo, p.Hi) }

// SetPorts makes new listeners take the first free port of r (before Reopen).
func (l *Listeners) SetPorts(r PortRange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ports = r
}

// Listeners returns the server's VPC endpoint listeners.
func (s *Server) Listeners() *Listeners {
	return &Listeners{srv: s, m: map[string]*http.Server{}}
}

// Open listens for an endpoint on 127.0.0.1:port (any free port when 0).
func (l *Listeners) Open(id string, port int) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if hs, ok := l.m[id]; ok {
		return hs.Addr, nil
	}
	if n := len(l.m); n >= MaxListeners || (l.limit > 0 && n >= l.limit) {
		return "", fmt.Errorf("VPC endpoint %s: already %d endpoint listeners", id, len(l.m))
	}
	var ln net.Listener
	var err error
	if port == 0 && l.ports.Lo != 0 {
		ln, err = l.listenInRange()
	} else {
		ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	}
	if err != nil {
		return "", fmt.Errorf("VPC endpoint %s: %w", id, err)
	}
	hs := HTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.srv.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), endpointKey{}, id)))
	}))
	hs.Addr = ln.Addr().String()
	l.m[id] = hs
	go hs.Serve(ln)
	return hs.Addr, nil
}

// listenInRange listens on the first port of the range that is free: not one of
// this server's listeners, and one the system lets it bind.
func (l *Listeners) listenInRange() (net.Listener, error) {
	used := make(map[string]bool, len(l.m))
	for _, hs := range l.m {
		used[hs.Addr] = true
	}
	for p := l.ports.Lo; p <= l.ports.Hi; p++ {
		addr := "127.0.0.1:" + strconv.Itoa(p)
		if used[addr] {
			continue
		}
		if ln, err := net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
	}
	return nil, &service.NoEndpointPortError{Range: l.ports.String()}
}

// Len is the number of open listeners.
func (l *Listeners) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// Close stops an endpoint's listener.
func (l *Listeners) Close(id string) error {
	l.mu.Lock()
	hs := l.m[id]
	delete(l.m, id)
	l.mu.Unlock()
	if hs == nil {
		return nil
	}
	return hs.Close()
}

// CloseAll stops every listener (at shutdown).
func (l *Listeners) CloseAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, hs := range l.m {
		hs.Close()
		delete(l.m, id)
	}
}

// Reopen starts the listeners of every stored endpoint, on their ports (after a
// restart). A stored port another process has taken since is logged and replaced by
// a new one (from the range, when set), which the endpoint's record then shows.
func (l *Listeners) Reopen(ctx context.Context, st store.Store) error {
	var eps []directory.VpcEndpoint
	err := st.Read(ctx, func(tx store.Tx) error {
		return tx.Scan(directory.KindVpcEndpoint, "", "", 0, func(_ string, data []byte) (bool, error) {
			var ep directory.VpcEndpoint
			if err := jsonUnmarshal(data, &ep); err != nil {
				return false, err
			}
			if ep.State != "deleted" {
				eps = append(eps, ep)
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	var errs []error
	type taken struct {
		id   string
		port int
		err  error
	}
	var moved []taken
	for _, ep := range eps { // every stored port first, so a moved one cannot take another's
		if _, err := l.Open(ep.ID, ep.Port); err != nil {
			if ep.Port == 0 {
				errs = append(errs, err)
				continue
			}
			moved = append(moved, taken{ep.ID, ep.Port, err})
		}
	}
	for _, ep := range moved {
		err := ep.err
		addr, err2 := l.Open(ep.id, 0)
		if err2 != nil {
			errs = append(errs, err, err2)
			continue
		}
		l.srv.log.Warn("a VPC endpoint's port is taken by another process: it moves to a new port",
			"endpoint", ep.id, "port", ep.port, "newAddr", addr, "err", err)
		if err := l.movePort(ctx, st, ep.id, addr); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// movePort records an endpoint's new listener address (its DnsName).
func (l *Listeners) movePort(ctx context.Context, st store.Store, id, addr string) error {
	_, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return err
	}
	return st.Write(ctx, func(tx store.Tx) error {
		var ep directory.VpcEndpoint
		if err := tx.Get(directory.KindVpcEndpoint, id, &ep); err != nil {
			return fmt.Errorf("VPC endpoint %s: %w", id, err)
		}
		ep.Port = port
		return tx.Put(directory.KindVpcEndpoint, id, ep)
	})
}

// endpointOf loads the VPC endpoint a request came through, if any.
func (s *Server) endpointOf(r *http.Request, tx store.Tx) (*service.Endpoint, error) {
	id, _ := r.Context().Value(endpointKey{}).(string)
	if id == "" {
		return nil, nil
	}
	var ep directory.VpcEndpoint
	if err := tx.Get(directory.KindVpcEndpoint, id, &ep); err != nil {
		return nil, fmt.Errorf("VPC endpoint %s: %w", id, err)
	}
	out := &service.Endpoint{ID: id}
	if ep.PolicyDocument != "" {
		p, err := s.env.Resolver.Policies.Compile(ep.PolicyDocument, policy.Endpoint)
		if err != nil {
			return nil, err
		}
		out.Policy = p
	}
	return out, nil
}
