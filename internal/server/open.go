package server

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/session"
	"github.com/iamlocal/iamlocal/internal/store"
)

// Config says where state lives and who the management account is.
type Config struct {
	DataDir   string
	AccountID string // the management account, whose root user bootstraps the server
	Region    string
	// RootAccessKeyID and RootSecretAccessKey, when set, are the root user's key
	// (IAMLOCAL_ROOT_ACCESS_KEY_ID / IAMLOCAL_ROOT_SECRET_ACCESS_KEY).
	RootAccessKeyID     string
	RootSecretAccessKey string
	// Log receives warnings about the data directory; nil means slog.Default().
	Log *slog.Logger
}

// Bootstrap is what opening the data directory created, for the operator.
type Bootstrap struct {
	// RootKey is the management account root user's access key.
	RootKey directory.AccessKey
	// NewRootKey is set when RootKey was generated on this start.
	NewRootKey      bool
	CredentialsFile string
}

type storedKey struct {
	ID      uint32
	Secret  string // hex
	Created time.Time
}

// Open opens the store in cfg.DataDir and makes sure the session key ring, the
// management account and its root user's access key exist.
func Open(ctx context.Context, cfg Config) (*store.SQLite, *session.Ring, *Bootstrap, error) {
	st, err := store.OpenSQLite(cfg.DataDir)
	if err != nil {
		return nil, nil, nil, err
	}
	boot := &Bootstrap{}
	var ring *session.Ring
	err = st.Write(ctx, func(tx store.Tx) error {
		var err error
		if ring, err = loadRing(tx); err != nil {
			return err
		}
		if err := ensureAccount(tx, cfg.AccountID); err != nil {
			return err
		}
		boot.RootKey, boot.NewRootKey, err = ensureRootKey(tx, cfg)
		return err
	})
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	if boot.NewRootKey {
		k := boot.RootKey
		boot.CredentialsFile = filepath.Join(cfg.DataDir, "root-credentials")
		content := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", k.ID, k.Secret)
		if err := os.WriteFile(boot.CredentialsFile, []byte(content), 0o600); err != nil {
			st.Close()
			return nil, nil, nil, fmt.Errorf("write root credentials: %w", err)
		}
	}
	if _, err := InternalToken(cfg.DataDir); err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	secureDataDir(cfg.DataDir, log)
	return st, ring, boot, nil
}

// loadRing reads the session keys, creating the first on an empty store.
func loadRing(tx store.Tx) (*session.Ring, error) {
	var keys []session.Key
	err := tx.Scan(directory.KindKey, "", "", 0, func(_ string, data []byte) (bool, error) {
		var sk storedKey
		if err := json.Unmarshal(data, &sk); err != nil {
			return false, err
		}
		secret, err := hex.DecodeString(sk.Secret)
		if err != nil {
			return false, err
		}
		keys = append(keys, session.Key{ID: sk.ID, Secret: secret, Created: sk.Created})
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		k := session.NewKey(1, time.Now())
		if err := tx.Put(directory.KindKey, strconv.Itoa(int(k.ID)), storedKey{k.ID, hex.EncodeToString(k.Secret), k.Created}); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return session.NewRing(keys)
}

func ensureAccount(tx store.Tx, id string) error {
	var a directory.Account
	err := tx.Get(directory.KindAccount, id, &a)
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return tx.Put(directory.KindAccount, id, directory.Account{ID: id, Name: "management", Email: "root@" + id + ".iamlocal",
		Status: "ACTIVE", JoinedMethod: "CREATED", JoinedAt: time.Now().UTC()})
}

// rootKeyIndex records which key is the root user's, per account.
const rootKeyIndex = "rootkey"

// ensureRootKey installs the configured root key, or generates one on first start,
// and returns it; generated reports a key made now.
func ensureRootKey(tx store.Tx, cfg Config) (key directory.AccessKey, generated bool, err error) {
	if cfg.RootAccessKeyID != "" {
		k := directory.AccessKey{ID: cfg.RootAccessKeyID, Secret: cfg.RootSecretAccessKey, Account: cfg.AccountID,
			Status: "Active", CreateDate: time.Now().UTC()}
		if err := tx.Put(directory.KindAccessKey, k.ID, k); err != nil {
			return k, false, err
		}
		return k, false, tx.Put(rootKeyIndex, cfg.AccountID, k.ID)
	}
	var existing string
	err = tx.Get(rootKeyIndex, cfg.AccountID, &existing)
	if err == nil {
		err = tx.Get(directory.KindAccessKey, existing, &key)
		return key, false, err
	}
	if !errors.Is(err, store.ErrNotFound) {
		return key, false, err
	}
	k := directory.AccessKey{ID: directory.NewAccessKeyID("AKIA", cfg.AccountID), Secret: directory.NewSecret(),
		Account: cfg.AccountID, Status: "Active", CreateDate: time.Now().UTC()}
	if err := tx.Put(directory.KindAccessKey, k.ID, k); err != nil {
		return k, false, err
	}
	return k, true, tx.Put(rootKeyIndex, cfg.AccountID, k.ID)
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
