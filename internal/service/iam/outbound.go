package iam

import (
	"net/http"

	"github.com/iamlocal/iamlocal/internal/outbound"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// Outbound web identity federation: the account's JWT issuer (internal/outbound).
// The issuer URL is the server as the caller reached it, under /_iamlocal/outbound-oidc/ and
// the issuer's unique id, where its discovery document and JWKS are served.

func init() {
	register(
		&service.Action{Name: "EnableOutboundWebIdentityFederation", IAMAction: "iam:EnableOutboundWebIdentityFederation",
			Write: true, Handle: enableOutboundFederation},
		&service.Action{Name: "DisableOutboundWebIdentityFederation", IAMAction: "iam:DisableOutboundWebIdentityFederation",
			Write: true, Handle: disableOutboundFederation},
		&service.Action{Name: "GetOutboundWebIdentityFederationInfo", IAMAction: "iam:GetOutboundWebIdentityFederationInfo",
			Handle: getOutboundFederationInfo},
	)
}

// AWS's messages: the model's descriptions of FeatureEnabledException and
// FeatureDisabledException.
func featureEnabled() *wire.Error {
	return wire.Errorf(http.StatusConflict, "FeatureEnabled", "The request failed because outbound identity federation is already enabled for your Amazon Web Services account. You cannot enable the feature multiple times. To fetch the current configuration (including the unique issuer URL), use the GetOutboundWebIdentityFederationInfo operation.")
}

func featureDisabled() *wire.Error {
	return wire.Errorf(http.StatusNotFound, "FeatureDisabled", "The request failed because outbound identity federation is already disabled for your Amazon Web Services account. You cannot disable the feature multiple times")
}

type outboundResult struct {
	IssuerIdentifier  string `xml:"IssuerIdentifier"`
	JwtVendingEnabled *bool  `xml:"JwtVendingEnabled,omitempty"`
}

func enableOutboundFederation(c *service.Call) (any, error) {
	cur, err := outbound.Load(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	if cur != nil && cur.Enabled {
		return nil, featureEnabled()
	}
	cfg, err := outbound.Enable(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	return &outboundResult{IssuerIdentifier: cfg.Issuer(c.Secure, c.Host)}, nil
}

func disableOutboundFederation(c *service.Call) (any, error) {
	cur, err := outbound.Load(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	if cur == nil || !cur.Enabled {
		return nil, featureDisabled()
	}
	cur.Enabled = false
	return nil, outbound.Save(c.Tx, cur)
}

// getOutboundFederationInfo: an account that never enabled the feature has no
// issuer (FeatureDisabled); one that disabled it keeps its issuer, not vending.
func getOutboundFederationInfo(c *service.Call) (any, error) {
	cur, err := outbound.Load(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, featureDisabled()
	}
	on := cur.Enabled
	return &outboundResult{IssuerIdentifier: cur.Issuer(c.Secure, c.Host), JwtVendingEnabled: &on}, nil
}
