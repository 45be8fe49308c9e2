// Package events is iamlocal's one stream of decisions: every request the engine
// decides yields a Record (who, what, on which resource, where, and what the engine
// said), published by the front door and read by subscribers that the producer never
// knows — last-accessed data today; the decision log, CloudTrail events, metrics and
// Access Analyzer later.
//
// Publishing costs the request path a bounded, non-blocking hand-off: each subscriber
// has a buffer of its own, and a record that finds it full is dropped and counted,
// never waited for. A slow subscriber loses records; it never slows a request or
// another subscriber.
package events

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
)

// Record is one decision of the engine about one request.
type Record struct {
	Time      time.Time
	RequestID string
	// Account is the caller's account ("" for anonymous callers).
	Account string
	// Principal is the caller's ARN as the engine saw it: the session ARN of a role
	// session, the federated user's ARN, "anonymous".
	Principal string
	// Entity is the IAM identity the caller acts as, the one IAM's last-accessed data
	// is kept for: the user, the role of a role session, the user who called
	// GetFederationToken, the account's root user; "" for anonymous callers and
	// web-identity principals.
	Entity string
	// UniqueID is aws:userid (AIDA…, AROA…:session, the account id for root).
	UniqueID string
	// AccessKeyID is the key that signed the request ("" when unsigned).
	AccessKeyID string
	Action      string // s3:GetObject, as the service names it
	Resource    string
	// ResourceAccount owns the resource ("" when unknown).
	ResourceAccount string
	Outcome         authz.Outcome
	Region          string

	barrier chan struct{} // Sync's marker; never published by producers
	stop    bool          // Close's marker
}

// Service is the record's service namespace: the action's prefix (s3, iam…).
func (r *Record) Service() string {
	svc, _, _ := strings.Cut(r.Action, ":")
	return svc
}

// EntityOf is the IAM identity a caller acts as (see Record.Entity).
func EntityOf(c *policy.Caller) string {
	switch c.Kind {
	case policy.User, policy.RootUser:
		return c.Arn
	case policy.AssumedRole:
		if c.RoleArn != "" {
			return c.RoleArn
		}
		return "arn:" + c.Partition + ":iam::" + c.Account + ":role/" + c.RoleName
	case policy.FederatedUser:
		if c.Parent == "" {
			return "arn:" + c.Partition + ":iam::" + c.Account + ":root"
		}
		return "arn:" + c.Partition + ":iam::" + c.Account + ":user/" + c.Parent
	}
	return ""
}

// DefaultBuffer is a subscriber's buffer when Subscribe is given none.
const DefaultBuffer = 4096

// Stream fans records out to its subscribers. The zero value is not usable; a nil
// *Stream accepts and drops every record, so producers need no check.
type Stream struct {
	mu   sync.Mutex // serializes Subscribe and Close
	subs atomic.Pointer[[]*Subscription]
}

// NewStream makes a stream without subscribers.
func NewStream() *Stream {
	s := &Stream{}
	s.subs.Store(&[]*Subscription{})
	return s
}

// Subscription is one subscriber: its buffer, its goroutine and its counts.
type Subscription struct {
	Name     string
	ch       chan Record
	fn       func(Record)
	dropped  atomic.Uint64
	received atomic.Uint64
	done     chan struct{}
	closed   atomic.Bool
}

// Subscribe runs fn, in a goroutine of its own, for every record published from now
// on, in order; buffer (DefaultBuffer when <= 0) bounds the records waiting for it.
func (s *Stream) Subscribe(name string, buffer int, fn func(Record)) *Subscription {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	sub := &Subscription{Name: name, ch: make(chan Record, buffer), fn: fn, done: make(chan struct{})}
	go sub.run()
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.subs.Load()
	subs := append(append(make([]*Subscription, 0, len(old)+1), old...), sub)
	s.subs.Store(&subs)
	return sub
}

func (sub *Subscription) run() {
	defer close(sub.done)
	for r := range sub.ch {
		if r.stop {
			return
		}
		if r.barrier != nil {
			close(r.barrier)
			continue
		}
		sub.fn(r)
	}
}

// Publish hands a record to every subscriber without waiting: a subscriber whose
// buffer is full misses it, and counts it in Dropped.
func (s *Stream) Publish(r Record) {
	if s == nil {
		return
	}
	for _, sub := range *s.subs.Load() {
		select {
		case sub.ch <- r:
			sub.received.Add(1)
		default:
			sub.dropped.Add(1)
		}
	}
}

// Dropped counts the records this subscriber missed because its buffer was full.
func (sub *Subscription) Dropped() uint64 { return sub.dropped.Load() }

// Received counts the records handed to this subscriber.
func (sub *Subscription) Received() uint64 { return sub.received.Load() }

// Sync waits until the subscriber has handled every record handed to it before the
// call (tests, and a final flush at shutdown). It blocks, so never call it on a
// request path.
func (sub *Subscription) Sync() {
	if sub.closed.Load() {
		<-sub.done
		return
	}
	b := make(chan struct{})
	select {
	case sub.ch <- Record{barrier: b}:
	case <-sub.done:
		return
	}
	select {
	case <-b:
	case <-sub.done:
	}
}

// Dropped counts the records every subscriber missed, together.
func (s *Stream) Dropped() uint64 {
	if s == nil {
		return 0
	}
	var n uint64
	for _, sub := range *s.subs.Load() {
		n += sub.Dropped()
	}
	return n
}

// Close stops the stream: every subscriber handles what its buffer holds, and Close
// returns when all have. A record published during or after Close may be lost.
// (Channels are never closed: a Publish that read the subscriber list just before
// Close may still send.)
func (s *Stream) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	subs := *s.subs.Load()
	s.subs.Store(&[]*Subscription{})
	s.mu.Unlock()
	for _, sub := range subs {
		if sub.closed.Swap(true) {
			continue
		}
		sub.ch <- Record{stop: true}
	}
	for _, sub := range subs {
		<-sub.done
	}
}
