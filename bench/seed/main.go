// Command seed fills a data directory with many accounts and roles, straight into the
// store, for the memory benchmark of bench/RESULTS.md: `iamlocal serve` is then
// started on it and driven with AssumeRole into roles spread over every account.
//
//	seed -data DIR -accounts 10000 -roles 20
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/store"
)

func main() {
	dir := flag.String("data", ".iamlocal-seed", "data directory")
	accounts := flag.Int("accounts", 10000, "member accounts")
	roles := flag.Int("roles", 20, "roles per account")
	trusted := flag.String("trust", "111111111111", "account every role trusts")
	flag.Parse()
	st, err := store.OpenSQLite(*dir)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, *trusted)
	const batch = 200 // accounts per transaction
	for first := 0; first < *accounts; first += batch {
		err := st.Write(context.Background(), func(tx store.Tx) error {
			for a := first; a < min(first+batch, *accounts); a++ {
				id := fmt.Sprintf("%012d", 200000000000+a)
				if err := tx.Put(directory.KindAccount, id, directory.Account{ID: id, Name: "seed-" + id, Status: "ACTIVE",
					JoinedMethod: "CREATED", JoinedAt: start}); err != nil {
					return err
				}
				for r := 0; r < *roles; r++ {
					name := fmt.Sprintf("role-%02d", r)
					role := directory.Role{Principal: directory.Principal{Account: id, Name: name, Path: "/",
						ID: directory.NewID("AROA"), Arn: "arn:aws:iam::" + id + ":role/" + name, CreateDate: start,
						InlinePolicies:   map[string]string{"read": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`},
						AttachedPolicies: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}},
						AssumeRolePolicy: trust, MaxSessionDuration: 3600}
					if err := tx.Put(directory.KindRole, directory.NameKey(id, name), &role); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("seeded %d accounts × %d roles in %v\n", *accounts, *roles, time.Since(start).Round(time.Millisecond))
}
