package iam

import (
	"bytes"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// SSH public keys for CodeCommit. AWS: "The public key must be encoded in ssh-rsa
// format or PEM format. The minimum bit-length of the public key is 2048 bits."
// (UploadSSHPublicKey, SSHPublicKeyBody). iamlocal reads the OpenSSH line, the
// RFC 4716 (SSH2) block and PEM (PKIX or PKCS #1); it recognizes ssh-ed25519,
// ecdsa-sha2-* and ssh-dss keys so as to say they are unsupported.

var sshKeys = &credKind{kind: "iamsshkey", idParam: "SSHPublicKeyId", idMin: 20, userMax: 64,
	perUser: 5, quota: "SSHPublicKeysPerUser", missing: "The SSH Public Key with id %s cannot be found."}

const minSSHKeyBits = 2048

func init() {
	k := sshKeys
	register(
		&service.Action{Name: "UploadSSHPublicKey", IAMAction: "iam:UploadSSHPublicKey", Write: true,
			Resource: k.resource, Handle: uploadSSHPublicKey},
		&service.Action{Name: "GetSSHPublicKey", IAMAction: "iam:GetSSHPublicKey", Resource: k.resource, Handle: getSSHPublicKey},
		&service.Action{Name: "ListSSHPublicKeys", IAMAction: "iam:ListSSHPublicKeys", Resource: listSSHResource, Handle: listSSHPublicKeys},
		&service.Action{Name: "UpdateSSHPublicKey", IAMAction: "iam:UpdateSSHPublicKey", Write: true,
			Resource: k.resource, Handle: k.update},
		&service.Action{Name: "DeleteSSHPublicKey", IAMAction: "iam:DeleteSSHPublicKey", Write: true,
			Resource: k.resource, Handle: k.delete},
	)
}

// sshKey is a parsed RSA public key.
type sshKey struct {
	pub  *rsa.PublicKey
	blob []byte // the SSH wire encoding: string "ssh-rsa", mpint e, mpint n
}

// sshKeyError is why a key body was refused: unrecognized is
// UnrecognizedPublicKeyEncoding, otherwise InvalidPublicKey.
type sshKeyError struct {
	unrecognized bool
	detail       string
}

func (e *sshKeyError) Error() string { return e.detail }

func (e *sshKeyError) wire() *wire.Error {
	if e.unrecognized {
		return wire.Errorf(http.StatusBadRequest, "UnrecognizedPublicKeyEncoding",
			"The public key encoding format is unsupported or unrecognized: %s", e.detail)
	}
	return wire.Errorf(http.StatusBadRequest, "InvalidPublicKey", "The public key is malformed or otherwise invalid: %s", e.detail)
}

func unrecognized(format string, args ...any) error {
	return &sshKeyError{unrecognized: true, detail: fmt.Sprintf(format, args...)}
}

func invalidKey(format string, args ...any) error {
	return &sshKeyError{detail: fmt.Sprintf(format, args...)}
}

// parseSSHPublicKey reads an SSH public key in any of the forms AWS accepts.
func parseSSHPublicKey(body string) (*sshKey, error) {
	s := strings.TrimSpace(body)
	switch {
	case strings.HasPrefix(s, "---- BEGIN SSH2 PUBLIC KEY ----"):
		blob, err := rfc4716Blob(s)
		if err != nil {
			return nil, err
		}
		return parseSSHBlob(blob)
	case strings.HasPrefix(s, "-----BEGIN "):
		return parsePEMKey(s)
	}
	fields := strings.Fields(s)
	if len(fields) < 2 {
		return nil, unrecognized("expected ssh-rsa, SSH2 or PEM encoding")
	}
	if !knownSSHType(fields[0]) {
		return nil, unrecognized("unknown key type %q", truncate(fields[0], 40))
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		return nil, invalidKey("the key is not valid base64")
	}
	k, err := parseSSHBlob(blob)
	if err != nil {
		return nil, err
	}
	if t, _, _ := sshString(blob); string(t) != fields[0] {
		return nil, invalidKey("the key type %s does not match the encoded key", truncate(fields[0], 40))
	}
	return k, nil
}

func knownSSHType(t string) bool {
	return t == "ssh-rsa" || t == "ssh-dss" || t == "ssh-ed25519" || strings.HasPrefix(t, "ecdsa-sha2-") ||
		strings.HasPrefix(t, "sk-")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// rfc4716Blob reads the base64 body of an RFC 4716 block, skipping its headers
// (with their backslash continuations).
func rfc4716Blob(s string) ([]byte, error) {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	end := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == "---- END SSH2 PUBLIC KEY ----" {
			end = i
			break
		}
	}
	if end < 0 {
		return nil, invalidKey("the SSH2 block has no END line")
	}
	var b64 strings.Builder
	continued := false
	for _, l := range lines[1:end] {
		l = strings.TrimSpace(l)
		switch {
		case continued:
			continued = strings.HasSuffix(l, `\`)
		case strings.Contains(l, ":"):
			continued = strings.HasSuffix(l, `\`)
		default:
			b64.WriteString(l)
		}
	}
	blob, err := base64.StdEncoding.DecodeString(b64.String())
	if err != nil {
		return nil, invalidKey("the key is not valid base64")
	}
	return blob, nil
}

// parsePEMKey reads a PKIX ("PUBLIC KEY") or PKCS #1 ("RSA PUBLIC KEY") key.
func parsePEMKey(s string) (*sshKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, invalidKey("the PEM block cannot be decoded")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, unrecognized("PEM type %q is not a public key", truncate(block.Type, 40))
	}
	if err != nil {
		return nil, invalidKey("the PEM key cannot be parsed")
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, unrecognized("only RSA keys are supported")
	}
	return newSSHKey(rk)
}

func newSSHKey(pub *rsa.PublicKey) (*sshKey, error) {
	if pub.N.BitLen() < minSSHKeyBits {
		return nil, invalidKey("the key has %d bits; the minimum is %d", pub.N.BitLen(), minSSHKeyBits)
	}
	var b bytes.Buffer
	putString(&b, []byte("ssh-rsa"))
	putMpint(&b, big.NewInt(int64(pub.E)))
	putMpint(&b, pub.N)
	return &sshKey{pub: pub, blob: b.Bytes()}, nil
}

// parseSSHBlob reads the SSH wire encoding of a public key (RFC 4253 §6.6).
func parseSSHBlob(blob []byte) (*sshKey, error) {
	t, rest, ok := sshString(blob)
	if !ok {
		return nil, invalidKey("the encoded key is truncated")
	}
	if string(t) != "ssh-rsa" {
		if knownSSHType(string(t)) {
			return nil, unrecognized("%s keys are not supported; use an RSA key of at least %d bits", t, minSSHKeyBits)
		}
		return nil, unrecognized("unknown key type %q", truncate(string(t), 40))
	}
	e, rest, ok := sshString(rest)
	if !ok {
		return nil, invalidKey("the encoded key is truncated")
	}
	n, rest, ok := sshString(rest)
	if !ok || len(rest) != 0 {
		return nil, invalidKey("the encoded key is truncated or has trailing data")
	}
	E := new(big.Int).SetBytes(e)
	if len(e) == 0 || e[0]&0x80 != 0 || len(n) == 0 || n[0]&0x80 != 0 || !E.IsInt64() || E.Int64() < 3 || E.Int64() > 1<<31-1 || E.Bit(0) == 0 {
		return nil, invalidKey("the RSA key's numbers are invalid")
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(E.Int64())}
	if pub.N.BitLen() < minSSHKeyBits {
		return nil, invalidKey("the key has %d bits; the minimum is %d", pub.N.BitLen(), minSSHKeyBits)
	}
	return &sshKey{pub: pub, blob: blob}, nil
}

func sshString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

func putString(b *bytes.Buffer, s []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(s)))
	b.Write(s)
}

func putMpint(b *bytes.Buffer, n *big.Int) {
	bs := n.Bytes()
	if len(bs) > 0 && bs[0]&0x80 != 0 {
		bs = append([]byte{0}, bs...)
	}
	putString(b, bs)
}

// fingerprint is the key's MD5 fingerprint as AWS shows it (ssh-keygen -E md5).
func (k *sshKey) fingerprint() string {
	sum := md5.Sum(k.blob)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":")
}

// openSSH is the key as an OpenSSH line.
func (k *sshKey) openSSH() string { return "ssh-rsa " + base64.StdEncoding.EncodeToString(k.blob) }

// pemText is the key in PEM (PKCS #1, as ssh-keygen -e -m PEM writes it).
func (k *sshKey) pemText() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(k.pub)}))
}

type sshKeyXML struct {
	UserName         string `xml:"UserName"`
	SSHPublicKeyID   string `xml:"SSHPublicKeyId"`
	Fingerprint      string `xml:"Fingerprint,omitempty"`
	SSHPublicKeyBody string `xml:"SSHPublicKeyBody,omitempty"`
	Status           string `xml:"Status"`
	UploadDate       string `xml:"UploadDate"`
}

type sshKeyResult struct {
	SSHPublicKey sshKeyXML `xml:"SSHPublicKey"`
}

func uploadSSHPublicKey(c *service.Call) (any, error) {
	k := sshKeys
	in := newInput(c)
	k.readUser(in)
	body := in.certBody("SSHPublicKeyBody", 16384)
	if err := in.err(); err != nil {
		return nil, err
	}
	o, err := k.owner(c)
	if err != nil {
		return nil, err
	}
	key, err := parseSSHPublicKey(body)
	var ke *sshKeyError
	if errors.As(err, &ke) {
		return nil, ke.wire()
	}
	if err != nil {
		return nil, err
	}
	mine, err := k.all(c.Tx, c.Account(), o)
	if err != nil {
		return nil, err
	}
	fp := key.fingerprint()
	for _, cr := range mine {
		if cr.Fingerprint == fp {
			return nil, wire.Errorf(http.StatusBadRequest, "DuplicateSSHPublicKey",
				"The SSH public key is already associated with the specified IAM user %s.", o.name)
		}
	}
	if err := k.room(len(mine)); err != nil {
		return nil, err
	}
	cr := &credential{ID: directory.NewID("APKA"), Account: c.Account(), UserID: o.id, Status: "Active",
		Uploaded: c.Now.UTC(), Body: strings.TrimSpace(body), Fingerprint: fp}
	if err := c.Tx.Put(k.kind, cr.key(), cr); err != nil {
		return nil, err
	}
	return &sshKeyResult{sshKeyXML{UserName: o.name, SSHPublicKeyID: cr.ID, Fingerprint: fp, SSHPublicKeyBody: cr.Body,
		Status: cr.Status, UploadDate: isoTime(cr.Uploaded)}}, nil
}

// getSSHPublicKey answers the key in the encoding asked for: SSH (an OpenSSH line:
// the body as uploaded when it was one) or PEM.
func getSSHPublicKey(c *service.Call) (any, error) {
	cr, o, err := sshKeys.find(c, func(in *input) {
		if e, ok := in.required("Encoding"); ok {
			in.v.Check(e == "SSH" || e == "PEM", e, "encoding", "satisfy enum value set: [SSH, PEM]")
		}
	})
	if err != nil {
		return nil, err
	}
	key, err := parseSSHPublicKey(cr.Body)
	if err != nil {
		return nil, err
	}
	body := key.pemText()
	if c.Params.Get("Encoding") == "SSH" {
		body = key.openSSH()
		if f := strings.Fields(cr.Body); len(f) >= 2 && f[0] == "ssh-rsa" {
			body = cr.Body
		}
	}
	return &sshKeyResult{sshKeyXML{UserName: o.name, SSHPublicKeyID: cr.ID, Fingerprint: cr.Fingerprint,
		SSHPublicKeyBody: body, Status: cr.Status, UploadDate: isoTime(cr.Uploaded)}}, nil
}

// listSSHResource is the named user or, without UserName, the caller.
func listSSHResource(c *service.Call) (string, string, error) { return keyOwnerResource(c) }

type listSSHKeysResult struct {
	SSHPublicKeys list[sshKeyXML] `xml:"SSHPublicKeys"`
	IsTruncated   bool            `xml:"IsTruncated"`
	Marker        string          `xml:"Marker,omitempty"`
}

// listSSHPublicKeys lists the named user's keys or, without UserName, the caller's
// (botocore: UserName is optional here only).
func listSSHPublicKeys(c *service.Call) (any, error) {
	k := *sshKeys
	k.userOptional = true
	items, o, truncated, marker, err := k.page(c, nil)
	if err != nil {
		return nil, err
	}
	res := &listSSHKeysResult{IsTruncated: truncated, Marker: marker}
	for _, cr := range items {
		res.SSHPublicKeys.Member = append(res.SSHPublicKeys.Member,
			sshKeyXML{UserName: o.name, SSHPublicKeyID: cr.ID, Status: cr.Status, UploadDate: isoTime(cr.Uploaded)})
	}
	return res, nil
}
