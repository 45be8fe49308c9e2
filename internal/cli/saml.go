package cli

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/broker"
	"github.com/iamlocal/iamlocal/internal/saml"
	"github.com/iamlocal/iamlocal/internal/service/local"
	"github.com/spf13/cobra"
)

func newSAMLCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "saml",
		Short: "A built-in SAML identity provider: metadata to register, signed assertions to assume roles with",
		Long: `The server keeps SAML identity providers of its own, by name: each has an RSA key
and a self-signed certificate, made on first use and kept in the server's store. Register
one with IAM (aws iam create-saml-provider --saml-metadata-document file://…), then
ask it for signed SAMLResponses to pass to aws sts assume-role-with-saml — as an
Okta or AD FS would after a login. Both commands sign their request with your AWS
credentials; the server allows iamlocal:GetSAMLIdPMetadata and
iamlocal:SignSAMLAssertion to the root user and to principals whose policies allow
them.`,
	}
	cmd.AddCommand(newSAMLMetadataCmd(), newSAMLAssertionCmd())
	return cmd
}

func newSAMLMetadataCmd() *cobra.Command {
	var (
		opts              broker.Options
		name, entity, sso string
		out               string
	)
	cmd := &cobra.Command{
		Use:   "metadata --name IDP [--entity-id ID]",
		Short: "Print an identity provider's SAML metadata (making the IdP on first use)",
		Example: `  iamlocal saml metadata --endpoint-url http://127.0.0.1:4577 --name corp > corp.xml
  aws --endpoint-url http://127.0.0.1:4577 iam create-saml-provider --name corp --saml-metadata-document file://corp.xml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return &exitError{2, errors.New("give --name: the identity provider's name")}
			}
			api, err := newLocalAPI(cmd.Context(), opts)
			if err != nil {
				return err
			}
			var res struct{ Name, EntityId, Metadata string }
			in := map[string]string{"Name": name, "EntityId": entity, "SSOUrl": sso}
			if err := api.call(cmd.Context(), "GetSAMLIdPMetadata", in, &res); err != nil {
				return err
			}
			if out != "" {
				return os.WriteFile(out, []byte(res.Metadata), 0o644)
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.Metadata)
			return nil
		},
	}
	addClientFlags(cmd, &opts)
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "the identity provider's `NAME`")
	fl.StringVar(&entity, "entity-id", "", "a new IdP's entity id, the Issuer of its assertions (default urn:iamlocal:saml:idp:NAME)")
	fl.StringVar(&sso, "sso-url", "", "the SingleSignOnService `URL` the metadata shows")
	fl.StringVar(&out, "out", "", "write the metadata to `FILE` instead of standard output")
	return cmd
}

// samlAttributeNames are the friendly names --attr takes for the attributes AWS maps
// to trust policy keys (IAM User Guide, "Mapping SAML attributes to AWS trust policy
// context keys").
var samlAttributeNames = map[string]string{
	"edupersonaffiliation":         "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
	"edupersonnickname":            "urn:oid:1.3.6.1.4.1.5923.1.1.1.2",
	"edupersonorgdn":               "urn:oid:1.3.6.1.4.1.5923.1.1.1.3",
	"edupersonorgunitdn":           "urn:oid:1.3.6.1.4.1.5923.1.1.1.4",
	"edupersonprimaryaffiliation":  "urn:oid:1.3.6.1.4.1.5923.1.1.1.5",
	"edupersonprincipalname":       "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
	"edupersonentitlement":         "urn:oid:1.3.6.1.4.1.5923.1.1.1.7",
	"edupersonprimaryorgunitdn":    "urn:oid:1.3.6.1.4.1.5923.1.1.1.8",
	"edupersonscopedaffiliation":   "urn:oid:1.3.6.1.4.1.5923.1.1.1.9",
	"edupersontargetedid":          "urn:oid:1.3.6.1.4.1.5923.1.1.1.10",
	"edupersonassurance":           "urn:oid:1.3.6.1.4.1.5923.1.1.1.11",
	"eduorghomepageuri":            "urn:oid:1.3.6.1.4.1.5923.1.2.1.2",
	"eduorgidentityauthnpolicyuri": "urn:oid:1.3.6.1.4.1.5923.1.2.1.3",
	"eduorglegalname":              "urn:oid:1.3.6.1.4.1.5923.1.2.1.4",
	"eduorgsuperioruri":            "urn:oid:1.3.6.1.4.1.5923.1.2.1.5",
	"eduorgwhitepagesuri":          "urn:oid:1.3.6.1.4.1.5923.1.2.1.6",
	"cn":                           "urn:oid:2.5.4.3",
	"name":                         "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
	"commonname":                   "http://schemas.xmlsoap.org/claims/CommonName",
	"givenname":                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
	"surname":                      "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
	"mail":                         "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
	"uid":                          "0.9.2342.19200300100.1.1",
}

// attributeName is the SAML Name of an --attr NAME: a friendly name above, a
// PrincipalTag:KEY shorthand, or the Name itself.
func attributeName(n string) string {
	if full, ok := samlAttributeNames[strings.ToLower(n)]; ok {
		return full
	}
	if k, ok := strings.CutPrefix(n, "PrincipalTag:"); ok {
		return saml.AttrPrincipalTagPrefix + k
	}
	return n
}

func newSAMLAssertionCmd() *cobra.Command {
	var (
		opts                                 broker.Options
		req                                  local.SignRequest
		roles, attrs, tags, transitive       []string
		sessionDuration, validFor, issuedAgo time.Duration
		subjectFormat, encryptFor            string
		decode                               bool
	)
	cmd := &cobra.Command{
		Use:   "assertion --idp IDP --subject S --role ROLE_ARN,PROVIDER_ARN [flags]",
		Short: "Print a base64 SAMLResponse signed by an identity provider of the server",
		Long: `assertion asks the server's identity provider IDP to sign a SAML response for
SUBJECT, with the attributes AWS reads: Role (one --role per role and provider pair),
RoleSessionName (default the subject), SessionDuration, SourceIdentity, session tags
(--tag KEY=VALUE, --transitive KEY) and any other attribute (--attr NAME=VALUE,
repeated for several values; NAME may be a friendly name such as
eduPersonPrincipalName, mail or givenName, which AWS maps to saml:* keys). The
response is signed with XML-DSig (RSA-SHA256, exclusive canonicalization); pass it to
aws sts assume-role-with-saml --saml-assertion.`,
		Example: `  SAML=$(iamlocal saml assertion --endpoint-url http://127.0.0.1:4577 --idp corp --subject alice \
      --role arn:aws:iam::111111111111:role/dev,arn:aws:iam::111111111111:saml-provider/corp \
      --attr eduPersonPrincipalName=alice@example.edu --tag team=blue)
  aws --endpoint-url http://127.0.0.1:4577 sts assume-role-with-saml \
      --role-arn arn:aws:iam::111111111111:role/dev \
      --principal-arn arn:aws:iam::111111111111:saml-provider/corp --saml-assertion "$SAML"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.IdP == "" || req.Subject == "" {
				return &exitError{2, errors.New("give --idp and --subject")}
			}
			for _, r := range roles {
				if !strings.Contains(r, ",") {
					return &exitError{2, fmt.Errorf("--role %s: give ROLE_ARN,PROVIDER_ARN", r)}
				}
				req.Roles = append(req.Roles, r)
			}
			byName := map[string]int{}
			add := func(name, value string) {
				if i, ok := byName[name]; ok {
					req.Attributes[i].Values = append(req.Attributes[i].Values, value)
					return
				}
				byName[name] = len(req.Attributes)
				req.Attributes = append(req.Attributes, saml.Attribute{Name: name, Values: []string{value}})
			}
			for _, a := range attrs {
				k, v, ok := strings.Cut(a, "=")
				if !ok || k == "" {
					return &exitError{2, fmt.Errorf("--attr %s: give NAME=VALUE", a)}
				}
				add(attributeName(k), v)
			}
			for _, t := range tags {
				k, v, ok := strings.Cut(t, "=")
				if !ok || k == "" {
					return &exitError{2, fmt.Errorf("--tag %s: give KEY=VALUE", t)}
				}
				add(saml.AttrPrincipalTagPrefix+k, v)
			}
			for _, k := range transitive {
				add(saml.AttrTransitiveTagKeys, k)
			}
			switch f := subjectFormat; f {
			case "", "persistent", "transient":
				if f != "" {
					req.SubjectFormat = saml.NameIDFormatPrefix + f
				}
			default:
				req.SubjectFormat = f
			}
			if encryptFor != "" {
				pemText, err := os.ReadFile(encryptFor)
				if err != nil {
					return &exitError{2, err}
				}
				req.EncryptFor = string(pemText)
			}
			req.SessionDuration = int(sessionDuration / time.Second)
			req.ValidForSeconds = int(validFor / time.Second)
			req.IssuedSecondsAgo = int(issuedAgo / time.Second)
			api, err := newLocalAPI(cmd.Context(), opts)
			if err != nil {
				return err
			}
			var res struct{ SAMLResponse, Issuer string }
			if err := api.call(cmd.Context(), "SignSAMLAssertion", &req, &res); err != nil {
				return err
			}
			if decode {
				xml, err := base64.StdEncoding.DecodeString(res.SAMLResponse)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(xml))
				return nil
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.SAMLResponse)
			return nil
		},
	}
	addClientFlags(cmd, &opts)
	fl := cmd.Flags()
	fl.StringVar(&req.IdP, "idp", "", "the identity provider's `NAME` (see iamlocal saml metadata)")
	fl.StringVar(&req.Subject, "subject", "", "the NameID: who logged in")
	fl.StringVar(&subjectFormat, "subject-format", "", "the NameID Format: persistent (default), transient, or a full URI")
	fl.StringArrayVar(&roles, "role", nil, "a `ROLE_ARN,PROVIDER_ARN` pair of the Role attribute (repeatable)")
	fl.StringVar(&req.RoleSessionName, "session-name", "", "the RoleSessionName attribute (default the subject)")
	fl.DurationVar(&sessionDuration, "session-duration", 0, "the SessionDuration attribute (e.g. 1h)")
	fl.StringVar(&req.SourceIdentity, "source-identity", "", "the SourceIdentity attribute")
	fl.StringArrayVar(&attrs, "attr", nil, "an attribute `NAME=VALUE` (repeatable; repeat a NAME for several values)")
	fl.StringArrayVar(&tags, "tag", nil, "a session tag `KEY=VALUE` (a PrincipalTag attribute; repeatable)")
	fl.StringArrayVar(&transitive, "transitive", nil, "a transitive session tag `KEY` (repeatable)")
	fl.StringVar(&req.Recipient, "recipient", "", "the SubjectConfirmationData Recipient (default https://signin.aws.amazon.com/saml)")
	fl.StringVar(&req.Audience, "audience", "", "the Audience (default https://signin.aws.amazon.com/saml)")
	fl.DurationVar(&validFor, "valid-for", 0, "how long the assertion may be redeemed (default 5m)")
	fl.DurationVar(&issuedAgo, "issued-ago", 0, "back-date the response, to try expiry")
	fl.StringVar(&req.Sign, "sign", "assertion", "what to sign: assertion, response or both")
	fl.StringVar(&encryptFor, "encrypt-for", "", "encrypt the assertion to the RSA key in this PEM `FILE` (public key, certificate, or the private key given to AddPrivateKey)")
	fl.BoolVar(&decode, "decode", false, "print the response's XML instead of base64")
	return cmd
}
