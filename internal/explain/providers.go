package explain

import (
	"context"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/iamlocal/iamlocal/internal/oidc"
	"github.com/iamlocal/iamlocal/internal/policy"
)

// Identity provider types.
const (
	ProviderOIDC = "oidc"
	ProviderSAML = "saml"
)

// IdentityProvider is an identity provider a trust policy may name as Federated: an
// account's IAM OIDC or SAML provider, or one AWS federates with built in
// (accounts.google.com, cognito-identity.amazonaws.com…).
type IdentityProvider struct {
	Arn       string   `json:"arn"`                 // the provider's ARN, or the built-in provider's name
	Type      string   `json:"type"`                // "oidc" or "saml"
	URL       string   `json:"url,omitempty"`       // OIDC: the issuer, https://HOST[/PATH]
	ClientIDs []string `json:"clientIds,omitempty"` // OIDC: the audiences its tokens may have
	// BuiltIn: AWS federates with it without an IAM provider.
	BuiltIn bool `json:"builtIn,omitempty"`
	// Unregistered: a trust policy names it, but its account (which was read) has no
	// such provider, so STS refuses its tokens before reading any trust policy.
	Unregistered bool `json:"unregistered,omitempty"`
}

// ProviderSource lists an account's identity providers. AWS implements it; a Source
// without it leaves the graph with the providers trust policies name.
type ProviderSource interface {
	// IdentityProviders lists the account's providers, and the types it could list
	// (ProviderOIDC, ProviderSAML): a provider of a type not listed is not known
	// to be missing.
	IdentityProviders(ctx context.Context, account string) (providers []IdentityProvider, listed []string, err error)
}

// IdentityProviders reads ListOpenIDConnectProviders (with GetOpenIDConnectProvider
// for each URL and client ids) and ListSAMLProviders in the account. SAML providers
// are not listed from a server that does not know ListSAMLProviders (InvalidAction).
func (a *AWS) IdentityProviders(ctx context.Context, account string) ([]IdentityProvider, []string, error) {
	client, err := a.iam(ctx, account)
	if err != nil {
		return nil, nil, err
	}
	var out []IdentityProvider
	list, err := client.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return nil, nil, apiErr(err, "iam ListOpenIDConnectProviders in %s", account)
	}
	listed := []string{ProviderOIDC}
	for _, p := range list.OpenIDConnectProviderList {
		arn := aws.ToString(p.Arn)
		got, err := client.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: p.Arn})
		if err != nil {
			if ErrorCode(err) == "NoSuchEntity" {
				continue // deleted since it was listed
			}
			return nil, nil, apiErr(err, "iam GetOpenIDConnectProvider %s", arn)
		}
		ip := IdentityProvider{Arn: arn, Type: ProviderOIDC, ClientIDs: got.ClientIDList}
		if u := aws.ToString(got.Url); u != "" {
			ip.URL = "https://" + strings.TrimPrefix(u, "https://")
		}
		out = append(out, ip)
	}
	saml, err := client.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	switch {
	case err == nil:
		listed = append(listed, ProviderSAML)
		for _, p := range saml.SAMLProviderList {
			out = append(out, IdentityProvider{Arn: aws.ToString(p.Arn), Type: ProviderSAML})
		}
	case ErrorCode(err) == "InvalidAction":
	default:
		return nil, nil, apiErr(err, "iam ListSAMLProviders in %s", account)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Arn < out[j].Arn })
	return out, listed, nil
}

// federatedProvider reads a trust policy's Federated value: an OIDC or SAML
// provider's ARN (with its account and name), a built-in provider, or — anything
// else — a web identity provider of unknown kind.
func federatedProvider(v string) (ip IdentityProvider, account, name string) {
	ip = IdentityProvider{Arn: v, Type: ProviderOIDC}
	if acct, n, ok := oidc.ParseProviderARN(v); ok {
		return ip, acct, n
	}
	if acct, n, ok := samlProviderARN(v); ok {
		ip.Type = ProviderSAML
		return ip, acct, n
	}
	ip.BuiltIn = oidc.BuiltIn(v)
	return ip, "", v
}

// samlProviderARN splits arn:aws:iam::ACCOUNT:saml-provider/NAME.
func samlProviderARN(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" || len(parts[4]) != 12 {
		return "", "", false
	}
	name, ok = strings.CutPrefix(parts[5], "saml-provider/")
	if !ok || name == "" {
		return "", "", false
	}
	return parts[4], name, true
}

// providerAction is the STS action a provider's users call.
func providerAction(ip *IdentityProvider) string {
	if ip.Type == ProviderSAML {
		return "sts:AssumeRoleWithSAML"
	}
	return "sts:AssumeRoleWithWebIdentity"
}

// claimPrefix is how a provider's condition keys begin: "saml:" for SAML providers,
// "NAME:" for web identity ("token.actions.githubusercontent.com:").
func claimPrefix(ip *IdentityProvider, name string) string {
	if ip.Type == ProviderSAML {
		return "saml:"
	}
	return name + ":"
}

// claimLabel says a condition on one of the provider's keys as what the token or
// assertion must carry: `sub: repo:octo-org/octo-repo:*`, `aud: sts.amazonaws.com`,
// `amr: authenticated`, `sub not: repo:octo-org/octo-repo:pull_request`. ok is false
// for a condition on another key.
func claimLabel(ci policy.ConditionInfo, prefix string) (label, claim string, ok bool) {
	if len(ci.Key) <= len(prefix) || !strings.EqualFold(ci.Key[:len(prefix)], prefix) {
		return "", "", false
	}
	claim = ci.Key[len(prefix):]
	op := ci.Operator
	every := strings.HasPrefix(op, "ForAllValues:")
	if set, rest, found := strings.Cut(op, ":"); found && (set == "ForAnyValue" || set == "ForAllValues") {
		op = rest
	}
	op = strings.TrimSuffix(op, "IfExists")
	name := claim
	if every {
		name += " (every value)"
	}
	values := strings.Join(ci.Values, " or ")
	switch op {
	case "StringEquals", "StringLike", "StringEqualsIgnoreCase", "Bool", "NumericEquals":
		return name + ": " + values, claim, true
	case "StringNotEquals", "StringNotLike", "StringNotEqualsIgnoreCase", "NumericNotEquals":
		return name + " not: " + values, claim, true
	}
	return name + " " + op + " " + values, claim, true
}

// claimOrder puts sub first and aud second, as the products' documentation reads.
func claimOrder(claim string) int {
	switch strings.ToLower(claim) {
	case "sub":
		return 0
	case "aud":
		return 1
	}
	return 2
}
