package iam

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// Service-specific credentials: a user name and password for CodeCommit or Amazon
// Keyspaces, or an API key for Amazon Bedrock or CloudWatch Logs. "You can have a
// maximum of two sets of service-specific credentials for each supported service
// per user" (CreateServiceSpecificCredential). The password or secret is returned
// once, by Create and Reset; the store keeps only its salted hash.

var serviceCreds = &credKind{kind: "iamservicecred", idParam: "ServiceSpecificCredentialId", idMin: 20, userMax: 64,
	userOptional: true, perUser: 2, quota: "ServiceSpecificCredentialsPerUserPerService",
	missing: "The Service Specific Credential with id %s cannot be found."}

// serviceCredServices are the services AWS issues service-specific credentials
// for; apiKey marks those whose credentials are API keys (an alias and a secret,
// optionally expiring after CredentialAgeDays).
var serviceCredServices = map[string]struct {
	apiKey bool
	prefix string
}{
	"codecommit.amazonaws.com": {},
	"cassandra.amazonaws.com":  {},
	"bedrock.amazonaws.com":    {true, "BedrockAPIKey"},
	"logs.amazonaws.com":       {true, "CloudWatchLogsAPIKey"},
}

func init() {
	k := serviceCreds
	register(
		&service.Action{Name: "CreateServiceSpecificCredential", IAMAction: "iam:CreateServiceSpecificCredential", Write: true,
			Resource: userEntity.resource, Handle: createServiceSpecificCredential},
		&service.Action{Name: "ResetServiceSpecificCredential", IAMAction: "iam:ResetServiceSpecificCredential", Write: true,
			Resource: k.resource, Handle: resetServiceSpecificCredential},
		&service.Action{Name: "UpdateServiceSpecificCredential", IAMAction: "iam:UpdateServiceSpecificCredential", Write: true,
			Resource: k.resource, Handle: k.update},
		&service.Action{Name: "ListServiceSpecificCredentials", IAMAction: "iam:ListServiceSpecificCredentials",
			Resource: k.resource, Handle: listServiceSpecificCredentials},
		&service.Action{Name: "DeleteServiceSpecificCredential", IAMAction: "iam:DeleteServiceSpecificCredential", Write: true,
			Resource: k.resource, Handle: k.delete},
	)
}

func notSupportedService(name string) *wire.Error {
	return wire.Errorf(http.StatusNotFound, "NotSupportedService", "The service %s does not support service-specific credentials.", name)
}

type serviceCredXML struct {
	CreateDate                  string `xml:"CreateDate"`
	ExpirationDate              string `xml:"ExpirationDate,omitempty"`
	ServiceName                 string `xml:"ServiceName"`
	ServiceUserName             string `xml:"ServiceUserName,omitempty"`
	ServicePassword             string `xml:"ServicePassword,omitempty"`
	ServiceCredentialAlias      string `xml:"ServiceCredentialAlias,omitempty"`
	ServiceCredentialSecret     string `xml:"ServiceCredentialSecret,omitempty"`
	ServiceSpecificCredentialID string `xml:"ServiceSpecificCredentialId"`
	UserName                    string `xml:"UserName"`
	Status                      string `xml:"Status"`
}

// newServiceCredXML describes a credential; secret, when set, is returned once.
func newServiceCredXML(cr *credential, owner, secret string) serviceCredXML {
	x := serviceCredXML{CreateDate: isoTime(cr.Uploaded), ServiceName: cr.Service, ServiceSpecificCredentialID: cr.ID,
		UserName: owner, Status: cr.Status}
	if !cr.Expires.IsZero() {
		x.ExpirationDate = isoTime(cr.Expires)
	}
	if serviceCredServices[cr.Service].apiKey {
		x.ServiceCredentialAlias, x.ServiceCredentialSecret = cr.ServiceUser, secret
	} else {
		x.ServiceUserName, x.ServicePassword = cr.ServiceUser, secret
	}
	return x
}

type serviceCredResult struct {
	ServiceSpecificCredential serviceCredXML `xml:"ServiceSpecificCredential"`
}

// newServiceSecret is a service password or API key secret: 32 random bytes.
func newServiceSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func createServiceSpecificCredential(c *service.Call) (any, error) {
	k := serviceCreds
	in := newInput(c)
	in.name("UserName", 64)
	svc, _ := in.required("ServiceName")
	days := in.intRange("CredentialAgeDays", 1, 36600, 0)
	if err := in.err(); err != nil {
		return nil, err
	}
	l, err := userEntity.load(c.Tx, c.Account(), c.Params.Get("UserName"))
	if err != nil {
		return nil, err
	}
	kind, ok := serviceCredServices[svc]
	if !ok {
		return nil, notSupportedService(svc)
	}
	if days > 0 && !kind.apiKey {
		return nil, invalidInput("CredentialAgeDays is only valid for Bedrock and CloudWatch Logs API keys.")
	}
	o := &credOwner{name: l.Name, id: l.ID}
	mine, err := k.all(c.Tx, c.Account(), o)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, cr := range mine {
		if cr.Service == svc {
			n++
		}
	}
	if err := k.room(n); err != nil {
		return nil, err
	}
	secret := newServiceSecret()
	hash, err := hashSecret(secret)
	if err != nil {
		return nil, err
	}
	cr := &credential{ID: directory.NewID("ACCA"), Account: c.Account(), UserID: o.id, Status: "Active",
		Uploaded: c.Now.UTC(), Service: svc, Secret: hash}
	// The user name has the form AWS gives it (Mary-at-123456789012); a user's second
	// credential for a service gets a suffix of its own, for the two must differ.
	cr.ServiceUser = fmt.Sprintf("%s-at-%s", o.name, c.Account())
	if kind.apiKey {
		cr.ServiceUser = fmt.Sprintf("%s-%s-at-%s", kind.prefix, strings.ToLower(directory.NewID("")[:6]), c.Account())
	} else if n > 0 {
		cr.ServiceUser = fmt.Sprintf("%s+%d-at-%s", o.name, n, c.Account())
	}
	if days > 0 {
		cr.Expires = c.Now.UTC().Add(time.Duration(days) * 24 * time.Hour)
	}
	if err := c.Tx.Put(k.kind, cr.key(), cr); err != nil {
		return nil, err
	}
	return &serviceCredResult{newServiceCredXML(cr, o.name, secret)}, nil
}

func resetServiceSpecificCredential(c *service.Call) (any, error) {
	cr, o, err := serviceCreds.find(c, nil)
	if err != nil {
		return nil, err
	}
	secret := newServiceSecret()
	if cr.Secret, err = hashSecret(secret); err != nil {
		return nil, err
	}
	if err := c.Tx.Put(serviceCreds.kind, cr.key(), cr); err != nil {
		return nil, err
	}
	return &serviceCredResult{newServiceCredXML(cr, o.name, secret)}, nil
}

type listServiceCredsResult struct {
	ServiceSpecificCredentials list[serviceCredXML] `xml:"ServiceSpecificCredentials"`
	IsTruncated                bool                 `xml:"IsTruncated"`
	Marker                     string               `xml:"Marker,omitempty"`
}

// listServiceSpecificCredentials lists a user's credentials (the caller's without
// UserName) or, with AllUsers, every user's in the account; ServiceName filters.
func listServiceSpecificCredentials(c *service.Call) (any, error) {
	in := newInput(c)
	all := in.boolean("AllUsers")
	svc := c.Params.Get("ServiceName")
	if err := in.err(); err != nil {
		return nil, err
	}
	if svc != "" {
		if _, ok := serviceCredServices[svc]; !ok {
			return nil, notSupportedService(svc)
		}
	}
	keep := func(cr *credential) bool { return svc == "" || cr.Service == svc }
	res := &listServiceCredsResult{}
	if !all {
		items, o, truncated, marker, err := serviceCreds.page(c, keep)
		if err != nil {
			return nil, err
		}
		res.IsTruncated, res.Marker = truncated, marker
		for _, cr := range items {
			res.ServiceSpecificCredentials.Member = append(res.ServiceSpecificCredentials.Member, newServiceCredXML(cr, o.name, ""))
		}
		return res, nil
	}
	if c.Params.Has("UserName") {
		return nil, invalidInput("UserName cannot be specified together with AllUsers.")
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	res.IsTruncated, res.Marker, err = scanPage(c.Tx, serviceCreds.kind, c.Account()+"/", p, func(data []byte) (bool, error) {
		cr := &credential{}
		if err := jsonUnmarshal(data, cr); err != nil || !keep(cr) {
			return false, err
		}
		u, err := userByID(c.Tx, cr.UserID)
		if err != nil {
			return false, err
		}
		res.ServiceSpecificCredentials.Member = append(res.ServiceSpecificCredentials.Member, newServiceCredXML(cr, u.Name, ""))
		return true, nil
	})
	return res, err
}
