package store

import "sync"

// GenCache caches values derived from the store, keyed by the store generation they
// were read at (Tx.Generation): when a write moves the store on, every entry of an
// older generation is dropped at once, so a value is never served after a write that
// could have changed it.
type GenCache[K comparable, V any] struct {
	mu  sync.Mutex
	gen uint64
	m   map[K]V
	max int
}

// NewGenCache makes a cache holding at most max entries of one generation.
func NewGenCache[K comparable, V any](max int) *GenCache[K, V] {
	return &GenCache[K, V]{m: map[K]V{}, max: max}
}

// Get returns the value cached for key at generation gen.
func (c *GenCache[K, V]) Get(gen uint64, key K) (V, bool) {
	var zero V
	if gen == 0 {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return zero, false
	}
	v, ok := c.m[key]
	return v, ok
}

// Put caches a value read at generation gen. Values of an older generation than the
// cache's are not kept; a newer one replaces the whole cache.
func (c *GenCache[K, V]) Put(gen uint64, key K, v V) {
	if gen == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case gen < c.gen:
		return
	case gen > c.gen || len(c.m) >= c.max:
		c.gen = gen
		clear(c.m)
	}
	c.m[key] = v
}
