package iam

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"regexp"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/saml"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/session"
	"github.com/iamlocal/iamlocal/internal/store"
)

// IAM SAML providers: Create/Get/List/Update/DeleteSAMLProvider and their tags. The
// metadata document is parsed when written (entity id, signing certificates,
// validUntil), so STS verifies AssumeRoleWithSAML from the stored fields.

const (
	maxSAMLProviders   = 100 // SAMLProvidersPerAccount
	maxSAMLPrivateKeys = 2
	// samlValidity is the ValidUntil of a provider whose metadata sets none:
	// a hundred years after its creation, as IAM shows it.
	samlValidity = 100
)

var (
	samlNamePattern  = regexp.MustCompile(`^[\w._-]+$`)
	privateKeyIDChar = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

func init() {
	register(
		&service.Action{Name: "CreateSAMLProvider", IAMAction: "iam:CreateSAMLProvider", Write: true,
			Resource: newSAMLProviderResource, Context: requestTags, Handle: createSAMLProvider},
		&service.Action{Name: "GetSAMLProvider", IAMAction: "iam:GetSAMLProvider",
			Resource: samlProviderResource, Context: samlProviderContext, Handle: getSAMLProvider},
		&service.Action{Name: "ListSAMLProviders", IAMAction: "iam:ListSAMLProviders", Handle: listSAMLProviders},
		&service.Action{Name: "UpdateSAMLProvider", IAMAction: "iam:UpdateSAMLProvider", Write: true,
			Resource: samlProviderResource, Context: samlProviderContext, Handle: updateSAMLProvider},
		&service.Action{Name: "DeleteSAMLProvider", IAMAction: "iam:DeleteSAMLProvider", Write: true,
			Resource: samlProviderResource, Context: samlProviderContext, Handle: deleteSAMLProvider},
	)
}

func samlProviderArn(account, name string) string {
	return "arn:aws:iam::" + account + ":saml-provider/" + name
}

func newSAMLProviderResource(c *service.Call) (string, string, error) {
	return samlProviderArn(c.Account(), c.Params.Get("Name")), c.Account(), nil
}

// samlProviderResource is the provider ARN a request names; its account owns it.
func samlProviderResource(c *service.Call) (string, string, error) {
	arn := c.Params.Get("SAMLProviderArn")
	if account := policy.OwnerAccount(arn); account != "" {
		return arn, account, nil
	}
	return arn, c.Account(), nil
}

// samlProviderContext adds the provider's tags as aws:ResourceTag/*.
func samlProviderContext(c *service.Call, ctx policy.Context) error {
	if p, err := directory.LoadSAMLProvider(c.Tx, c.Params.Get("SAMLProviderArn")); err == nil {
		resourceTags(p.Tags, ctx)
	}
	return nil
}

// loadSAMLProvider validates SAMLProviderArn and loads the provider.
func loadSAMLProvider(c *service.Call, in *input) (*directory.SAMLProvider, error) {
	arn := in.arn("SAMLProviderArn")
	if err := in.err(); err != nil {
		return nil, err
	}
	return findSAMLProvider(c, arn)
}

// findSAMLProvider loads the provider an ARN names, with IAM's NoSuchEntity
// ("Manifest not found for arn …") when it does not exist.
func findSAMLProvider(c *service.Call, arn string) (*directory.SAMLProvider, error) {
	if _, _, ok := directory.SAMLProviderName(arn); !ok {
		return nil, invalidInput("ARN %s is not valid.", arn)
	}
	p, err := directory.LoadSAMLProvider(c.Tx, arn)
	if errors.Is(err, directory.ErrNoEntity) || (err == nil && p.Account != c.Account()) {
		return nil, noSuchEntity("Manifest not found for arn %s", arn)
	}
	return p, err
}

func saveSAMLProvider(tx store.Tx, p *directory.SAMLProvider) error {
	return tx.Put(directory.KindSAMLProvider, directory.NameKey(p.Account, p.Name), p)
}

// samlMetadata validates a metadata document and sets what the provider keeps of it.
func samlMetadata(p *directory.SAMLProvider, doc string) error {
	md, err := saml.ParseMetadata([]byte(doc))
	if err != nil {
		return invalidInput("Could not parse metadata.")
	}
	p.Metadata, p.EntityID, p.Certs = doc, md.EntityID, nil
	for _, cert := range md.Certs {
		p.Certs = append(p.Certs, cert.Raw)
	}
	p.ValidUntil = md.ValidUntil
	if p.ValidUntil.IsZero() {
		p.ValidUntil = p.CreateDate.AddDate(samlValidity, 0, 0)
	}
	return nil
}

// samlInputs reads what Create and Update share: the metadata document, the
// encryption mode and a private key to add.
func samlInputs(in *input, docRequired bool) (doc, mode, addKey string) {
	if docRequired || in.c.Params.Has("SAMLMetadataDocument") {
		if s, ok := in.required("SAMLMetadataDocument"); ok {
			in.v.Length(s, "sAMLMetadataDocument", 1000, saml.MaxMetadataSize)
			doc = s
		}
	}
	mode = in.enum("AssertionEncryptionMode", "Required", "Allowed")
	if in.c.Params.Has("AddPrivateKey") {
		addKey = in.c.Params.Get("AddPrivateKey")
		in.v.Length(addKey, "addPrivateKey", 1, 16384)
		in.v.Check(documentPattern.MatchString(addKey), "*****", "addPrivateKey", `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
	}
	return doc, mode, addKey
}

// addPrivateKey adds a decryption key (PEM, RSA) sealed for the store.
func addPrivateKey(c *service.Call, p *directory.SAMLProvider, pemText string) error {
	if len(p.PrivateKeys) >= maxSAMLPrivateKeys {
		return limitExceeded("Private key limit of %d is reached.", maxSAMLPrivateKeys)
	}
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return invalidInput("Invalid private key.")
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return invalidInput("Invalid private key.")
		}
	}
	id := make([]byte, 26)
	rand.Read(id)
	for i := range id {
		id[i] = privateKeyIDChar[int(id[i])%len(privateKeyIDChar)]
	}
	p.PrivateKeys = append(p.PrivateKeys, directory.SAMLPrivateKey{KeyID: string(id), Timestamp: c.Now.UTC(),
		Sealed: c.Env.Ring.SealBytes(session.PurposeStoredSecret, []byte(pemText))})
	return nil
}

func newSAMLProviderUUID() string {
	b := make([]byte, 18)
	rand.Read(b)
	for i := range b {
		b[i] = privateKeyIDChar[int(b[i])%len(privateKeyIDChar)]
	}
	return "SAML" + string(b)
}

type createSAMLProviderResult struct {
	SAMLProviderArn string        `xml:"SAMLProviderArn"`
	Tags            *list[tagXML] `xml:"Tags,omitempty"`
}

func createSAMLProvider(c *service.Call) (any, error) {
	in := newInput(c)
	name, ok := in.required("Name")
	if ok {
		in.v.Length(name, "name", 1, 128)
		in.v.Check(samlNamePattern.MatchString(name), name, "name", `satisfy regular expression pattern: [\w._-]+`)
	}
	doc, mode, addKey := samlInputs(in, true)
	if err := in.err(); err != nil {
		return nil, err
	}
	tags, err := readTags(c)
	if err != nil {
		return nil, err
	}
	p := &directory.SAMLProvider{Account: c.Account(), Name: name, Arn: samlProviderArn(c.Account(), name),
		UUID: newSAMLProviderUUID(), CreateDate: c.Now.UTC(), AssertionEncryptionMode: mode, Tags: tags}
	if err := samlMetadata(p, doc); err != nil {
		return nil, err
	}
	if mode == "Required" && addKey == "" {
		return nil, invalidInput("Unable to set assertion encryption mode to Required because no private key is provided.")
	}
	if addKey != "" {
		if err := addPrivateKey(c, p, addKey); err != nil {
			return nil, err
		}
	}
	key := directory.NameKey(c.Account(), name)
	if exists, err := has(c.Tx, directory.KindSAMLProvider, key); err != nil || exists {
		if err == nil {
			err = alreadyExists("SAMLProvider %s already exists.", name)
		}
		return nil, err
	}
	n, err := count(c.Tx, directory.KindSAMLProvider, c.Account()+"/")
	if err != nil {
		return nil, err
	}
	if n >= maxSAMLProviders {
		return nil, limitExceeded("Cannot exceed quota for SAMLProvidersPerAccount: %d", maxSAMLProviders)
	}
	if err := saveSAMLProvider(c.Tx, p); err != nil {
		return nil, err
	}
	return &createSAMLProviderResult{SAMLProviderArn: p.Arn, Tags: optTags(tags)}, nil
}

type samlPrivateKeyXML struct {
	KeyID     string `xml:"KeyId"`
	Timestamp string `xml:"Timestamp"`
}

type getSAMLProviderResult struct {
	SAMLProviderUUID        string                   `xml:"SAMLProviderUUID"`
	SAMLMetadataDocument    string                   `xml:"SAMLMetadataDocument"`
	CreateDate              string                   `xml:"CreateDate"`
	ValidUntil              string                   `xml:"ValidUntil"`
	Tags                    *list[tagXML]            `xml:"Tags,omitempty"`
	AssertionEncryptionMode string                   `xml:"AssertionEncryptionMode,omitempty"`
	PrivateKeyList          *list[samlPrivateKeyXML] `xml:"PrivateKeyList,omitempty"`
}

func getSAMLProvider(c *service.Call) (any, error) {
	p, err := loadSAMLProvider(c, newInput(c))
	if err != nil {
		return nil, err
	}
	res := &getSAMLProviderResult{SAMLProviderUUID: p.UUID, SAMLMetadataDocument: p.Metadata,
		CreateDate: isoTime(p.CreateDate), ValidUntil: isoTime(p.ValidUntil), Tags: optTags(p.Tags),
		AssertionEncryptionMode: p.AssertionEncryptionMode}
	if len(p.PrivateKeys) > 0 {
		res.PrivateKeyList = &list[samlPrivateKeyXML]{}
		for _, k := range p.PrivateKeys {
			res.PrivateKeyList.Member = append(res.PrivateKeyList.Member, samlPrivateKeyXML{k.KeyID, isoTime(k.Timestamp)})
		}
	}
	return res, nil
}

type samlProviderEntry struct {
	Arn        string `xml:"Arn"`
	ValidUntil string `xml:"ValidUntil"`
	CreateDate string `xml:"CreateDate"`
}

type listSAMLProvidersResult struct {
	SAMLProviderList list[samlProviderEntry] `xml:"SAMLProviderList"`
}

func listSAMLProviders(c *service.Call) (any, error) {
	res := &listSAMLProvidersResult{}
	res.SAMLProviderList.Member = []samlProviderEntry{}
	err := c.Tx.Scan(directory.KindSAMLProvider, c.Account()+"/", "", 0, func(_ string, data []byte) (bool, error) {
		var p directory.SAMLProvider
		if err := jsonUnmarshal(data, &p); err != nil {
			return false, err
		}
		res.SAMLProviderList.Member = append(res.SAMLProviderList.Member,
			samlProviderEntry{Arn: p.Arn, ValidUntil: isoTime(p.ValidUntil), CreateDate: isoTime(p.CreateDate)})
		return true, nil
	})
	return res, err
}

type updateSAMLProviderResult struct {
	SAMLProviderArn string `xml:"SAMLProviderArn"`
}

func updateSAMLProvider(c *service.Call) (any, error) {
	in := newInput(c)
	doc, mode, addKey := samlInputs(in, false)
	removeKey := ""
	if c.Params.Has("RemovePrivateKey") {
		removeKey = c.Params.Get("RemovePrivateKey")
		in.v.Length(removeKey, "removePrivateKey", 22, 64)
		in.v.Check(regexp.MustCompile(`^[A-Z0-9]+$`).MatchString(removeKey), removeKey, "removePrivateKey", "satisfy regular expression pattern: [A-Z0-9]+")
	}
	p, err := loadSAMLProvider(c, in)
	if err != nil {
		return nil, err
	}
	switch {
	case doc == "" && mode == "" && addKey == "" && removeKey == "":
		return nil, invalidInput("Unable to update identity provider. No updates are defined for metadata or encryption assertion.")
	case addKey != "" && removeKey != "":
		return nil, invalidInput("Unable to add and remove private keys in the same request. Set a value for only one of the two parameters.")
	}
	if doc != "" {
		if err := samlMetadata(p, doc); err != nil {
			return nil, err
		}
	}
	if addKey != "" {
		if err := addPrivateKey(c, p, addKey); err != nil {
			return nil, err
		}
	}
	if mode != "" {
		p.AssertionEncryptionMode = mode
	}
	if removeKey != "" {
		kept := p.PrivateKeys[:0]
		for _, k := range p.PrivateKeys {
			if k.KeyID != removeKey {
				kept = append(kept, k)
			}
		}
		if len(kept) == len(p.PrivateKeys) {
			return nil, invalidInput("Failed to remove private key because the Key ID does not match a private key.")
		}
		p.PrivateKeys = kept
	}
	if p.AssertionEncryptionMode == "Required" && len(p.PrivateKeys) == 0 {
		if removeKey != "" {
			return nil, invalidInput("Failed to remove private key.")
		}
		return nil, invalidInput("Unable to set assertion encryption mode to Required because no private key is provided.")
	}
	if err := saveSAMLProvider(c.Tx, p); err != nil {
		return nil, err
	}
	return &updateSAMLProviderResult{p.Arn}, nil
}

func deleteSAMLProvider(c *service.Call) (any, error) {
	p, err := loadSAMLProvider(c, newInput(c))
	if err != nil {
		return nil, err
	}
	_, err = c.Tx.Delete(directory.KindSAMLProvider, directory.NameKey(p.Account, p.Name))
	return nil, err
}

// samlTaggable is the SAML providers' row of the taggables table.
var samlTaggable = &taggable{title: "SAMLProvider", param: "SAMLProviderArn", resource: samlProviderResource,
	read: func(in *input) string { return in.arn("SAMLProviderArn") },
	open: func(c *service.Call, arn string) (*tagSet, error) {
		p, err := findSAMLProvider(c, arn)
		if err != nil {
			return nil, err
		}
		return &tagSet{tags: &p.Tags, save: func() error { return saveSAMLProvider(c.Tx, p) }}, nil
	}}
