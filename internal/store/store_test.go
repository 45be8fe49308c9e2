package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

type item struct {
	Name  string
	Count int
}

// testStore is the conformance suite every Store implementation must pass.
func testStore(t *testing.T, open func() Store) {
	ctx := context.Background()
	s := open()
	err := s.Write(ctx, func(tx Tx) error {
		for i := 0; i < 5; i++ {
			if err := tx.Put("user", fmt.Sprintf("111/u%d", i), item{fmt.Sprint(i), i}); err != nil {
				return err
			}
		}
		if err := tx.Put("user", "222/u0", item{"other", 9}); err != nil {
			return err
		}
		ok, err := tx.Insert("user", "111/u0", item{"dup", 0})
		if ok || err != nil {
			return fmt.Errorf("Insert of an existing key: %v, %v", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A failed transaction leaves nothing behind.
	boom := errors.New("boom")
	err = s.Write(ctx, func(tx Tx) error {
		if err := tx.Put("user", "111/u9", item{"half", 1}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write returned %v", err)
	}
	check := func(s Store) {
		t.Helper()
		err := s.Read(ctx, func(tx Tx) error {
			var it item
			if err := tx.Get("user", "111/u9", &it); !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("rolled-back object: %v", err)
			}
			if err := tx.Get("user", "111/u3", &it); err != nil || it.Count != 3 {
				return fmt.Errorf("Get: %+v %v", it, err)
			}
			var keys []string
			collect := func(k string, _ []byte) (bool, error) { keys = append(keys, k); return true, nil }
			if err := tx.Scan("user", "111/", "", 0, collect); err != nil {
				return err
			}
			if fmt.Sprint(keys) != "[111/u0 111/u1 111/u2 111/u3 111/u4]" {
				return fmt.Errorf("Scan: %v", keys)
			}
			keys = nil
			if err := tx.Scan("user", "111/", "111/u1", 2, collect); err != nil {
				return err
			}
			if fmt.Sprint(keys) != "[111/u2 111/u3]" {
				return fmt.Errorf("Scan after u1, limit 2: %v", keys)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check(s)
	err = s.Write(ctx, func(tx Tx) error {
		ok, err := tx.Delete("user", "111/u4")
		if !ok || err != nil {
			return fmt.Errorf("Delete: %v %v", ok, err)
		}
		ok, err = tx.Delete("user", "111/u4")
		if ok || err != nil {
			return fmt.Errorf("second Delete: %v %v", ok, err)
		}
		return tx.Put("user", "111/u4", item{"4", 4})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Everything committed survives a reopen.
	s = open()
	defer s.Close()
	check(s)
}

func TestSQLite(t *testing.T) {
	dir := t.TempDir()
	testStore(t, func() Store {
		s, err := OpenSQLite(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
