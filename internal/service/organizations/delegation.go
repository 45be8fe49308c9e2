package organizations

import (
	"encoding/json"
	"regexp"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

func init() {
	register(
		action("EnableAWSServiceAccess", onAny, true, enableAWSServiceAccess),
		action("DisableAWSServiceAccess", onAny, true, disableAWSServiceAccess),
		action("ListAWSServiceAccessForOrganization", onAny, false, listAWSServiceAccessForOrganization),
		action("RegisterDelegatedAdministrator", onAccount, true, registerDelegatedAdministrator),
		action("DeregisterDelegatedAdministrator", onAccount, true, deregisterDelegatedAdministrator),
		action("ListDelegatedAdministrators", onAny, false, listDelegatedAdministrators),
		action("ListDelegatedServicesForAccount", onAccount, false, listDelegatedServicesForAccount),
	)
}

var servicePrincipalPattern = regexp.MustCompile(`^[\w+=,.@-]*$`)

// serviceAccess is a service with trusted access to the organization.
type serviceAccess struct {
	ServicePrincipal string
	DateEnabled      time.Time
}

// readServicePrincipal reads a ServicePrincipal member naming a service that
// integrates with Organizations (services.go).
func readServicePrincipal(v *string) (string, integration, error) {
	sp, err := needLength("ServicePrincipal", v, 1, 128)
	if err != nil {
		return "", integration{}, err
	}
	if err := checkPattern("ServicePrincipal", sp, servicePrincipalPattern); err != nil {
		return "", integration{}, err
	}
	in, ok := integrations[sp]
	if !ok {
		return "", in, invalidInput("UNRECOGNIZED_SERVICE_PRINCIPAL", "You specified a service principal that isn't recognized: %s.", sp)
	}
	return sp, in, nil
}

func serviceAccessEnabled(tx store.Tx, sp string) (bool, error) {
	var sa serviceAccess
	err := tx.Get(directory.KindServiceAccess, sp, &sa)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func notAllFeatures() error {
	return constraintViolation("ORGANIZATION_NOT_IN_ALL_FEATURES_MODE", "You attempted to perform an operation that requires the organization to be configured to support all features. An organization that supports only consolidated billing features can't perform this operation.")
}

// servicePrincipalRequest reads a request whose one member names a service that
// integrates with Organizations, for the management account.
func servicePrincipalRequest(c *service.Call) (*directory.Organization, string, error) {
	var in struct{ ServicePrincipal *string }
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, "", err
	}
	sp, _, err := readServicePrincipal(in.ServicePrincipal)
	return org, sp, err
}

func enableAWSServiceAccess(c *service.Call) (any, error) {
	org, sp, err := servicePrincipalRequest(c)
	if err != nil {
		return nil, err
	}
	if org.FeatureSet != "ALL" {
		return nil, notAllFeatures()
	}
	// Enabling an enabled service changes nothing, its DateEnabled included.
	if _, err := c.Tx.Insert(directory.KindServiceAccess, sp, serviceAccess{sp, c.Now.UTC()}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func disableAWSServiceAccess(c *service.Call) (any, error) {
	org, sp, err := servicePrincipalRequest(c)
	if err != nil {
		return nil, err
	}
	for typ, pt := range policyTypes {
		if pt.service == sp && enabled(org, typ) {
			return nil, constraintViolation("POLICY_TYPE_ENABLED_FOR_THIS_SERVICE", "You attempted to disable service access before you disabled the policy type %s. To complete this operation, you must first disable the policy type.", typ)
		}
	}
	if _, err := c.Tx.Delete(directory.KindServiceAccess, sp); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type enabledServiceOut struct {
	ServicePrincipal string
	DateEnabled      *epoch `json:",omitempty"`
}

func listAWSServiceAccessForOrganization(c *service.Call) (any, error) {
	var in struct{ pageIn }
	if _, err := decodeForManagement(c, &in); err != nil {
		return nil, err
	}
	items, err := scanKind(c.Tx, directory.KindServiceAccess, "", func(sa *serviceAccess) (string, enabledServiceOut, bool) {
		return sa.ServicePrincipal, enabledServiceOut{sa.ServicePrincipal, stamp(sa.DateEnabled)}, true
	})
	if err != nil {
		return nil, err
	}
	return page("EnabledServicePrincipals", in.pageIn, items)
}

// scanKind reads the stored objects of a kind whose key starts with prefix and
// keeps those keep accepts, as items of a listing.
func scanKind[S, T any](tx store.Tx, kind, prefix string, keep func(*S) (string, T, bool)) ([]keyed[T], error) {
	var items []keyed[T]
	err := tx.Scan(kind, prefix, "", 0, func(_ string, data []byte) (bool, error) {
		var s S
		if err := json.Unmarshal(data, &s); err != nil {
			return false, err
		}
		if key, v, ok := keep(&s); ok {
			items = append(items, keyed[T]{key, v})
		}
		return true, nil
	})
	return items, err
}

type delegationIn struct {
	AccountId        *string
	ServicePrincipal *string
}

// readDelegation reads a Register/DeregisterDelegatedAdministrator request: a member
// account of the organization and a service that integrates with it.
func readDelegation(c *service.Call) (*directory.Organization, *directory.Account, string, integration, error) {
	var in delegationIn
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, nil, "", integration{}, err
	}
	id, err := needID("AccountId", in.AccountId, accountIDPattern)
	if err != nil {
		return nil, nil, "", integration{}, err
	}
	sp, svc, err := readServicePrincipal(in.ServicePrincipal)
	if err != nil {
		return nil, nil, "", integration{}, err
	}
	a, err := memberAccount(c, "AccountId", &id)
	if err != nil {
		return nil, nil, "", integration{}, err
	}
	return org, a, sp, svc, nil
}

func registerDelegatedAdministrator(c *service.Call) (any, error) {
	org, a, sp, svc, err := readDelegation(c)
	if err != nil {
		return nil, err
	}
	switch {
	case a.ID == org.MasterAccountID:
		return nil, constraintViolation("CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR", "You attempted to register the management account of the organization as a delegated administrator for an Amazon Web Services service integrated with Organizations. You can designate only a member account as a delegated administrator.")
	case a.Closed():
		return nil, constraintViolation("CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR", "You cannot register a suspended account as a delegated administrator.")
	case svc.admins == 0:
		return nil, invalidInput("UNRECOGNIZED_SERVICE_PRINCIPAL", "%s (%s) does not support delegated administrators.", sp, svc.service)
	}
	on, err := serviceAccessEnabled(c.Tx, sp)
	if err != nil {
		return nil, err
	}
	if !on {
		return nil, constraintViolation("SERVICE_ACCESS_NOT_ENABLED", "You attempted to register a delegated administrator before you enabled service access. Call the EnableAWSServiceAccess API first.")
	}
	admins, err := scanKind(c.Tx, directory.KindDelegatedAdmin, "", func(d *directory.DelegatedAdmin) (string, string, bool) {
		return d.Account, d.Account, d.ServicePrincipal == sp
	})
	if err != nil {
		return nil, err
	}
	for _, d := range admins {
		if d.key == a.ID {
			return nil, orgError("AccountAlreadyRegisteredException", "The specified account is already a delegated administrator for this Amazon Web Services service.")
		}
	}
	switch {
	case svc.admins == 1 && len(admins) > 0:
		return nil, constraintViolation("DELEGATED_ADMINISTRATOR_EXISTS_FOR_THIS_SERVICE", "You attempted to register an Amazon Web Services account as a delegated administrator for an Amazon Web Services service that already has a delegated administrator. To complete this operation, you must first deregister any existing delegated administrators for this service.")
	case len(admins) >= svc.admins:
		return nil, constraintViolation("MAX_DELEGATED_ADMINISTRATORS_FOR_SERVICE_LIMIT_EXCEEDED", "You attempted to register more delegated administrators than allowed for the service principal (%d).", svc.admins)
	}
	d := directory.DelegatedAdmin{Account: a.ID, ServicePrincipal: sp, Since: c.Now.UTC()}
	return struct{}{}, c.Tx.Put(directory.KindDelegatedAdmin, directory.DelegatedAdminKey(a.ID, sp), d)
}

func accountNotRegistered() error {
	return orgError("AccountNotRegisteredException", "The specified account is not a delegated administrator for this Amazon Web Services service.")
}

func deregisterDelegatedAdministrator(c *service.Call) (any, error) {
	_, a, sp, _, err := readDelegation(c)
	if err != nil {
		return nil, err
	}
	ok, err := c.Tx.Delete(directory.KindDelegatedAdmin, directory.DelegatedAdminKey(a.ID, sp))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, accountNotRegistered()
	}
	return struct{}{}, nil
}

type delegatedAdminOut struct {
	accountOut
	DelegationEnabledDate *epoch `json:",omitempty"`
}

func listDelegatedAdministrators(c *service.Call) (any, error) {
	var in struct {
		ServicePrincipal *string
		pageIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	sp := ""
	if in.ServicePrincipal != nil {
		if sp, _, err = readServicePrincipal(in.ServicePrincipal); err != nil {
			return nil, err
		}
	}
	// One row an account, with the date of its first delegation that the filter keeps.
	since := map[string]time.Time{}
	_, err = scanKind(c.Tx, directory.KindDelegatedAdmin, "", func(d *directory.DelegatedAdmin) (string, bool, bool) {
		if t, seen := since[d.Account]; (sp == "" || d.ServicePrincipal == sp) && (!seen || d.Since.Before(t)) {
			since[d.Account] = d.Since
		}
		return "", false, false
	})
	if err != nil {
		return nil, err
	}
	var items []keyed[delegatedAdminOut]
	for id, t := range since {
		a, err := loadAccount(c.Tx, id)
		if err != nil {
			return nil, err
		}
		if a == nil {
			continue
		}
		out, err := newAccountOut(c.Tx, org, a, c.Now)
		if err != nil {
			return nil, err
		}
		out.Paths = nil
		items = append(items, keyed[delegatedAdminOut]{id, delegatedAdminOut{out, stamp(t)}})
	}
	return page("DelegatedAdministrators", in.pageIn, items)
}

type delegatedServiceOut struct {
	ServicePrincipal      string
	DelegationEnabledDate *epoch `json:",omitempty"`
}

func listDelegatedServicesForAccount(c *service.Call) (any, error) {
	var in struct {
		AccountId *string
		pageIn
	}
	if _, err := decodeForManagement(c, &in); err != nil {
		return nil, err
	}
	a, err := memberAccount(c, "AccountId", in.AccountId)
	if err != nil {
		return nil, err
	}
	items, err := scanKind(c.Tx, directory.KindDelegatedAdmin, a.ID+"/", func(d *directory.DelegatedAdmin) (string, delegatedServiceOut, bool) {
		return d.ServicePrincipal, delegatedServiceOut{d.ServicePrincipal, stamp(d.Since)}, true
	})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, accountNotRegistered()
	}
	return page("DelegatedServices", in.pageIn, items)
}

// checkNotDelegatedAdmin refuses to take a delegated administrator out of the
// organization: "If the account is a delegated administrator, you must first change
// the delegated administrator account to another account that is remaining in the
// organization" (RemoveAccountFromOrganization, LeaveOrganization).
func checkNotDelegatedAdmin(tx store.Tx, account string) error {
	da, err := isDelegatedAdmin(tx, account)
	if err != nil {
		return err
	}
	if da {
		return constraintViolation("CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG", "You attempted to remove an account that is registered as a delegated administrator for a service integrated with your organization. To complete this operation, you must first deregister this account as a delegated administrator.")
	}
	return nil
}
