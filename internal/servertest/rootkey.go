package servertest

import (
	"context"
	"testing"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/store"
)

// RootKey gives the root user of an existing account a new long-term access key and
// returns it. It is iamlocal's test-only way to act as the root user of a member or
// invited account, which on AWS one reaches by signing in with the account's email
// address: neither CreateAccount nor InviteAccountToOrganization create root keys.
// It writes the store directly; nothing on the AWS wire can do this.
func (s *Server) RootKey(t testing.TB, account string) Creds {
	t.Helper()
	k := directory.AccessKey{ID: directory.NewAccessKeyID("AKIA", account), Secret: directory.NewSecret(),
		Account: account, Status: "Active", CreateDate: time.Now().UTC()}
	err := s.Env.Store.Write(context.Background(), func(tx store.Tx) error {
		var a directory.Account
		if err := tx.Get(directory.KindAccount, account, &a); err != nil {
			return err
		}
		if err := tx.Put(directory.KindAccessKey, k.ID, k); err != nil {
			return err
		}
		// The IAM package's index of an owner's keys (internal/service/iam/accesskeys.go),
		// so that ListAccessKeys by the root user shows this one.
		return tx.Put("userkey", directory.NameKey(account, "")+"/"+k.ID, k.ID)
	})
	if err != nil {
		t.Fatalf("root key for account %s: %v", account, err)
	}
	return Creds{ID: k.ID, Secret: k.Secret}
}
