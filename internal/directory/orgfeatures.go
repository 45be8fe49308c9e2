package directory

import (
	"encoding/json"
	"errors"

	"github.com/iamlocal/iamlocal/internal/store"
)

// Organization-wide IAM features (centralized root access). IAM's
// Enable/DisableOrganizationsRoot* actions write them; STS AssumeRoot reads them.
const KindOrgFeatures = "orgfeatures" // key: organization id (o-…)

// OrgFeatures are the centralized root access features of an organization.
type OrgFeatures struct {
	RootCredentialsManagement bool
	RootSessions              bool
}

// LoadOrgFeatures reads an organization's features; none enabled when never set.
func LoadOrgFeatures(tx store.Tx, orgID string) (OrgFeatures, error) {
	var f OrgFeatures
	err := tx.Get(KindOrgFeatures, orgID, &f)
	if errors.Is(err, store.ErrNotFound) {
		return OrgFeatures{}, nil
	}
	return f, err
}

// TrustedAccess reports whether a service principal has trusted access to the
// organization (Organizations' EnableAWSServiceAccess).
func TrustedAccess(tx store.Tx, principal string) (bool, error) {
	var record json.RawMessage
	err := tx.Get(KindServiceAccess, principal, &record)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
