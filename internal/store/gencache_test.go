package store

import "testing"

func TestGenCache(t *testing.T) {
	c := NewGenCache[string, int](2)
	c.Put(5, "a", 1)
	if v, ok := c.Get(5, "a"); !ok || v != 1 {
		t.Fatal("miss at the same generation")
	}
	if _, ok := c.Get(6, "a"); ok {
		t.Fatal("a newer generation saw an older value")
	}
	c.Put(4, "b", 2) // an older reader: not kept
	if _, ok := c.Get(4, "b"); ok {
		t.Fatal("kept a value of an older generation")
	}
	c.Put(6, "c", 3) // a newer generation drops the rest
	if _, ok := c.Get(5, "a"); ok {
		t.Fatal("an old entry survived a newer generation")
	}
	if _, ok := c.Get(0, "c"); ok {
		t.Fatal("generation 0 (write transactions) must never hit")
	}
	c.Put(6, "d", 4)
	c.Put(6, "e", 5) // over max: starts afresh
	if _, ok := c.Get(6, "c"); ok {
		t.Fatal("the bound was not kept")
	}
}
