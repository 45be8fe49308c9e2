package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/broker"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/explain"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/policycheck"
	"github.com/iamlocal/iamlocal/internal/saml"
	"github.com/iamlocal/iamlocal/internal/service/sts"
	"github.com/iamlocal/iamlocal/internal/wire"
	"github.com/spf13/cobra"
)

// `iamlocal doctor assume-role-with-saml`: every check STS makes of an
// AssumeRoleWithSAML call, run by the server's own functions on what IAM's public
// API returns (GetSAMLProvider, GetRole), with the assertion's claims shown and, for
// a trust policy that says no, the condition of each statement that did not match.

type samlDoctor struct {
	opts                  broker.Options
	roleArn, principalArn string
	assertion             string
	duration              time.Duration
	at                    string
	asJSON                bool
}

func newDoctorSAMLCmd() *cobra.Command {
	var d samlDoctor
	cmd := &cobra.Command{
		Use:   "assume-role-with-saml --role-arn ARN --principal-arn PROVIDER_ARN --saml-assertion B64|@FILE|- [--json]",
		Short: "Check why a SAML assertion does or does not assume a role",
		Long: `assume-role-with-saml checks an AssumeRoleWithSAML call as STS does, showing the
assertion's claims: the SAML provider exists, the response's signature verifies with its
certificates, the issuer is the provider's, AWS is an audience and the recipient, the
times, the Role attribute pairs the role with the provider, RoleSessionName and the
other attributes, the role exists, and its trust policy — decided by the engine with
the saml:* keys — allows the provider (with, for a statement that does not apply, the
condition that failed). --at decides the times at another moment (RFC 3339).`,
		Example: `  iamlocal doctor assume-role-with-saml --role-arn arn:aws:iam::111111111111:role/dev \
      --principal-arn arn:aws:iam::111111111111:saml-provider/corp --saml-assertion @response.b64`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if d.roleArn == "" || d.principalArn == "" || d.assertion == "" {
				return &exitError{2, errors.New("give --role-arn, --principal-arn and --saml-assertion")}
			}
			text, err := readArg(d.assertion, cmd.InOrStdin())
			if err != nil {
				return &exitError{2, err}
			}
			now := time.Now()
			if d.at != "" {
				if now, err = time.Parse(time.RFC3339, d.at); err != nil {
					return &exitError{2, fmt.Errorf("--at %q: %v", d.at, err)}
				}
			}
			cfg, err := broker.Load(cmd.Context(), d.opts)
			if err != nil {
				return err
			}
			r, err := d.run(cmd.Context(), iam.NewFromConfig(cfg), strings.TrimSpace(text), now)
			if err != nil {
				return err
			}
			return reportResult(cmd, r, d.asJSON)
		},
	}
	addClientFlags(cmd, &d.opts)
	fl := cmd.Flags()
	fl.StringVar(&d.roleArn, "role-arn", "", "the role to assume (`ARN`)")
	fl.StringVar(&d.principalArn, "principal-arn", "", "the SAML provider (`ARN`)")
	fl.StringVar(&d.assertion, "saml-assertion", "", "the base64 SAMLResponse, @FILE, or - for standard input")
	fl.DurationVar(&d.duration, "duration", time.Hour, "the DurationSeconds the call would ask for")
	fl.StringVar(&d.at, "at", "", "decide the times at this moment (RFC 3339) instead of now")
	fl.BoolVar(&d.asJSON, "json", false, "print the checks as JSON")
	return cmd
}

// readArg reads VALUE, @FILE or - (standard input).
func readArg(v string, stdin io.Reader) (string, error) {
	switch {
	case v == "-":
		b, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
		return string(b), err
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		return string(b), err
	}
	return v, nil
}

func wireDetail(err error) string {
	var we *wire.Error
	if errors.As(err, &we) {
		return we.Code + ": " + we.Message
	}
	return err.Error()
}

func (d *samlDoctor) run(ctx context.Context, client *iam.Client, assertion string, now time.Time) (*explain.Report, error) {
	r := &explain.Report{Principal: d.principalArn, Action: "sts:AssumeRoleWithSAML", Resource: d.roleArn, Decision: authz.ImplicitDeny.String()}
	if info, ok := policycheck.DescribeAction(r.Action, r.Resource); ok {
		r.ActionInfo = &info
	}
	add := func(name string, err error, ok string) bool {
		c := explain.Check{Name: name, Status: explain.StatusOK, Detail: ok}
		if err != nil {
			c.Status, c.Detail = explain.StatusFail, wireDetail(err)
		}
		r.Checks = append(r.Checks, c)
		return err == nil
	}
	skip := func(name, why string) {
		r.Checks = append(r.Checks, explain.Check{Name: name, Status: explain.StatusSkip, Detail: why})
	}

	// The provider, as IAM returns it.
	account, name, ok := directory.SAMLProviderName(d.principalArn)
	if !ok {
		return nil, &exitError{2, fmt.Errorf("--principal-arn %s: want arn:aws:iam::ACCOUNT:saml-provider/NAME", d.principalArn)}
	}
	got, err := client.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(d.principalArn)})
	var provider *directory.SAMLProvider
	if err == nil {
		md, perr := saml.ParseMetadata([]byte(aws.ToString(got.SAMLMetadataDocument)))
		if perr != nil {
			return nil, fmt.Errorf("the metadata of %s: %v", d.principalArn, perr)
		}
		provider = &directory.SAMLProvider{Account: account, Name: name, Arn: d.principalArn, EntityID: md.EntityID,
			AssertionEncryptionMode: string(got.AssertionEncryptionMode)}
		for _, c := range md.Certs {
			provider.Certs = append(provider.Certs, c.Raw)
		}
	}
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae) && ae.ErrorCode() == "NoSuchEntity":
		add("SAML provider exists", errors.New("InvalidIdentityToken: Specified provider doesn't exist."), "")
	case err != nil:
		return nil, err
	default:
		add("SAML provider exists", nil, fmt.Sprintf("%s, entity id %s, %d signing certificate(s)", d.principalArn, provider.EntityID, len(provider.Certs)))
	}

	var a *saml.Assertion
	if provider != nil {
		a, err = sts.VerifySAML(provider, assertion, nil)
		add("signature", err, "verified with a certificate of the provider")
	} else {
		skip("signature", "no provider to verify with")
	}
	if a == nil {
		// Show what the response says, unverified, to help find the cause.
		if raw, derr := saml.Decode(assertion); derr == nil {
			r.Notes = append(r.Notes, "the response could not be verified; its issuer and subject, unverified: "+unverifiedSummary(raw))
		}
		for _, n := range []string{"assertion", "Role attribute and session name", "role exists", "trust policy allows the provider"} {
			skip(n, "no verified assertion")
		}
		r.Checks = append(r.Checks, explain.Check{Name: "decision", Status: explain.StatusFail, Detail: "the call would fail before the trust policy is read"})
		return r, nil
	}
	r.Notes = append(r.Notes, claims(a)...)
	req := &sts.SAMLRequest{RoleArn: d.roleArn, PrincipalArn: d.principalArn, Assertion: a, Provider: provider}
	for _, c := range sts.SAMLChecks(req, now) {
		var err error
		if c.Err != nil {
			err = c.Err
		}
		add(c.Name, err, "")
	}
	attrs, err := sts.ReadSAMLAttributes(req)
	var pairs []string
	if attrs != nil {
		for _, p := range attrs.Roles {
			pairs = append(pairs, p[0]+","+p[1])
		}
	}
	if err != nil && pairs == nil {
		pairs = a.Values(saml.AttrRole)
	}
	detail := fmt.Sprintf("session %s", func() string {
		if attrs != nil {
			return attrs.SessionName
		}
		return "-"
	}())
	if err != nil && len(pairs) > 0 {
		err = fmt.Errorf("%s (the Role attribute pairs: %s; the call asks for %s,%s)", wireDetail(err), strings.Join(pairs, " "), d.roleArn, d.principalArn)
	}
	if !add("Role attribute and session name", err, detail) {
		attrs = nil
	}

	// The role and its trust policy, decided by the engine.
	role, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(d.roleArn[strings.LastIndexByte(d.roleArn, '/')+1:])})
	switch {
	case errors.As(err, &ae) && ae.ErrorCode() == "NoSuchEntity":
		add("role exists", errors.New("AccessDenied: Not authorized to perform sts:AssumeRoleWithSAML (the role does not exist)"), "")
		role = nil
	case err != nil:
		return nil, err
	case aws.ToString(role.Role.Arn) != d.roleArn:
		add("role exists", fmt.Errorf("AccessDenied: Not authorized to perform sts:AssumeRoleWithSAML (the role's ARN is %s)", aws.ToString(role.Role.Arn)), "")
		role = nil
	default:
		add("role exists", nil, fmt.Sprintf("%s (MaxSessionDuration %d s)", d.roleArn, aws.ToInt32(role.Role.MaxSessionDuration)))
	}
	if role == nil || attrs == nil {
		skip("trust policy allows the provider", "no role or no readable attributes")
		r.Checks = append(r.Checks, explain.Check{Name: "decision", Status: explain.StatusFail, Detail: "AccessDenied: Not authorized to perform sts:AssumeRoleWithSAML"})
		return r, nil
	}
	doc, err := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
	if err != nil {
		return nil, err
	}
	trust, err := policy.ParseLenient([]byte(doc), policy.Trust)
	if err != nil {
		return nil, fmt.Errorf("the trust policy of %s: %v", d.roleArn, err)
	}
	ctxKeys := sts.SAMLContext(req, attrs)
	actions := []string{"sts:AssumeRoleWithSAML"}
	if len(attrs.Tags) > 0 || len(attrs.Transitive) > 0 {
		actions = append(actions, "sts:TagSession")
	}
	if attrs.SourceIdentity != "" {
		actions = append(actions, "sts:SetSourceIdentity")
	}
	allowed := true
	for _, action := range actions {
		pr := &policy.Request{Caller: sts.SAMLCaller(d.principalArn), Action: action, Resource: d.roleArn,
			ResourceAccount: policy.OwnerAccount(d.roleArn), Context: ctxKeys}
		pr.Prepare()
		dec := &authz.Decision{}
		authz.Decide(pr, &authz.Input{Resource: trust, ResourceKind: authz.TrustPolicy}, dec)
		c := explain.Check{Name: "trust policy allows " + action, Status: explain.StatusOK, Detail: "a statement names the provider and its conditions hold"}
		if !dec.Allowed() {
			allowed = false
			c.Status, c.Detail = explain.StatusFail, "AccessDenied: Not authorized to perform sts:AssumeRoleWithSAML"
			for i := range trust.Statements {
				st := &trust.Statements[i]
				label := fmt.Sprintf("statement %d", i+1)
				if st.Sid != "" {
					label += " (" + st.Sid + ")"
				}
				if st.Effect == policy.Deny {
					if st.Explain(pr) == nil {
						c.Detail += "; " + label + " denies it"
					}
					continue
				}
				if m := st.Explain(pr); m != nil {
					c.Detail += fmt.Sprintf("; %s: %s", label, m.Detail)
				}
			}
			if action == "sts:TagSession" {
				c.Fix = "add sts:TagSession to the Action of the trust statement that names the provider (the assertion passes PrincipalTag attributes)"
			}
		}
		r.Checks = append(r.Checks, c)
	}
	ch := explain.Check{Name: "MaxSessionDuration", Status: explain.StatusOK}
	max := time.Duration(aws.ToInt32(role.Role.MaxSessionDuration)) * time.Second
	ch.Detail = fmt.Sprintf("%d s asked, the role allows up to %d s", int(d.duration.Seconds()), int(max.Seconds()))
	if d.duration > max {
		ch.Status, ch.Detail = explain.StatusFail, "ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
	}
	r.Checks = append(r.Checks, ch)
	ok = allowed && len(r.Failed()) == 0
	if ok {
		r.Decision = authz.Allowed.String()
		r.Checks = append(r.Checks, explain.Check{Name: "decision", Status: explain.StatusOK, Detail: "allowed"})
	} else {
		r.Checks = append(r.Checks, explain.Check{Name: "decision", Status: explain.StatusFail, Detail: "the call would fail: see the checks above"})
	}
	return r, nil
}

// claims lists what a verified assertion says, for the report's notes.
func claims(a *saml.Assertion) []string {
	out := []string{fmt.Sprintf("claims: issuer %s; subject %s (%s); audiences %s; issued %s",
		a.Issuer, a.Subject, sts.SubjectType(a.SubjectFormat), strings.Join(a.Audiences, " "), a.IssueInstant.Format(time.RFC3339))}
	for _, sc := range a.SubjectConfirmations {
		out = append(out, fmt.Sprintf("claims: confirmation %s, recipient %s, not on or after %s", sc.Method, sc.Recipient, sc.NotOnOrAfter.Format(time.RFC3339)))
	}
	var lines []string
	for _, at := range a.Attributes {
		lines = append(lines, fmt.Sprintf("claims: attribute %s = %s", at.Name, strings.Join(at.Values, " | ")))
	}
	sort.Strings(lines)
	return append(out, lines...)
}

// unverifiedSummary reads the issuer and subject of a response that did not verify.
func unverifiedSummary(raw []byte) string {
	field := func(re *regexp.Regexp) string {
		if m := re.FindSubmatch(raw); m != nil {
			return string(m[1])
		}
		return "?"
	}
	return fmt.Sprintf("issuer %s, subject %s", field(issuerText), field(nameIDText))
}

var (
	issuerText = regexp.MustCompile(`<(?:\w+:)?Issuer[^>]*>([^<]*)<`)
	nameIDText = regexp.MustCompile(`<(?:\w+:)?NameID[^>]*>([^<]*)<`)
)
