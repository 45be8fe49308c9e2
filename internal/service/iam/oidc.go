package iam

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/oidc"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// IAM's OpenID Connect providers: the principals of web identity federation
// (AssumeRoleWithWebIdentity, internal/service/sts). Shapes and errors follow
// botocore's IAM model; limits follow the IAM API reference.
const (
	maxClientIDs     = 100 // "You cannot register more than 100 client IDs with a single IAM OIDC provider"
	maxThumbprints   = 5   // "IAM lets you have up to five thumbprints for an OIDC provider"
	maxOIDCProviders = 100 // IAM quotas: OpenId Connect providers per account
)

func init() {
	register(
		&service.Action{Name: "CreateOpenIDConnectProvider", IAMAction: "iam:CreateOpenIDConnectProvider", Write: true,
			Resource: newOIDCProviderResource, Context: requestTags, Handle: createOIDCProvider},
		&service.Action{Name: "GetOpenIDConnectProvider", IAMAction: "iam:GetOpenIDConnectProvider",
			Resource: oidcProviderResource, Context: oidcProviderContext, Handle: getOIDCProvider},
		&service.Action{Name: "ListOpenIDConnectProviders", IAMAction: "iam:ListOpenIDConnectProviders", Handle: listOIDCProviders},
		&service.Action{Name: "DeleteOpenIDConnectProvider", IAMAction: "iam:DeleteOpenIDConnectProvider", Write: true,
			Resource: oidcProviderResource, Context: oidcProviderContext, Handle: deleteOIDCProvider},
		&service.Action{Name: "UpdateOpenIDConnectProviderThumbprint", IAMAction: "iam:UpdateOpenIDConnectProviderThumbprint", Write: true,
			Resource: oidcProviderResource, Context: oidcProviderContext, Handle: updateOIDCThumbprints},
		&service.Action{Name: "AddClientIDToOpenIDConnectProvider", IAMAction: "iam:AddClientIDToOpenIDConnectProvider", Write: true,
			Resource: oidcProviderResource, Context: oidcProviderContext, Handle: addOIDCClientID},
		&service.Action{Name: "RemoveClientIDFromOpenIDConnectProvider", IAMAction: "iam:RemoveClientIDFromOpenIDConnectProvider", Write: true,
			Resource: oidcProviderResource, Context: oidcProviderContext, Handle: removeOIDCClientID},
		// Tags, as the entities' (tags.go) do them, on a provider named by its ARN.
		&service.Action{Name: "TagOpenIDConnectProvider", IAMAction: "iam:TagOpenIDConnectProvider", Write: true,
			Resource: oidcProviderResource, Context: contexts(oidcProviderContext, requestTags), Handle: tagOIDCProvider},
		&service.Action{Name: "UntagOpenIDConnectProvider", IAMAction: "iam:UntagOpenIDConnectProvider", Write: true,
			Resource: oidcProviderResource, Context: contexts(oidcProviderContext, tagKeysContext), Handle: untagOIDCProvider},
		&service.Action{Name: "ListOpenIDConnectProviderTags", IAMAction: "iam:ListOpenIDConnectProviderTags",
			Resource: oidcProviderResource, Context: oidcProviderContext, Handle: listOIDCProviderTags},
	)
}

// newOIDCProviderResource is the ARN the provider being created will have.
func newOIDCProviderResource(c *service.Call) (string, string, error) {
	name, err := oidc.ParseProviderURL(c.Params.Get("Url"))
	if err != nil {
		name = strings.TrimPrefix(c.Params.Get("Url"), "https://")
	}
	return oidc.ProviderARN(c.Account(), name), c.Account(), nil
}

// oidcProviderResource is the provider an OpenIDConnectProviderArn names, in the
// account the ARN names.
func oidcProviderResource(c *service.Call) (string, string, error) {
	a := c.Params.Get("OpenIDConnectProviderArn")
	if account, _, ok := oidc.ParseProviderARN(a); ok {
		return a, account, nil
	}
	return a, c.Account(), nil
}

// oidcProviderContext adds the provider's tags (aws:ResourceTag/…, iam:ResourceTag/…).
func oidcProviderContext(c *service.Call, ctx policy.Context) error {
	p, err := directory.OIDCProviderByArn(c.Tx, c.Params.Get("OpenIDConnectProviderArn"))
	if err != nil || p == nil {
		return err
	}
	resourceTags(p.Tags, ctx)
	return nil
}

// stringList reads a list parameter such as ClientIDList, each member min to max
// characters.
func (in *input) stringList(param, member string, min, max int) []string {
	l, err := in.c.Params.List(param)
	if err != nil {
		in.v.Check(false, in.c.Params.Get(param), lowerFirst(param), "be a list numbered from 1")
		return nil
	}
	for i, s := range l {
		in.v.Length(s, fmt.Sprintf("%s.%d.member", member, i+1), min, max)
	}
	return l
}

// requiredList records a list parameter the request lacks entirely.
func (in *input) requiredList(param string) {
	p := in.c.Params
	if !p.Has(param) && !p.Has(param+".member.1") && !p.Has(param+".member.1.Key") {
		in.v.Null(lowerFirst(param))
	}
}

// providerArn reads a required OpenIDConnectProviderArn.
func (in *input) providerArn() string { return in.arn("OpenIDConnectProviderArn") }

func dedupe(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// checkThumbprints applies the limit of five (moto's wording; AWS documents none).
func checkThumbprints(t []string) error {
	if len(t) > maxThumbprints {
		return invalidInput("Thumbprint list must contain fewer than %d entries.", maxThumbprints)
	}
	return nil
}

func clientIDQuota() error {
	return limitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
}

type createOIDCProviderResult struct {
	OpenIDConnectProviderArn string        `xml:"OpenIDConnectProviderArn"`
	Tags                     *list[tagXML] `xml:"Tags,omitempty"`
}

func createOIDCProvider(c *service.Call) (any, error) {
	in := newInput(c)
	url, _ := in.required("Url")
	in.v.Length(url, "url", 1, oidc.MaxURLLength)
	ids := in.stringList("ClientIDList", "clientIDList", 1, 255)
	thumbs := in.stringList("ThumbprintList", "thumbprintList", 40, 40)
	if err := in.err(); err != nil {
		return nil, err
	}
	name, err := oidc.ParseProviderURL(url)
	if err != nil {
		return nil, wire.ValidationError("%s", err.Error())
	}
	if err := checkThumbprints(thumbs); err != nil {
		return nil, err
	}
	ids = dedupe(ids)
	if len(ids) > maxClientIDs {
		return nil, clientIDQuota()
	}
	tags, err := readTags(c)
	if err != nil {
		return nil, err
	}
	account := c.Account()
	p := &directory.OIDCProvider{Account: account, Name: name, Arn: oidc.ProviderARN(account, name),
		ClientIDs: ids, Thumbprints: thumbs, CreateDate: c.Now.UTC(), Tags: tags}
	n, err := count(c.Tx, directory.KindOIDCProvider, account+"/")
	if err != nil {
		return nil, err
	}
	if n >= maxOIDCProviders {
		return nil, limitExceeded("Cannot exceed quota for OpenIdConnectProvidersPerAccount: %d", maxOIDCProviders)
	}
	created, err := c.Tx.Insert(directory.KindOIDCProvider, directory.OIDCProviderKey(account, name), p)
	if err != nil {
		return nil, err
	}
	if !created {
		// AWS's wording, as Terraform and CloudFormation users meet it.
		return nil, alreadyExists("Provider with url %s already exists.", oidc.IssuerURL(name))
	}
	// Every provider host an account registers gets a built-in issuer that can mint
	// its tokens (`iamlocal oidc token`) and serves its discovery document and JWKS.
	if _, err := directory.EnsureOIDCIssuer(c.Tx, name, c.Now); err != nil {
		return nil, err
	}
	return &createOIDCProviderResult{OpenIDConnectProviderArn: p.Arn, Tags: optTags(tags)}, nil
}

// loadOIDCProvider reads the provider an ARN names, or IAM's NoSuchEntity.
func loadOIDCProvider(tx store.Tx, arn string) (*directory.OIDCProvider, error) {
	if _, _, ok := oidc.ParseProviderARN(arn); !ok {
		return nil, invalidInput("ARN %s is not valid.", arn)
	}
	p, err := directory.OIDCProviderByArn(tx, arn)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, noSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
	}
	return p, nil
}

func saveOIDCProvider(tx store.Tx, p *directory.OIDCProvider) error {
	return tx.Put(directory.KindOIDCProvider, directory.OIDCProviderKey(p.Account, p.Name), p)
}

// readProvider reads the request's provider ARN (and nothing else) and loads it.
func readProvider(c *service.Call) (*directory.OIDCProvider, error) {
	in := newInput(c)
	a := in.providerArn()
	if err := in.err(); err != nil {
		return nil, err
	}
	return loadOIDCProvider(c.Tx, a)
}

type getOIDCProviderResult struct {
	URL            string        `xml:"Url"`
	ClientIDList   list[string]  `xml:"ClientIDList"`
	ThumbprintList list[string]  `xml:"ThumbprintList"`
	CreateDate     string        `xml:"CreateDate"`
	Tags           *list[tagXML] `xml:"Tags,omitempty"`
}

// getOIDCProvider answers the URL without its scheme, as IAM does.
func getOIDCProvider(c *service.Call) (any, error) {
	p, err := readProvider(c)
	if err != nil {
		return nil, err
	}
	return &getOIDCProviderResult{URL: p.Name, ClientIDList: list[string]{append([]string{}, p.ClientIDs...)},
		ThumbprintList: list[string]{append([]string{}, p.Thumbprints...)}, CreateDate: isoTime(p.CreateDate), Tags: optTags(p.Tags)}, nil
}

type arnXML struct {
	Arn string `xml:"Arn"`
}

type listOIDCProvidersResult struct {
	OpenIDConnectProviderList list[arnXML] `xml:"OpenIDConnectProviderList"`
}

// listOIDCProviders lists the account's providers (IAM pages none of them).
func listOIDCProviders(c *service.Call) (any, error) {
	res := &listOIDCProvidersResult{}
	res.OpenIDConnectProviderList.Member = []arnXML{}
	err := c.Tx.Scan(directory.KindOIDCProvider, c.Account()+"/", "", 0, func(_ string, data []byte) (bool, error) {
		var p directory.OIDCProvider
		if err := jsonUnmarshal(data, &p); err != nil {
			return false, err
		}
		res.OpenIDConnectProviderList.Member = append(res.OpenIDConnectProviderList.Member, arnXML{p.Arn})
		return true, nil
	})
	return res, err
}

// deleteOIDCProvider is idempotent (IAM API reference: "it does not fail or return an
// error if you call the operation for a provider that does not exist"). Roles that
// trust the provider keep their trust policies; assuming them fails.
func deleteOIDCProvider(c *service.Call) (any, error) {
	in := newInput(c)
	a := in.providerArn()
	if err := in.err(); err != nil {
		return nil, err
	}
	if _, _, ok := oidc.ParseProviderARN(a); !ok {
		return nil, invalidInput("ARN %s is not valid.", a)
	}
	p, err := directory.OIDCProviderByArn(c.Tx, a)
	if err != nil || p == nil {
		return nil, err
	}
	_, err = c.Tx.Delete(directory.KindOIDCProvider, directory.OIDCProviderKey(p.Account, p.Name))
	return nil, err
}

// updateOIDCThumbprints replaces the thumbprint list ("The lists are not merged").
func updateOIDCThumbprints(c *service.Call) (any, error) {
	in := newInput(c)
	a := in.providerArn()
	in.requiredList("ThumbprintList")
	thumbs := in.stringList("ThumbprintList", "thumbprintList", 40, 40)
	if err := in.err(); err != nil {
		return nil, err
	}
	if err := checkThumbprints(thumbs); err != nil {
		return nil, err
	}
	p, err := loadOIDCProvider(c.Tx, a)
	if err != nil {
		return nil, err
	}
	p.Thumbprints = thumbs
	return nil, saveOIDCProvider(c.Tx, p)
}

// clientIDRequest reads the provider and the ClientID of Add/RemoveClientID….
func clientIDRequest(c *service.Call) (*directory.OIDCProvider, string, error) {
	in := newInput(c)
	a := in.providerArn()
	id, ok := in.required("ClientID")
	if ok {
		in.v.Length(id, "clientID", 1, 255)
	}
	if err := in.err(); err != nil {
		return nil, "", err
	}
	p, err := loadOIDCProvider(c.Tx, a)
	return p, id, err
}

// addOIDCClientID is idempotent: adding a client id the provider has changes nothing.
func addOIDCClientID(c *service.Call) (any, error) {
	p, id, err := clientIDRequest(c)
	if err != nil {
		return nil, err
	}
	if slices.Contains(p.ClientIDs, id) {
		return nil, nil
	}
	if len(p.ClientIDs) >= maxClientIDs {
		return nil, clientIDQuota()
	}
	p.ClientIDs = append(p.ClientIDs, id)
	return nil, saveOIDCProvider(c.Tx, p)
}

// removeOIDCClientID is idempotent: removing a client id the provider lacks is no error.
func removeOIDCClientID(c *service.Call) (any, error) {
	p, id, err := clientIDRequest(c)
	if err != nil {
		return nil, err
	}
	i := slices.Index(p.ClientIDs, id)
	if i < 0 {
		return nil, nil
	}
	p.ClientIDs = slices.Delete(p.ClientIDs, i, i+1)
	return nil, saveOIDCProvider(c.Tx, p)
}

// taggedProvider reads a Tag/Untag request's provider; listParam is required.
func taggedProvider(c *service.Call, listParam string) (*directory.OIDCProvider, error) {
	in := newInput(c)
	a := in.providerArn()
	in.requiredList(listParam)
	if err := in.err(); err != nil {
		return nil, err
	}
	return loadOIDCProvider(c.Tx, a)
}

func tagOIDCProvider(c *service.Call) (any, error) {
	p, err := taggedProvider(c, "Tags")
	if err != nil {
		return nil, err
	}
	tags, err := readTags(c)
	if err != nil {
		return nil, err
	}
	merged := mergeTags(p.Tags, tags)
	if len(merged) > maxTags {
		return nil, limitExceeded("The number of tags has reached the maximum limit of %d.", maxTags)
	}
	p.Tags = merged
	return nil, saveOIDCProvider(c.Tx, p)
}

func untagOIDCProvider(c *service.Call) (any, error) {
	p, err := taggedProvider(c, "TagKeys")
	if err != nil {
		return nil, err
	}
	keys, err := c.Params.List("TagKeys")
	if err != nil {
		return nil, err
	}
	var v validation
	v.Check(len(keys) <= maxTags, fmt.Sprint(keys), "tagKeys", fmt.Sprintf("have length less than or equal to %d", maxTags))
	for i, k := range keys {
		v.Length(k, fmt.Sprintf("tagKeys.%d.member", i+1), 1, 128)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	p.Tags = slices.DeleteFunc(p.Tags, func(t directory.Tag) bool { return containsFold(keys, t.Key) })
	return nil, saveOIDCProvider(c.Tx, p)
}

// listOIDCProviderTags pages the tags "sorted by tag key" (IAM API reference).
func listOIDCProviderTags(c *service.Call) (any, error) {
	p, err := readProvider(c)
	if err != nil {
		return nil, err
	}
	pg, err := readPage(c)
	if err != nil {
		return nil, err
	}
	tags := append([]directory.Tag{}, p.Tags...)
	sort.SliceStable(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	start, end, truncated, marker, err := slicePage(len(tags), pg)
	if err != nil {
		return nil, err
	}
	res := &listTagsResult{IsTruncated: truncated, Marker: marker}
	res.Tags.Member = append([]tagXML{}, tagsXML(tags[start:end])...)
	return res, nil
}
