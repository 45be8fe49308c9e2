package apply

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/iamlocal/iamlocal/internal/saml"
)

// SAMLProvider is an IAM SAML provider of an account: the principal of SAML
// federation that roles' trust policies name as
// {"Federated": "arn:aws:iam::ACCOUNT:saml-provider/NAME"}. Its metadata is the
// IdP's (`iamlocal saml metadata` prints the built-in IdP's).
type SAMLProvider struct {
	Pos      Pos
	Name     string `yaml:"name"`
	Metadata string `yaml:"metadata"`
}

// samlProviderName is IAM's pattern and length for a SAML provider name.
var samlProviderName = regexp.MustCompile(`^[\w._-]{1,128}$`)

// checkSAMLProviders validates an account's SAML providers as IAM would.
func (w *World) checkSAMLProviders(c *errs, r *Resources) {
	seen := map[string]bool{}
	for _, p := range r.SAMLProviders {
		switch {
		case p.Name == "":
			c.add(p.Pos.at(".name", 0), "required")
		case !samlProviderName.MatchString(p.Name):
			c.add(p.Pos.at(".name", 0), "%q is not a SAML provider name (1 to 128 letters, digits, '.', '_' or '-')", p.Name)
		case seen[p.Name]:
			c.add(p.Pos.at(".name", 0), "SAML provider %s is declared twice in this account", p.Name)
		}
		seen[p.Name] = true
		if p.Metadata == "" {
			c.add(p.Pos.at(".metadata", 0), "required: the IdP's SAML metadata document")
		} else if _, err := saml.ParseMetadata([]byte(p.Metadata)); err != nil {
			c.add(p.Pos.at(".metadata", 0), "not SAML metadata IAM accepts: %v", err)
		}
	}
}

// samlProvider makes an account's provider the file's: created when missing, its
// metadata replaced when it differs. Tags are left alone.
func (r *runner) samlProvider(ctx context.Context, a *account, p *SAMLProvider) error {
	arn := fmt.Sprintf("arn:%s:iam::%s:saml-provider/%s", r.partition, a.id, p.Name)
	var cur *iam.GetSAMLProviderOutput
	if a.exists {
		out, err := a.iam.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
		switch {
		case errorCode(err) == "NoSuchEntity":
		case err != nil:
			return r.fail(p.Pos, "read SAML provider "+p.Name, err)
		default:
			cur = out
		}
	}
	if cur == nil {
		err := r.change(Change{Op: "create", Account: a.name, Kind: "saml-provider", Name: p.Name}, func() error {
			_, err := a.iam.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String(p.Name), SAMLMetadataDocument: aws.String(p.Metadata)})
			return err
		})
		if err != nil {
			return r.fail(p.Pos, "create SAML provider "+p.Name, err)
		}
		return nil
	}
	if strings.TrimSpace(aws.ToString(cur.SAMLMetadataDocument)) == strings.TrimSpace(p.Metadata) {
		return nil
	}
	err := r.change(Change{Op: "update", Account: a.name, Kind: "saml-provider", Name: p.Name, Detail: "metadata"}, func() error {
		_, err := a.iam.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(arn), SAMLMetadataDocument: aws.String(p.Metadata)})
		return err
	})
	if err != nil {
		return r.fail(p.Pos.at(".metadata", 0), "update the metadata of SAML provider "+p.Name, err)
	}
	return nil
}
