package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// SQLite is the embedded store: one database file in the data directory.
type SQLite struct {
	db   *sql.DB // one connection: SQLite serialises writers anyway
	read *sql.DB // a pool of readers, which WAL lets run beside the writer
	// Statements prepared once: preparing (parsing SQL) costs more than running.
	wget, rget, put, insert, del *sql.Stmt
	gen                          atomic.Uint64 // committed writes, starting at 1
}

const (
	sqlGet    = `SELECT data FROM objects WHERE kind = ? AND key = ?`
	sqlPut    = `INSERT INTO objects (kind, key, data) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data`
	sqlInsert = `INSERT INTO objects (kind, key, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`
	sqlDelete = `DELETE FROM objects WHERE kind = ? AND key = ?`
)

const schema = `
CREATE TABLE IF NOT EXISTS objects (
	kind TEXT NOT NULL,
	key  TEXT NOT NULL,
	data BLOB NOT NULL,
	PRIMARY KEY (kind, key)
) WITHOUT ROWID;`

// SchemaVersion is the version of the data directory's layout this binary writes,
// kept in SQLite's user_version. A directory of a newer version is refused rather
// than misread.
const SchemaVersion = 1

func checkSchemaVersion(db *sql.DB, path string) error {
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("read the schema version of %s: %w", path, err)
	}
	switch {
	case v > SchemaVersion:
		return fmt.Errorf("%s has schema version %d, newer than this iamlocal's (%d): use a newer iamlocal", path, v, SchemaVersion)
	case v < SchemaVersion:
		if _, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, SchemaVersion)); err != nil {
			return fmt.Errorf("write the schema version of %s: %w", path, err)
		}
	}
	return nil
}

// DataSchemaVersion reads the schema version of the data directory dir without
// changing anything; 0 when it holds no database.
func DataSchemaVersion(dir string) (int, error) {
	path := dbPath(dir)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var v int
	err = db.QueryRow(`PRAGMA user_version`).Scan(&v)
	return v, err
}

// OpenSQLite opens (creating if needed) the database iamlocal.db in dir.
func OpenSQLite(dir string) (*SQLite, error) {
	path := dbPath(dir)
	if err := prepareDataDir(dir, path); err != nil { // perms.go
		return nil, err
	}
	// synchronous=FULL: a commit is on disk before the call that made it is answered.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema in %s: %w", path, err)
	}
	if err := checkSchemaVersion(db, path); err != nil {
		db.Close()
		return nil, err
	}
	if err := tightenDB(path); err != nil { // an older -wal or -shm made by the umask
		db.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(ON)")
	if err != nil {
		db.Close()
		return nil, err
	}
	read.SetMaxOpenConns(4)
	s := &SQLite{db: db, read: read}
	s.gen.Store(1)
	for _, p := range []struct {
		db   *sql.DB
		q    string
		stmt **sql.Stmt
	}{{db, sqlGet, &s.wget}, {read, sqlGet, &s.rget}, {db, sqlPut, &s.put}, {db, sqlInsert, &s.insert}, {db, sqlDelete, &s.del}} {
		if *p.stmt, err = p.db.Prepare(p.q); err != nil {
			s.Close()
			return nil, fmt.Errorf("prepare %q: %w", p.q, err)
		}
	}
	return s, nil
}

func (s *SQLite) Close() error {
	for _, st := range []*sql.Stmt{s.wget, s.rget, s.put, s.insert, s.del} {
		if st != nil {
			st.Close()
		}
	}
	return errors.Join(s.read.Close(), s.db.Close())
}

// Read begins the SQL transaction only when fn first touches the database: a call
// answered from caches keyed by the generation never pays for BEGIN and ROLLBACK.
func (s *SQLite) Read(ctx context.Context, fn func(Tx) error) error {
	// The generation is read before any BEGIN, so the snapshot is at least this new.
	t := &sqlTx{gen: s.gen.Load()}
	t.begin = func() error {
		tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		t.tx, t.get = tx, tx.Stmt(s.rget)
		return nil
	}
	defer func() {
		if t.tx != nil {
			t.tx.Rollback()
		}
	}()
	return fn(t)
}

func (s *SQLite) Write(ctx context.Context, fn func(Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(&sqlTx{tx: tx, get: tx.Stmt(s.wget), put: tx.Stmt(s.put), insert: tx.Stmt(s.insert), del: tx.Stmt(s.del)}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.gen.Add(1) // after the commit, before the caller acknowledges the write
	return nil
}

var errReadOnly = errors.New("store: write in a read transaction")

type sqlTx struct {
	tx                    *sql.Tx
	get, put, insert, del *sql.Stmt
	gen                   uint64
	begin                 func() error // lazily starts a read transaction
}

// open makes sure the SQL transaction has begun.
func (t *sqlTx) open() error {
	if t.tx != nil {
		return nil
	}
	return t.begin()
}

func (t *sqlTx) Generation() uint64 { return t.gen }

func (t *sqlTx) Get(kind, key string, v any) error {
	if err := t.open(); err != nil {
		return err
	}
	var data []byte
	err := t.get.QueryRow(kind, key).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

func (t *sqlTx) Put(kind, key string, v any) error {
	if t.put == nil {
		return errReadOnly
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = t.put.Exec(kind, key, data)
	return err
}

func (t *sqlTx) Insert(kind, key string, v any) (bool, error) {
	if t.put == nil {
		return false, errReadOnly
	}
	data, err := json.Marshal(v)
	if err != nil {
		return false, err
	}
	res, err := t.insert.Exec(kind, key, data)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *sqlTx) Delete(kind, key string) (bool, error) {
	if t.put == nil {
		return false, errReadOnly
	}
	res, err := t.del.Exec(kind, key)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *sqlTx) Scan(kind, prefix, after string, limit int, fn func(string, []byte) (bool, error)) error {
	if err := t.open(); err != nil {
		return err
	}
	lo := prefix
	if after > lo {
		lo = after
	}
	q := `SELECT key, data FROM objects WHERE kind = ? AND key > ? AND key < ? ORDER BY key`
	args := []any{kind, lo, prefixEnd(prefix)}
	if after == "" || after < prefix {
		q = `SELECT key, data FROM objects WHERE kind = ? AND key >= ? AND key < ? ORDER BY key`
	}
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := t.tx.Query(q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var data []byte
		if err := rows.Scan(&key, &data); err != nil {
			return err
		}
		more, err := fn(key, data)
		if err != nil || !more {
			return err
		}
	}
	return rows.Err()
}

// prefixEnd is the least string greater than every string with the prefix.
func prefixEnd(prefix string) string {
	return prefix + strings.Repeat("\U0010FFFF", 1)
}
