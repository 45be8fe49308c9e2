package saml

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Metadata is what an IAM SAML provider keeps of its identity provider's metadata.
type Metadata struct {
	EntityID string
	// ValidUntil is the validUntil attribute of the EntityDescriptor or of its
	// IDPSSODescriptor, the earlier of the two; zero when neither has one.
	ValidUntil time.Time
	// Certs are the signing certificates: those of KeyDescriptors with use="signing"
	// or no use. A response must be signed by one of them.
	Certs []*x509.Certificate
}

type xEntityDescriptor struct {
	XMLName    xml.Name            `xml:"urn:oasis:names:tc:SAML:2.0:metadata EntityDescriptor"`
	EntityID   string              `xml:"entityID,attr"`
	ValidUntil string              `xml:"validUntil,attr"`
	IDPSSO     []xIDPSSODescriptor `xml:"urn:oasis:names:tc:SAML:2.0:metadata IDPSSODescriptor"`
}

type xIDPSSODescriptor struct {
	ValidUntil string           `xml:"validUntil,attr"`
	Protocols  string           `xml:"protocolSupportEnumeration,attr"`
	Keys       []xKeyDescriptor `xml:"urn:oasis:names:tc:SAML:2.0:metadata KeyDescriptor"`
}

type xKeyDescriptor struct {
	Use     string   `xml:"use,attr"`
	KeyInfo xKeyInfo `xml:"http://www.w3.org/2000/09/xmldsig# KeyInfo"`
}

type xKeyInfo struct {
	X509Data []xX509Data `xml:"http://www.w3.org/2000/09/xmldsig# X509Data"`
}

type xX509Data struct {
	Certs []string `xml:"http://www.w3.org/2000/09/xmldsig# X509Certificate"`
}

// MaxMetadataSize bounds a metadata document (IAM's own limit is 10,000,000
// characters; SAMLMetadataDocumentType).
const MaxMetadataSize = 10_000_000

// ParseMetadata reads an identity provider's metadata: an EntityDescriptor with an
// IDPSSODescriptor for SAML 2.0 that lists at least one signing certificate. Its
// errors say what is wrong; IAM answers all of them with one message.
func ParseMetadata(doc []byte) (*Metadata, error) {
	if len(doc) > MaxMetadataSize {
		return nil, fmt.Errorf("the document is longer than %d bytes", MaxMetadataSize)
	}
	if err := refuseDTD(doc); err != nil {
		return nil, err
	}
	var ed xEntityDescriptor
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	if err := dec.Decode(&ed); err != nil {
		return nil, fmt.Errorf("not an EntityDescriptor (urn:oasis:names:tc:SAML:2.0:metadata): %v", err)
	}
	if err := trailing(dec); err != nil {
		return nil, err
	}
	md := &Metadata{EntityID: strings.TrimSpace(ed.EntityID)}
	if md.EntityID == "" {
		return nil, fmt.Errorf("the EntityDescriptor has no entityID")
	}
	if len(md.EntityID) > 1024 {
		return nil, fmt.Errorf("the entityID is longer than 1024 characters")
	}
	var err error
	if md.ValidUntil, err = earlier(md.ValidUntil, ed.ValidUntil); err != nil {
		return nil, err
	}
	found := false
	for _, d := range ed.IDPSSO {
		if !strings.Contains(d.Protocols, NSProtocol) {
			continue
		}
		found = true
		if md.ValidUntil, err = earlier(md.ValidUntil, d.ValidUntil); err != nil {
			return nil, err
		}
		for _, k := range d.Keys {
			if k.Use != "" && k.Use != "signing" {
				continue
			}
			for _, x := range k.KeyInfo.X509Data {
				for _, c := range x.Certs {
					cert, err := parseCert(c)
					if err != nil {
						return nil, err
					}
					md.Certs = append(md.Certs, cert)
				}
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("the EntityDescriptor has no IDPSSODescriptor supporting %s", NSProtocol)
	}
	if len(md.Certs) == 0 {
		return nil, fmt.Errorf("the IDPSSODescriptor lists no signing certificate (KeyDescriptor with an X509Certificate)")
	}
	return md, nil
}

// parseCert reads a base64 DER certificate as metadata holds it (line breaks allowed).
func parseCert(text string) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(text), ""))
	if err != nil {
		return nil, fmt.Errorf("an X509Certificate is not base64: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("an X509Certificate is not a certificate: %v", err)
	}
	return cert, nil
}

// earlier returns the earlier of t and an xs:dateTime value ("" leaves t).
func earlier(t time.Time, value string) (time.Time, error) {
	if value == "" {
		return t, nil
	}
	v, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(value))
	if err != nil {
		return t, fmt.Errorf("validUntil %q is not a dateTime", value)
	}
	if t.IsZero() || v.Before(t) {
		return v.UTC(), nil
	}
	return t, nil
}

// refuseDTD refuses documents with a document type declaration: SAML messages and
// metadata have none, and entity expansion is how XML parsers are attacked.
func refuseDTD(doc []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return nil // the real parse reports it
		}
		switch tok.(type) {
		case xml.Directive:
			return fmt.Errorf("the document has a DOCTYPE, which SAML does not allow")
		case xml.StartElement:
			return nil
		}
	}
}

// trailing refuses anything but whitespace, comments and processing instructions
// after the root element.
func trailing(dec *xml.Decoder) error {
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("after the root element: %v", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return fmt.Errorf("text after the root element")
			}
		case xml.Comment, xml.ProcInst:
		default:
			return fmt.Errorf("more than one root element")
		}
	}
}
