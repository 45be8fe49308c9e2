package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/spf13/cobra"
)

// rootKeyIndex matches the server's index of root keys per account.
const rootKeyIndex = "rootkey"

func newRootKeyCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "root-key --account-id ID [--data DIR]",
		Short: "Create an access key for an account's root user (local administration)",
		Long: `root-key writes a new access key for the root user of an account that exists in the
data directory and prints it in the AWS shared-credentials format. On AWS every account
has a root user you can sign in as; iamlocal has no console, so this is how you act as
the root user of a member account — for example to accept an invitation to the
organization (an invited account has no OrganizationAccountAccessRole). It works while
the server runs.`,
		Example: `  iamlocal root-key --data .iamlocal --account-id 222222222222 > member-root.ini`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			account, _ := cmd.Flags().GetString("account-id")
			if len(account) != 12 {
				return &exitError{2, fmt.Errorf("--account-id %q: an account id has 12 digits", account)}
			}
			k, err := createRootKey(cmd.Context(), dataDir, account)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", k.ID, k.Secret)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", ".iamlocal", "the server's data `DIR`")
	cmd.Flags().String("account-id", "", "the account whose root user gets the key")
	return cmd
}

func createRootKey(ctx context.Context, dataDir, account string) (*directory.AccessKey, error) {
	st, err := store.OpenSQLite(dataDir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	k := &directory.AccessKey{ID: directory.NewAccessKeyID("AKIA", account), Secret: directory.NewSecret(),
		Account: account, Status: "Active", CreateDate: time.Now().UTC()}
	err = st.Write(ctx, func(tx store.Tx) error {
		var a directory.Account
		if err := tx.Get(directory.KindAccount, account, &a); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return &exitError{2, fmt.Errorf("account %s does not exist in %s", account, dataDir)}
			}
			return err
		}
		if err := tx.Put(directory.KindAccessKey, k.ID, k); err != nil {
			return err
		}
		return tx.Put(rootKeyIndex, account, k.ID)
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}
