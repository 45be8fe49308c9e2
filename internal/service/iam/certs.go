package iam

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// Certificates: users' X.509 signing certificates and the account's server
// certificates, both PEM-encoded and parsed with crypto/x509.

var signingCerts = &credKind{kind: "iamsigningcert", idParam: "CertificateId", idMin: 24, userMax: 128,
	userOptional: true, rootAllowed: true, perUser: 2, quota: "SigningCertificatesPerUser",
	missing: "The Certificate with id %s cannot be found."}

const (
	serverCertKind = "iamservercert" // key: NameKey(account, name)
	maxServerCerts = 20
)

var certBodyPattern = documentPattern // [\u0009\u000A\u000D\u0020-\u00FF]+

func init() {
	k := signingCerts
	register(
		&service.Action{Name: "UploadSigningCertificate", IAMAction: "iam:UploadSigningCertificate", Write: true,
			Resource: k.resource, Handle: uploadSigningCertificate},
		&service.Action{Name: "ListSigningCertificates", IAMAction: "iam:ListSigningCertificates",
			Resource: k.resource, Handle: listSigningCertificates},
		&service.Action{Name: "UpdateSigningCertificate", IAMAction: "iam:UpdateSigningCertificate", Write: true,
			Resource: k.resource, Handle: k.update},
		&service.Action{Name: "DeleteSigningCertificate", IAMAction: "iam:DeleteSigningCertificate", Write: true,
			Resource: k.resource, Handle: k.delete},
		&service.Action{Name: "UploadServerCertificate", IAMAction: "iam:UploadServerCertificate", Write: true,
			Resource: newServerCertResource, Context: requestTags, Handle: uploadServerCertificate},
		&service.Action{Name: "GetServerCertificate", IAMAction: "iam:GetServerCertificate",
			Resource: serverCertResource, Context: serverCertTags, Handle: getServerCertificate},
		&service.Action{Name: "ListServerCertificates", IAMAction: "iam:ListServerCertificates", Handle: listServerCertificates},
		&service.Action{Name: "UpdateServerCertificate", IAMAction: "iam:UpdateServerCertificate", Write: true,
			Resource: serverCertResource, Context: serverCertTags, Handle: updateServerCertificate},
		&service.Action{Name: "DeleteServerCertificate", IAMAction: "iam:DeleteServerCertificate", Write: true,
			Resource: serverCertResource, Context: serverCertTags, Handle: deleteServerCertificate},
	)
}

func malformedCertificate(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "MalformedCertificate", format, args...)
}

// errUnparsable is AWS's answer to a body (or private key) that is not PEM.
var errUnparsable = malformedCertificate("Unable to parse certificate. Please ensure the certificate is in PEM format.")

// parseCertificate reads one PEM certificate; whatever follows it is refused.
func parseCertificate(body string) (*x509.Certificate, error) {
	block, rest := pem.Decode([]byte(body))
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) > 0 {
		return nil, errUnparsable
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, errUnparsable
	}
	return cert, nil
}

// parseChain reads a certificate chain: PEM certificates, the issuer of the body
// first, each followed by its own issuer. AWS names the first certificate that
// does not sign its predecessor by its 1-based index.
func parseChain(body *x509.Certificate, chain string) error {
	rest := []byte(chain)
	child := body
	for i := 1; ; i++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if len(bytes.TrimSpace(rest)) > 0 || i == 1 {
				return errUnparsable
			}
			return nil
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil || block.Type != "CERTIFICATE" {
			return errUnparsable
		}
		if child.CheckSignatureFrom(cert) != nil {
			return malformedCertificate("Unable to validate certificate chain. The certificate chain must start with the immediate signing certificate, followed by any intermediaries in order. The index within the chain of the invalid certificate is: %d", i)
		}
		child = cert
	}
}

// parsePrivateKey reads a PEM private key in PKCS #1, SEC 1 or PKCS #8 form.
func parsePrivateKey(s string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errUnparsable
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
	}
	return nil, errUnparsable
}

// certValidity refuses a certificate outside its validity period.
func certValidity(cert *x509.Certificate, now time.Time) error {
	if now.After(cert.NotAfter) {
		return malformedCertificate("The certificate expired on %s.", isoTime(cert.NotAfter))
	}
	if now.Before(cert.NotBefore) {
		return wire.Errorf(http.StatusBadRequest, "InvalidCertificate", "The certificate is not valid before %s.", isoTime(cert.NotBefore))
	}
	return nil
}

func (in *input) certBody(param string, max int) string {
	s, ok := in.required(param)
	if ok {
		in.v.Length(s, lowerFirst(param), 1, max)
		in.v.Check(certBodyPattern.MatchString(s), s, lowerFirst(param), `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
	}
	return s
}

func derHash(cert *x509.Certificate) string {
	h := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(h[:])
}

type signingCertXML struct {
	UserName        string `xml:"UserName,omitempty"`
	CertificateID   string `xml:"CertificateId"`
	CertificateBody string `xml:"CertificateBody"`
	Status          string `xml:"Status"`
	UploadDate      string `xml:"UploadDate"`
}

func newSigningCertXML(cr *credential, owner string) signingCertXML {
	return signingCertXML{UserName: owner, CertificateID: cr.ID, CertificateBody: cr.Body, Status: cr.Status, UploadDate: isoTime(cr.Uploaded)}
}

type uploadSigningCertResult struct {
	Certificate signingCertXML `xml:"Certificate"`
}

// newCertID is a signing certificate id: 28 characters of [A-Z2-7], the length of
// AWS's.
func newCertID() string { return directory.NewID("")[:17] + directory.NewID("")[:11] }

func uploadSigningCertificate(c *service.Call) (any, error) {
	k := signingCerts
	in := newInput(c)
	k.readUser(in)
	body := in.certBody("CertificateBody", 16384)
	if err := in.err(); err != nil {
		return nil, err
	}
	o, err := k.owner(c)
	if err != nil {
		return nil, err
	}
	cert, err := parseCertificate(body)
	if err != nil {
		return nil, err
	}
	if err := certValidity(cert, c.Now); err != nil {
		return nil, err
	}
	fp := derHash(cert)
	dup := false
	err = c.Tx.Scan(k.kind, c.Account()+"/", "", 0, func(_ string, data []byte) (bool, error) {
		var cr credential
		if err := jsonUnmarshal(data, &cr); err != nil {
			return false, err
		}
		dup = cr.Fingerprint == fp
		return !dup, nil
	})
	if err != nil {
		return nil, err
	}
	if dup {
		return nil, wire.Errorf(http.StatusConflict, "DuplicateCertificate", "The same certificate is already associated with an IAM user in the account.")
	}
	mine, err := k.all(c.Tx, c.Account(), o)
	if err != nil {
		return nil, err
	}
	if err := k.room(len(mine)); err != nil {
		return nil, err
	}
	cr := &credential{ID: newCertID(), Account: c.Account(), UserID: o.id, Status: "Active", Uploaded: c.Now.UTC(),
		Body: body, Fingerprint: fp}
	if err := c.Tx.Put(k.kind, cr.key(), cr); err != nil {
		return nil, err
	}
	return &uploadSigningCertResult{newSigningCertXML(cr, o.name)}, nil
}

type listSigningCertsResult struct {
	Certificates list[signingCertXML] `xml:"Certificates"`
	IsTruncated  bool                 `xml:"IsTruncated"`
	Marker       string               `xml:"Marker,omitempty"`
}

func listSigningCertificates(c *service.Call) (any, error) {
	items, o, truncated, marker, err := signingCerts.page(c, nil)
	if err != nil {
		return nil, err
	}
	res := &listSigningCertsResult{IsTruncated: truncated, Marker: marker}
	for _, cr := range items {
		res.Certificates.Member = append(res.Certificates.Member, newSigningCertXML(cr, o.name))
	}
	return res, nil
}

// serverCert is an uploaded server certificate. Its private key is checked against
// the certificate and then dropped: iamlocal has no load balancer to hand it to,
// and a secret not kept cannot leak.
type serverCert struct {
	Account  string
	Name     string
	Path     string
	ID       string // ASCA…
	Arn      string
	Body     string
	Chain    string `json:",omitempty"`
	Uploaded time.Time
	Expires  time.Time
	Tags     []directory.Tag
}

func serverCertArn(account, path, name string) string {
	return arn(account, "server-certificate", path, name)
}

func loadServerCert(tx store.Tx, account, name string) (*serverCert, error) {
	sc := &serverCert{}
	err := tx.Get(serverCertKind, directory.NameKey(account, name), sc)
	if errors.Is(err, store.ErrNotFound) {
		return nil, noSuchEntity("The Server Certificate with name %s cannot be found.", name)
	}
	return sc, err
}

func saveServerCert(tx store.Tx, sc *serverCert) error {
	return tx.Put(serverCertKind, directory.NameKey(sc.Account, sc.Name), sc)
}

// serverCertTags adds the named certificate's tags as aws:ResourceTag/*.
func serverCertTags(c *service.Call, ctx policy.Context) error {
	return serverCertTaggable.context(c, ctx)
}

func newServerCertResource(c *service.Call) (string, string, error) {
	return serverCertArn(c.Account(), optionalPath(c, "Path"), c.Params.Get("ServerCertificateName")), c.Account(), nil
}

func serverCertResource(c *service.Call) (string, string, error) {
	name := c.Params.Get("ServerCertificateName")
	if sc, err := loadServerCert(c.Tx, c.Account(), name); err == nil {
		return sc.Arn, c.Account(), nil
	}
	return serverCertArn(c.Account(), "/", name), c.Account(), nil
}

type serverCertMetadataXML struct {
	Path                  string `xml:"Path"`
	ServerCertificateName string `xml:"ServerCertificateName"`
	ServerCertificateID   string `xml:"ServerCertificateId"`
	Arn                   string `xml:"Arn"`
	UploadDate            string `xml:"UploadDate"`
	Expiration            string `xml:"Expiration"`
}

func (sc *serverCert) metadata() serverCertMetadataXML {
	return serverCertMetadataXML{Path: sc.Path, ServerCertificateName: sc.Name, ServerCertificateID: sc.ID, Arn: sc.Arn,
		UploadDate: isoTime(sc.Uploaded), Expiration: isoTime(sc.Expires)}
}

type uploadServerCertResult struct {
	ServerCertificateMetadata serverCertMetadataXML `xml:"ServerCertificateMetadata"`
	Tags                      *list[tagXML]         `xml:"Tags,omitempty"`
}

func uploadServerCertificate(c *service.Call) (any, error) {
	in := newInput(c)
	name := in.name("ServerCertificateName", 128)
	path := in.path("Path")
	body := in.certBody("CertificateBody", 16384)
	key, _ := in.password("PrivateKey", true) // a secret: messages never quote it
	chain := ""
	if c.Params.Has("CertificateChain") {
		chain = in.certBody("CertificateChain", 2097152)
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	tags, err := readTags(c)
	if err != nil {
		return nil, err
	}
	cert, err := parseCertificate(body)
	if err != nil {
		return nil, err
	}
	priv, err := parsePrivateKey(key)
	if err != nil {
		return nil, err
	}
	if pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(priv.Public()) {
		return nil, wire.Errorf(http.StatusBadRequest, "KeyPairMismatch", "The public key certificate and the private key do not match.")
	}
	if chain != "" {
		if err := parseChain(cert, chain); err != nil {
			return nil, err
		}
	}
	if err := certValidity(cert, c.Now); err != nil {
		return nil, err
	}
	n, err := count(c.Tx, serverCertKind, c.Account()+"/")
	if err != nil {
		return nil, err
	}
	if n >= maxServerCerts {
		return nil, limitExceeded("Cannot exceed quota for ServerCertificatesPerAccount: %d", maxServerCerts)
	}
	sc := &serverCert{Account: c.Account(), Name: name, Path: path, ID: directory.NewID("ASCA"),
		Arn: serverCertArn(c.Account(), path, name), Body: strings.TrimSpace(body), Chain: strings.TrimSpace(chain),
		Uploaded: c.Now.UTC(), Expires: cert.NotAfter.UTC(), Tags: tags}
	ok, err := c.Tx.Insert(serverCertKind, directory.NameKey(sc.Account, name), sc)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, alreadyExists("The Server Certificate with name %s already exists.", name)
	}
	return &uploadServerCertResult{ServerCertificateMetadata: sc.metadata(), Tags: optTags(tags)}, nil
}

type serverCertXML struct {
	ServerCertificateMetadata serverCertMetadataXML `xml:"ServerCertificateMetadata"`
	CertificateBody           string                `xml:"CertificateBody"`
	CertificateChain          string                `xml:"CertificateChain,omitempty"`
	Tags                      *list[tagXML]         `xml:"Tags,omitempty"`
}

type getServerCertResult struct {
	ServerCertificate serverCertXML `xml:"ServerCertificate"`
}

// serverCertParam reads ServerCertificateName and loads the certificate.
func serverCertParam(c *service.Call, more func(in *input)) (*serverCert, error) {
	in := newInput(c)
	name := in.name("ServerCertificateName", 128)
	if more != nil {
		more(in)
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	return loadServerCert(c.Tx, c.Account(), name)
}

func getServerCertificate(c *service.Call) (any, error) {
	sc, err := serverCertParam(c, nil)
	if err != nil {
		return nil, err
	}
	return &getServerCertResult{serverCertXML{ServerCertificateMetadata: sc.metadata(), CertificateBody: sc.Body,
		CertificateChain: sc.Chain, Tags: optTags(sc.Tags)}}, nil
}

type listServerCertsResult struct {
	ServerCertificateMetadataList list[serverCertMetadataXML] `xml:"ServerCertificateMetadataList"`
	IsTruncated                   bool                        `xml:"IsTruncated"`
	Marker                        string                      `xml:"Marker,omitempty"`
}

func listServerCertificates(c *service.Call) (any, error) {
	res := &listServerCertsResult{}
	var err error
	res.IsTruncated, res.Marker, err = listByPath(c, serverCertKind, func(sc *serverCert) string { return sc.Path },
		func(sc *serverCert) error {
			res.ServerCertificateMetadataList.Member = append(res.ServerCertificateMetadataList.Member, sc.metadata())
			return nil
		})
	return res, err
}

// updateServerCertificate renames a certificate or changes its path. AWS: "The
// person making the request (the principal), must have permission to change the
// server certificate with the old name and the new name."
func updateServerCertificate(c *service.Call) (any, error) {
	var newName, newPath string
	sc, err := serverCertParam(c, func(in *input) {
		newName = in.optName("NewServerCertificateName", 128)
		if c.Params.Has("NewPath") {
			newPath = in.path("NewPath")
		}
	})
	if err != nil {
		return nil, err
	}
	oldKey := directory.NameKey(sc.Account, sc.Name)
	if newPath != "" {
		sc.Path = newPath
	}
	if newName != "" {
		sc.Name = newName
	}
	sc.Arn = serverCertArn(sc.Account, sc.Path, sc.Name)
	if err := c.Authorize(service.Request{Action: "iam:UpdateServerCertificate", Resource: sc.Arn, ResourceAccount: sc.Account}); err != nil {
		return nil, err
	}
	newKey := directory.NameKey(sc.Account, sc.Name)
	if newKey != oldKey {
		exists, err := has(c.Tx, serverCertKind, newKey)
		if err != nil {
			return nil, err
		}
		if exists {
			return nil, alreadyExists("The Server Certificate with name %s already exists.", newName)
		}
		if _, err := c.Tx.Delete(serverCertKind, oldKey); err != nil {
			return nil, err
		}
	}
	return nil, saveServerCert(c.Tx, sc)
}

func deleteServerCertificate(c *service.Call) (any, error) {
	sc, err := serverCertParam(c, nil)
	if err != nil {
		return nil, err
	}
	_, err = c.Tx.Delete(serverCertKind, directory.NameKey(sc.Account, sc.Name))
	return nil, err
}

// certsOf lists a user's signing certificates (the root user's for user "") for the
// credential report, oldest first.
func certsOf(tx store.Tx, account, user string) ([]reportCert, error) {
	o := &credOwner{}
	if user != "" {
		var u directory.User
		if err := tx.Get(directory.KindUser, directory.NameKey(account, user), &u); err != nil {
			return nil, err
		}
		o.id = u.ID
	}
	all, err := signingCerts.all(tx, account, o)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Uploaded.Before(all[j].Uploaded) })
	out := make([]reportCert, len(all))
	for i, cr := range all {
		out[i] = reportCert{Active: cr.Status == "Active", Created: cr.Uploaded}
	}
	return out, nil
}
