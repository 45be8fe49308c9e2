package iam_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const (
	ghURL = "https://token.actions.githubusercontent.com"
	ghArn = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
	thumb = "6938fd4d98bab03faadb97b34396831e3780aea1"
)

func (e *env) oidcProvider(url string, ids ...string) string {
	e.t.Helper()
	return aws.ToString(ok(e.root.CreateOpenIDConnectProvider(e.ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(url), ClientIDList: ids}))(e.t).OpenIDConnectProviderArn)
}

func (e *env) getProvider(arn string) *iam.GetOpenIDConnectProviderOutput {
	e.t.Helper()
	return ok(e.root.GetOpenIDConnectProvider(e.ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)}))(e.t)
}

func TestCreateGetListDeleteOIDCProvider(t *testing.T) {
	e := start(t)
	out := ok(e.root.CreateOpenIDConnectProvider(e.ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(ghURL),
		ClientIDList: []string{"sts.amazonaws.com", "sts.amazonaws.com"}, ThumbprintList: []string{thumb},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ci")}}}))(t)
	if aws.ToString(out.OpenIDConnectProviderArn) != ghArn || len(out.Tags) != 1 {
		t.Fatal(aws.ToString(out.OpenIDConnectProviderArn), out.Tags)
	}
	// Get answers the URL without its scheme, as IAM does (pulumi/pulumi#8632).
	got := e.getProvider(ghArn)
	if aws.ToString(got.Url) != "token.actions.githubusercontent.com" || !slices.Equal(got.ClientIDList, []string{"sts.amazonaws.com"}) ||
		!slices.Equal(got.ThumbprintList, []string{thumb}) || got.CreateDate == nil || len(got.Tags) != 1 {
		t.Fatalf("%+v", got)
	}
	// Thumbprints are optional; an EKS issuer's path is part of the ARN.
	eks := e.oidcProvider("https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE", "sts.amazonaws.com")
	if eks != "arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE" {
		t.Fatal(eks)
	}
	if g := e.getProvider(eks); len(g.ThumbprintList) != 0 || g.Tags != nil {
		t.Fatalf("%+v", g)
	}
	list := ok(e.root.ListOpenIDConnectProviders(e.ctx, &iam.ListOpenIDConnectProvidersInput{}))(t)
	var arns []string
	for _, p := range list.OpenIDConnectProviderList {
		arns = append(arns, aws.ToString(p.Arn))
	}
	slices.Sort(arns)
	if !slices.Equal(arns, []string{eks, ghArn}) {
		t.Fatal(arns)
	}
	ok(e.root.DeleteOpenIDConnectProvider(e.ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(eks)}))(t)
	// Deleting again is no error: "This operation is idempotent".
	ok(e.root.DeleteOpenIDConnectProvider(e.ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(eks)}))(t)
	_, err := e.root.GetOpenIDConnectProvider(e.ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(eks)})
	wantErr(t, err, "NoSuchEntity", 404, "OpenIDConnect Provider not found for arn "+eks)
	if n := len(ok(e.root.ListOpenIDConnectProviders(e.ctx, &iam.ListOpenIDConnectProvidersInput{}))(t).OpenIDConnectProviderList); n != 1 {
		t.Fatal(n)
	}
}

func TestCreateOIDCProviderRejections(t *testing.T) {
	e := start(t)
	e.oidcProvider(ghURL, "sts.amazonaws.com")
	create := func(in *iam.CreateOpenIDConnectProviderInput) error {
		_, err := e.root.CreateOpenIDConnectProvider(e.ctx, in)
		return err
	}
	// The same URL again: AWS's wording as Terraform users meet it.
	wantErr(t, create(&iam.CreateOpenIDConnectProviderInput{Url: aws.String(ghURL)}), "EntityAlreadyExists", 409,
		"Provider with url https://token.actions.githubusercontent.com already exists.")
	for _, bad := range []string{"http://example.com", "example.com", "https://example.com:8443", "https://example.com/?a=b", "https://example.com/#x"} {
		wantErr(t, create(&iam.CreateOpenIDConnectProviderInput{Url: aws.String(bad)}), "ValidationError", 400, "Invalid Open ID Connect Provider URL")
	}
	wantErr(t, create(&iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://" + strings.Repeat("a", 250) + ".com")}), "ValidationError", 400,
		"1 validation error detected: Value 'https://"+strings.Repeat("a", 250)+".com' at 'url' failed to satisfy constraint: Member must have length less than or equal to 255")
	wantErr(t, create(&iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://a.example.com"), ThumbprintList: []string{"abc"}}), "ValidationError", 400,
		"1 validation error detected: Value 'abc' at 'thumbprintList.1.member' failed to satisfy constraint: Member must have length greater than or equal to 40")
	wantErr(t, create(&iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://a.example.com"), ClientIDList: []string{strings.Repeat("c", 256)}}), "ValidationError", 400,
		"1 validation error detected: Value '"+strings.Repeat("c", 256)+"' at 'clientIDList.1.member' failed to satisfy constraint: Member must have length less than or equal to 255")
	six := []string{thumb, thumb, thumb, thumb, thumb, thumb}
	wantErr(t, create(&iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://a.example.com"), ThumbprintList: six}), "InvalidInput", 400,
		"Thumbprint list must contain fewer than 5 entries.")
	var ids []string
	for i := range 101 {
		ids = append(ids, "client-"+itoa(i))
	}
	wantErr(t, create(&iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://a.example.com"), ClientIDList: ids}), "LimitExceeded", 409,
		"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")
	// Denied without iam:CreateOpenIDConnectProvider.
	c, _ := e.signer("dev", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}`)
	_, err := c.CreateOpenIDConnectProvider(e.ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://a.example.com")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/dev is not authorized to perform: iam:CreateOpenIDConnectProvider on resource: arn:aws:iam::111111111111:oidc-provider/a.example.com because no identity-based policy allows the iam:CreateOpenIDConnectProvider action")
	// Nothing was written by the refusals.
	if n := len(ok(e.root.ListOpenIDConnectProviders(e.ctx, &iam.ListOpenIDConnectProvidersInput{}))(t).OpenIDConnectProviderList); n != 1 {
		t.Fatal(n)
	}
}

func TestOIDCProviderReadRejections(t *testing.T) {
	e := start(t)
	_, err := e.root.GetOpenIDConnectProvider(e.ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String("arn:aws:iam::111111111111:role/not-a-provider")})
	wantErr(t, err, "InvalidInput", 400, "ARN arn:aws:iam::111111111111:role/not-a-provider is not valid.")
	_, err = e.root.DeleteOpenIDConnectProvider(e.ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String("arn:aws:iam::111111111111:user/x")})
	wantErr(t, err, "InvalidInput", 400, "ARN arn:aws:iam::111111111111:user/x is not valid.")
	// List needs iam:ListOpenIDConnectProviders.
	c, _ := e.signer("dev", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetOpenIDConnectProvider","Resource":"*"}]}`)
	_, err = c.ListOpenIDConnectProviders(e.ctx, &iam.ListOpenIDConnectProvidersInput{})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/dev is not authorized to perform: iam:ListOpenIDConnectProviders on resource: * because no identity-based policy allows the iam:ListOpenIDConnectProviders action")
	// Get of a provider that is not there, by a caller allowed to.
	_, err = c.GetOpenIDConnectProvider(e.ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(ghArn)})
	wantErr(t, err, "NoSuchEntity", 404, "OpenIDConnect Provider not found for arn "+ghArn)
	// Delete without permission.
	e.oidcProvider(ghURL, "sts.amazonaws.com")
	_, err = c.DeleteOpenIDConnectProvider(e.ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(ghArn)})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/dev is not authorized to perform: iam:DeleteOpenIDConnectProvider on resource: "+ghArn+" because no identity-based policy allows the iam:DeleteOpenIDConnectProvider action")
}

func TestOIDCProviderThumbprintsAndClientIDs(t *testing.T) {
	e := start(t)
	arn := e.oidcProvider(ghURL, "sts.amazonaws.com")
	other := strings.Repeat("1", 40)
	// The list replaces the old one ("The lists are not merged").
	ok(e.root.UpdateOpenIDConnectProviderThumbprint(e.ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: aws.String(arn), ThumbprintList: []string{thumb, other}}))(t)
	ok(e.root.UpdateOpenIDConnectProviderThumbprint(e.ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: aws.String(arn), ThumbprintList: []string{other}}))(t)
	if got := e.getProvider(arn).ThumbprintList; !slices.Equal(got, []string{other}) {
		t.Fatal(got)
	}
	_, err := e.root.UpdateOpenIDConnectProviderThumbprint(e.ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: aws.String(arn),
		ThumbprintList: []string{thumb, thumb, thumb, thumb, thumb, thumb}})
	wantErr(t, err, "InvalidInput", 400, "Thumbprint list must contain fewer than 5 entries.")
	_, err = e.root.UpdateOpenIDConnectProviderThumbprint(e.ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: aws.String(ghArn + "x"), ThumbprintList: []string{thumb}})
	wantErr(t, err, "NoSuchEntity", 404, "OpenIDConnect Provider not found for arn "+ghArn+"x")

	// Adding is idempotent; removing one that is not there is no error.
	for _, id := range []string{"app-1", "app-1", "app-2"} {
		ok(e.root.AddClientIDToOpenIDConnectProvider(e.ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(id)}))(t)
	}
	ok(e.root.RemoveClientIDFromOpenIDConnectProvider(e.ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String("app-2")}))(t)
	ok(e.root.RemoveClientIDFromOpenIDConnectProvider(e.ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String("never")}))(t)
	if got := e.getProvider(arn).ClientIDList; !slices.Equal(got, []string{"sts.amazonaws.com", "app-1"}) {
		t.Fatal(got)
	}
	_, err = e.root.AddClientIDToOpenIDConnectProvider(e.ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(strings.Repeat("x", 256))})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value '"+strings.Repeat("x", 256)+"' at 'clientID' failed to satisfy constraint: Member must have length less than or equal to 255")
	for i := range 98 {
		ok(e.root.AddClientIDToOpenIDConnectProvider(e.ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String("c" + itoa(i))}))(t)
	}
	_, err = e.root.AddClientIDToOpenIDConnectProvider(e.ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String("one-too-many")})
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")
	_, err = e.root.RemoveClientIDFromOpenIDConnectProvider(e.ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(ghArn + "x"), ClientID: aws.String("a")})
	wantErr(t, err, "NoSuchEntity", 404, "OpenIDConnect Provider not found for arn "+ghArn+"x")
}

func TestOIDCProviderTags(t *testing.T) {
	e := start(t)
	arn := e.oidcProvider(ghURL)
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	ok(e.root.TagOpenIDConnectProvider(e.ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), Tags: []types.Tag{tag("b", "1"), tag("a", "2"), tag("c", "3")}}))(t)
	ok(e.root.TagOpenIDConnectProvider(e.ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), Tags: []types.Tag{tag("B", "overwritten")}}))(t)
	ok(e.root.UntagOpenIDConnectProvider(e.ctx, &iam.UntagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), TagKeys: []string{"c"}}))(t)
	// Sorted by key, paged.
	tags := paginate(t, func(marker *string) ([]types.Tag, bool, *string, error) {
		out, err := e.root.ListOpenIDConnectProviderTags(e.ctx, &iam.ListOpenIDConnectProviderTagsInput{OpenIDConnectProviderArn: aws.String(arn), MaxItems: aws.Int32(1), Marker: marker})
		if err != nil {
			return nil, false, nil, err
		}
		return out.Tags, out.IsTruncated, out.Marker, nil
	})
	if len(tags) != 2 || aws.ToString(tags[0].Key) != "B" || aws.ToString(tags[0].Value) != "overwritten" || aws.ToString(tags[1].Key) != "a" {
		t.Fatalf("%+v", tags)
	}
	// Rejections: too many tags, a missing provider, no permission.
	var many []types.Tag
	for i := range 49 {
		many = append(many, tag("k"+itoa(i), "v"))
	}
	_, err := e.root.TagOpenIDConnectProvider(e.ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), Tags: many})
	wantErr(t, err, "LimitExceeded", 409, "The number of tags has reached the maximum limit of 50.")
	missing := ghArn + "/x"
	_, err = e.root.TagOpenIDConnectProvider(e.ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(missing), Tags: []types.Tag{tag("a", "b")}})
	wantErr(t, err, "NoSuchEntity", 404, "OpenIDConnect Provider not found for arn "+missing)
	_, err = e.root.UntagOpenIDConnectProvider(e.ctx, &iam.UntagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(missing), TagKeys: []string{"a"}})
	wantErr(t, err, "NoSuchEntity", 404, "OpenIDConnect Provider not found for arn "+missing)
	_, err = e.root.ListOpenIDConnectProviderTags(e.ctx, &iam.ListOpenIDConnectProviderTagsInput{OpenIDConnectProviderArn: aws.String(missing)})
	wantErr(t, err, "NoSuchEntity", 404, "OpenIDConnect Provider not found for arn "+missing)
	// Tag-based access: aws:ResourceTag of the provider decides.
	c, _ := e.signer("dev", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*OpenIDConnectProvider*","Resource":"*",
		"Condition":{"StringEquals":{"aws:ResourceTag/a":"2"}}}]}`)
	ok(c.ListOpenIDConnectProviderTags(e.ctx, &iam.ListOpenIDConnectProviderTagsInput{OpenIDConnectProviderArn: aws.String(arn)}))(t)
	ok(c.UntagOpenIDConnectProvider(e.ctx, &iam.UntagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), TagKeys: []string{"a"}}))(t)
	_, err = c.TagOpenIDConnectProvider(e.ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), Tags: []types.Tag{tag("a", "2")}})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/dev is not authorized to perform: iam:TagOpenIDConnectProvider on resource: "+ghArn+" because no identity-based policy allows the iam:TagOpenIDConnectProvider action")
}

// TestOIDCProviderRequiredParameters: the parameters botocore marks required, sent
// without them (the SDK would refuse to).
func TestOIDCProviderRequiredParameters(t *testing.T) {
	e := start(t)
	for action, member := range map[string]string{
		"CreateOpenIDConnectProvider":             "url",
		"GetOpenIDConnectProvider":                "openIDConnectProviderArn",
		"UpdateOpenIDConnectProviderThumbprint":   "openIDConnectProviderArn",
		"AddClientIDToOpenIDConnectProvider":      "openIDConnectProviderArn",
		"TagOpenIDConnectProvider":                "openIDConnectProviderArn",
		"ListOpenIDConnectProviderTags":           "openIDConnectProviderArn",
		"RemoveClientIDFromOpenIDConnectProvider": "openIDConnectProviderArn",
	} {
		status, body := e.raw(url.Values{"Action": {action}})
		if status != 400 || !strings.Contains(body, "Value null at &#39;"+member+"&#39;") && !strings.Contains(body, "Value null at '"+member+"'") {
			t.Errorf("%s: %d %s", action, status, body)
		}
	}
}
