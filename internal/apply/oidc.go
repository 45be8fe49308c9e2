package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/iamlocal/iamlocal/internal/oidc"
)

// OIDCProvider is an IAM OpenID Connect provider of an account: the principal of web
// identity federation that roles' trust policies name as
// {"Federated": "arn:aws:iam::ACCOUNT:oidc-provider/HOST[/PATH]"}.
type OIDCProvider struct {
	Pos         Pos
	URL         string `yaml:"url"`
	ClientIDs   []Ref  `yaml:"clientIds"`
	Thumbprints []Ref  `yaml:"thumbprints"`
}

// checkOIDCProviders validates an account's providers as IAM would.
func (w *World) checkOIDCProviders(c *errs, r *Resources) {
	seen := map[string]bool{}
	for _, p := range r.OIDCProviders {
		up := p.Pos.at(".url", 0)
		name, err := oidc.ParseProviderURL(p.URL)
		switch {
		case p.URL == "":
			c.add(up, "required")
		case err != nil || len(p.URL) > oidc.MaxURLLength:
			c.add(up, "%q is not an OIDC provider URL (https://HOST[/PATH], no port, query or fragment, at most %d characters)", p.URL, oidc.MaxURLLength)
		case seen[name]:
			c.add(up, "provider %s is declared twice in this account", p.URL)
		}
		seen[name] = true
		if len(p.ClientIDs) > 100 {
			c.add(p.Pos.at(".clientIds", 0), "at most 100 client ids")
		}
		for _, id := range p.ClientIDs {
			if id.Value == "" || len(id.Value) > 255 {
				c.add(id.Pos, "a client id has 1 to 255 characters")
			}
		}
		if len(p.Thumbprints) > 5 {
			c.add(p.Pos.at(".thumbprints", 0), "at most 5 thumbprints")
		}
		for _, t := range p.Thumbprints {
			if len(t.Value) != 40 || strings.Trim(strings.ToLower(t.Value), "0123456789abcdef") != "" {
				c.add(t.Pos, "%q is not a thumbprint (40 hexadecimal digits)", t.Value)
			}
		}
	}
}

func values(refs []Ref) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		if !slices.Contains(out, r.Value) {
			out = append(out, r.Value)
		}
	}
	return out
}

// oidcProvider makes an account's provider the file's: created when missing; client
// ids added and removed, thumbprints replaced when they differ. Tags are left alone.
func (r *runner) oidcProvider(ctx context.Context, a *account, p *OIDCProvider) error {
	name, err := oidc.ParseProviderURL(p.URL)
	if err != nil {
		return r.fail(p.Pos.at(".url", 0), "provider "+p.URL, err)
	}
	arn := fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", r.partition, a.id, name)
	ids, thumbs := values(p.ClientIDs), values(p.Thumbprints)
	var cur *iam.GetOpenIDConnectProviderOutput
	if a.exists {
		out, err := a.iam.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
		switch {
		case errorCode(err) == "NoSuchEntity":
		case err != nil:
			return r.fail(p.Pos, "read OIDC provider "+name, err)
		default:
			cur = out
		}
	}
	if cur == nil {
		c := Change{Op: "create", Account: a.name, Kind: "oidc-provider", Name: name}
		if len(ids) > 0 {
			c.Detail = "client ids " + strings.Join(ids, ", ")
		}
		err := r.change(c, func() error {
			_, err := a.iam.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(oidc.IssuerURL(name)),
				ClientIDList: ids, ThumbprintList: thumbs})
			return err
		})
		if err != nil {
			return r.fail(p.Pos, "create OIDC provider "+name, err)
		}
		return nil
	}
	for _, id := range ids {
		if slices.Contains(cur.ClientIDList, id) {
			continue
		}
		err := r.change(Change{Op: "create", Account: a.name, Kind: "oidc-provider", Name: name, Detail: "client id " + id}, func() error {
			_, err := a.iam.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(id)})
			return err
		})
		if err != nil {
			return r.fail(p.Pos.at(".clientIds", 0), "add client id "+id+" to "+name, err)
		}
	}
	for _, id := range cur.ClientIDList {
		if slices.Contains(ids, id) {
			continue
		}
		err := r.change(Change{Op: "delete", Account: a.name, Kind: "oidc-provider", Name: name, Detail: "client id " + id}, func() error {
			_, err := a.iam.RemoveClientIDFromOpenIDConnectProvider(ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(id)})
			return err
		})
		if err != nil {
			return r.fail(p.Pos.at(".clientIds", 0), "remove client id "+id+" from "+name, err)
		}
	}
	have := append([]string(nil), cur.ThumbprintList...)
	want := append([]string(nil), thumbs...)
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		err := r.change(Change{Op: "update", Account: a.name, Kind: "oidc-provider", Name: name, Detail: "thumbprints"}, func() error {
			_, err := a.iam.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: aws.String(arn), ThumbprintList: thumbs})
			return err
		})
		if err != nil {
			return r.fail(p.Pos.at(".thumbprints", 0), "update the thumbprints of "+name, err)
		}
	}
	return nil
}
