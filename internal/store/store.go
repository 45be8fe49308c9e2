// Package store keeps iamlocal's durable state behind one small interface: typed
// objects addressed by (kind, key), read and written in transactions. Every API call
// is one transaction, committed before its response is sent. The embedded
// implementation is SQLite (modernc.org/sqlite, pure Go).
package store

import (
	"context"
	"errors"
)

// ErrNotFound is returned by Get for a missing object.
var ErrNotFound = errors.New("not found")

// Store runs transactions.
type Store interface {
	// Read runs fn in a read-only transaction.
	Read(ctx context.Context, fn func(Tx) error) error
	// Write runs fn in a read-write transaction and commits it durably when fn returns
	// nil; any error rolls everything back, so no call is ever half-applied.
	Write(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Generation counts committed writes. A read transaction reports the generation it
// started from (Tx.Generation), so a cache keyed by it is exact: data read in a
// transaction of generation g is at least as new as every write counted in g, and the
// next write moves every reader to a new generation. Write transactions report 0:
// their reads are never cached.

// Tx is one transaction. Values are encoded as JSON.
type Tx interface {
	// Get decodes the object into v, or returns ErrNotFound.
	Get(kind, key string, v any) error
	// Put creates or replaces an object.
	Put(kind, key string, v any) error
	// Insert creates an object and reports false, writing nothing, when it exists.
	Insert(kind, key string, v any) (bool, error)
	// Delete removes an object and reports whether it existed.
	Delete(kind, key string) (bool, error)
	// Scan calls fn, in key order, for the objects of a kind whose key starts with
	// prefix and sorts after `after` ("" for the start), until fn returns false or
	// limit objects were seen (limit <= 0: no limit).
	Scan(kind, prefix, after string, limit int, fn func(key string, data []byte) (bool, error)) error
	// Generation is the store generation a read transaction started from; 0 in a
	// write transaction.
	Generation() uint64
}
