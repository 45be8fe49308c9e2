package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
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

// Reopen starts the listeners of every stored endpoint, on their ports (after a restart).
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
	for _, ep := range eps {
		if _, err := l.Open(ep.ID, ep.Port); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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
