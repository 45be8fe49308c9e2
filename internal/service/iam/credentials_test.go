package iam_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// fakeRSA is an RSA public key of the given size: a random odd modulus, which is
// all that parsing and fingerprints look at (real keys take seconds to generate
// under the race detector).
func fakeRSA(t *testing.T, bits int) *rsa.PublicKey {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits)))
	if err != nil {
		t.Fatal(err)
	}
	n.SetBit(n, bits-1, 1)
	n.SetBit(n, 0, 1)
	return &rsa.PublicKey{N: n, E: 65537}
}

func sshWire(parts ...[]byte) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		binary.Write(&b, binary.BigEndian, uint32(len(p)))
		b.Write(p)
	}
	return b.Bytes()
}

func rsaBlob(k *rsa.PublicKey) []byte {
	n := k.N.Bytes()
	if n[0]&0x80 != 0 {
		n = append([]byte{0}, n...)
	}
	return sshWire([]byte("ssh-rsa"), big.NewInt(int64(k.E)).Bytes(), n)
}

// testSSHKey is a fresh 2048-bit ssh-rsa key in OpenSSH form.
func testSSHKey(t *testing.T) string {
	return "ssh-rsa " + base64.StdEncoding.EncodeToString(rsaBlob(fakeRSA(t, 2048))) + " dev@example"
}

func md5Fingerprint(blob []byte) string {
	sum := md5.Sum(blob)
	var parts []string
	for _, b := range sum {
		parts = append(parts, fmt.Sprintf("%02x", b))
	}
	return strings.Join(parts, ":")
}

// testCertKey makes a self-signed certificate (signed by parent when given) and
// returns it, its PEM and its key's PEM.
func testCertKey(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, ca bool, notAfter time.Time) (*x509.Certificate, *ecdsa.PrivateKey, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: notAfter, BasicConstraintsValid: true, IsCA: ca, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kder, _ := x509.MarshalECPrivateKey(key)
	return cert, key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

// testCert is a fresh self-signed certificate valid for a year, and its key, in PEM.
func testCert(t *testing.T, cn string) (string, string) {
	_, _, c, k := testCertKey(t, cn, nil, nil, false, time.Now().Add(365*24*time.Hour))
	return c, k
}

func TestLoginProfile(t *testing.T) {
	e := start(t)
	e.user("alice")
	_, err := e.root.GetLoginProfile(e.ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")})
	// AWS's wording, as the CLI prints it (public write-ups quote "Login Profile for
	// User victimuser cannot be found.").
	wantErr(t, err, "NoSuchEntity", 404, "Login Profile for User alice cannot be found.")

	lp := ok(e.root.CreateLoginProfile(e.ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Secret-pass-1"),
		PasswordResetRequired: true}))(t).LoginProfile
	if aws.ToString(lp.UserName) != "alice" || !lp.PasswordResetRequired || lp.CreateDate == nil {
		t.Fatalf("login profile: %+v", lp)
	}
	_, err = e.root.CreateLoginProfile(e.ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Secret-pass-2")})
	// As botocore error output quoted in public scripts records it.
	wantErr(t, err, "EntityAlreadyExists", 409, "Login Profile for user alice already exists.")

	ok(e.root.UpdateLoginProfile(e.ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), PasswordResetRequired: aws.Bool(false)}))(t)
	got := ok(e.root.GetLoginProfile(e.ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")}))(t).LoginProfile
	if got.PasswordResetRequired || !got.CreateDate.Equal(*lp.CreateDate) {
		t.Fatalf("after update: %+v", got)
	}
	// GetUser never reports PasswordLastUsed: nobody signs in to a console here.
	if u := ok(e.root.GetUser(e.ctx, &iam.GetUserInput{UserName: aws.String("alice")}))(t).User; u.PasswordLastUsed != nil {
		t.Fatalf("PasswordLastUsed: %v", u.PasswordLastUsed)
	}
	_, err = e.root.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete login profile first.")
	ok(e.root.DeleteLoginProfile(e.ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("alice")}))(t)
	_, err = e.root.DeleteLoginProfile(e.ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("alice")})
	wantErr(t, err, "NoSuchEntity", 404, "Login Profile for User alice cannot be found.")
	ok(e.root.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}))(t)
	_, err = e.root.CreateLoginProfile(e.ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Secret-pass-1")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name alice cannot be found.")
}

func TestPasswordPolicyEnforced(t *testing.T) {
	e := start(t)
	e.user("bob")
	create := func(pw string) error {
		_, err := e.root.CreateLoginProfile(e.ctx, &iam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String(pw)})
		return err
	}
	// Without a custom policy AWS's default applies: 8 characters, three of four
	// kinds. Both messages are AWS's, quoted from CreateLoginProfile errors in public
	// repositories.
	wantErr(t, create("Ab1!"), "PasswordPolicyViolation", 400, "Password should have a minimum length of 8")
	wantErr(t, create("abcdefgh1"), "PasswordPolicyViolation", 400,
		"Password should meet 1 more of the following requirements: Password should have at least one uppercase letter, Password should have at least one symbol")
	ok(e.root.UpdateAccountPasswordPolicy(e.ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(10),
		RequireNumbers: true, RequireUppercaseCharacters: true, PasswordReusePrevention: aws.Int32(1)}))(t)
	wantErr(t, create("Abcdefgh1"), "PasswordPolicyViolation", 400, "Password should have a minimum length of 10")
	wantErr(t, create("abcdefghijk"), "PasswordPolicyViolation", 400,
		"Password should have at least one uppercase letter, Password should have at least one number")
	ok(0, create("Abcdefghij1"))(t)
	_, err := e.root.UpdateLoginProfile(e.ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("Abcdefghij1")})
	wantErr(t, err, "PasswordPolicyViolation", 400, "Password should not be one of the previous 1 passwords")
	ok(e.root.UpdateLoginProfile(e.ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("Abcdefghij2")}))(t)
	// A password is a secret: a validation message names the member, not the value.
	_, err = e.root.CreateLoginProfile(e.ctx, &iam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String(strings.Repeat("x", 129))})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length less than or equal to 128")
}

func TestChangePassword(t *testing.T) {
	e := start(t)
	carol, _ := e.signer("carol", "")
	ok(e.root.CreateLoginProfile(e.ctx, &iam.CreateLoginProfileInput{UserName: aws.String("carol"), Password: aws.String("First-pass-1"), PasswordResetRequired: true}))(t)
	change := func(c *iam.Client, old, new string) error {
		_, err := c.ChangePassword(e.ctx, &iam.ChangePasswordInput{OldPassword: aws.String(old), NewPassword: aws.String(new)})
		return err
	}
	// Without permission: iam:ChangePassword on the caller's own ARN is denied.
	wantErr(t, change(carol, "First-pass-1", "Second-pass-2"), "AccessDenied", 403,
		"User: arn:aws:iam::111111111111:user/carol is not authorized to perform: iam:ChangePassword on resource: arn:aws:iam::111111111111:user/carol because no identity-based policy allows the iam:ChangePassword action")
	// AllowUsersToChangePassword grants it (and GetAccountPasswordPolicy) to every user.
	ok(e.root.UpdateAccountPasswordPolicy(e.ctx, &iam.UpdateAccountPasswordPolicyInput{AllowUsersToChangePassword: true}))(t)
	ok(carol.GetAccountPasswordPolicy(e.ctx, &iam.GetAccountPasswordPolicyInput{}))(t)
	wantErr(t, change(carol, "wrong-old", "Second-pass-2"), "AccessDenied", 403, "The old password is incorrect.")
	wantErr(t, change(carol, "First-pass-1", "short"), "PasswordPolicyViolation", 400, "Password should have a minimum length of 6")
	ok(0, change(carol, "First-pass-1", "Second-pass-2"))(t)
	if lp := ok(e.root.GetLoginProfile(e.ctx, &iam.GetLoginProfileInput{UserName: aws.String("carol")}))(t).LoginProfile; lp.PasswordResetRequired {
		t.Fatal("PasswordResetRequired after ChangePassword")
	}
	wantErr(t, change(carol, "First-pass-1", "Third-pass-3"), "AccessDenied", 403, "The old password is incorrect.")
	ok(0, change(carol, "Second-pass-2", "Third-pass-3"))(t)
	// An explicit deny still wins over the account's grant.
	ok(e.root.PutUserPolicy(e.ctx, &iam.PutUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("deny"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:ChangePassword","Resource":"*"}]}`)}))(t)
	wantErr(t, change(carol, "Third-pass-3", "Fourth-pass-4"), "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/carol is not authorized to perform: iam:ChangePassword…")
	// Only IAM users change their own password.
	wantErr(t, change(e.root, "a", "b"), "InvalidUserType", 400, "Only IAM users can change their own password.")
	// A user without a login profile.
	dave, _ := e.signer("dave", "")
	wantErr(t, change(dave, "x", "Some-pass-1"), "NoSuchEntity", 404, "Login Profile for User dave cannot be found.")
}

func TestSSHPublicKeys(t *testing.T) {
	e := start(t)
	e.user("dev")
	pub := fakeRSA(t, 2048)
	body := "ssh-rsa " + base64.StdEncoding.EncodeToString(rsaBlob(pub)) + " dev@laptop"
	up := ok(e.root.UploadSSHPublicKey(e.ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyBody: aws.String(body)}))(t).SSHPublicKey
	if aws.ToString(up.Fingerprint) != md5Fingerprint(rsaBlob(pub)) || up.Status != types.StatusTypeActive ||
		!strings.HasPrefix(aws.ToString(up.SSHPublicKeyId), "APKA") || len(aws.ToString(up.SSHPublicKeyId)) < 20 {
		t.Fatalf("uploaded: %+v", up)
	}
	id := up.SSHPublicKeyId
	get := func(enc types.EncodingType) *types.SSHPublicKey {
		return ok(e.root.GetSSHPublicKey(e.ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyId: id, Encoding: enc}))(t).SSHPublicKey
	}
	if got := get(types.EncodingTypeSsh); aws.ToString(got.SSHPublicKeyBody) != body {
		t.Fatalf("SSH encoding: %q", aws.ToString(got.SSHPublicKeyBody))
	}
	pemBody := aws.ToString(get(types.EncodingTypePem).SSHPublicKeyBody)
	block, _ := pem.Decode([]byte(pemBody))
	if block == nil || block.Type != "RSA PUBLIC KEY" {
		t.Fatalf("PEM encoding: %q", pemBody)
	}
	if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err != nil || k.N.Cmp(pub.N) != 0 {
		t.Fatalf("PEM key: %v", err)
	}
	// The same key again, in PEM (PKIX) form: a duplicate.
	pkix, _ := x509.MarshalPKIXPublicKey(pub)
	_, err := e.root.UploadSSHPublicKey(e.ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dev"),
		SSHPublicKeyBody: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})))})
	wantErr(t, err, "DuplicateSSHPublicKey", 400, "The SSH public key is already associated with the specified IAM user dev.")

	// RFC 4716 (SSH2) form.
	other := fakeRSA(t, 3072)
	b64 := base64.StdEncoding.EncodeToString(rsaBlob(other))
	var ssh2 strings.Builder
	ssh2.WriteString("---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"3072-bit RSA, converted by dev\\\n from OpenSSH\"\n")
	for len(b64) > 70 {
		ssh2.WriteString(b64[:70] + "\n")
		b64 = b64[70:]
	}
	ssh2.WriteString(b64 + "\n---- END SSH2 PUBLIC KEY ----\n")
	up2 := ok(e.root.UploadSSHPublicKey(e.ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyBody: aws.String(ssh2.String())}))(t).SSHPublicKey
	if aws.ToString(up2.Fingerprint) != md5Fingerprint(rsaBlob(other)) {
		t.Fatalf("SSH2 fingerprint %s", aws.ToString(up2.Fingerprint))
	}

	ok(e.root.UpdateSSHPublicKey(e.ctx, &iam.UpdateSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyId: id, Status: types.StatusTypeInactive}))(t)
	keys := paginate(t, func(m *string) ([]types.SSHPublicKeyMetadata, bool, *string, error) {
		out, err := e.root.ListSSHPublicKeys(e.ctx, &iam.ListSSHPublicKeysInput{UserName: aws.String("dev"), MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.SSHPublicKeys, out.IsTruncated, out.Marker, nil
	})
	if len(keys) != 2 {
		t.Fatalf("keys: %+v", keys)
	}
	for _, k := range keys {
		if aws.ToString(k.SSHPublicKeyId) == aws.ToString(id) && k.Status != types.StatusTypeInactive {
			t.Fatalf("status after update: %+v", k)
		}
	}
	_, err = e.root.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("dev")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete SSH public keys first.")
	ok(e.root.DeleteSSHPublicKey(e.ctx, &iam.DeleteSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyId: id}))(t)
	_, err = e.root.GetSSHPublicKey(e.ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyId: id, Encoding: types.EncodingTypeSsh})
	wantErr(t, err, "NoSuchEntity", 404, "The SSH Public Key with id "+aws.ToString(id)+" cannot be found.")
}

func TestSSHPublicKeyRefusals(t *testing.T) {
	e := start(t)
	e.user("dev")
	upload := func(body string) error {
		_, err := e.root.UploadSSHPublicKey(e.ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyBody: aws.String(body)})
		return err
	}
	// AWS: "The public key must be encoded in ssh-rsa format or PEM format. The
	// minimum bit-length of the public key is 2048 bits."
	small := "ssh-rsa " + base64.StdEncoding.EncodeToString(rsaBlob(fakeRSA(t, 1024)))
	wantErr(t, upload(small), "InvalidPublicKey", 400, "The public key is malformed or otherwise invalid: the key has 1024 bits; the minimum is 2048")
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ed := "ssh-ed25519 " + base64.StdEncoding.EncodeToString(sshWire([]byte("ssh-ed25519"), edPub))
	wantErr(t, upload(ed), "UnrecognizedPublicKeyEncoding", 400,
		"The public key encoding format is unsupported or unrecognized: ssh-ed25519 keys are not supported; use an RSA key of at least 2048 bits")
	wantErr(t, upload("not a key"), "UnrecognizedPublicKeyEncoding", 400, "The public key encoding format is unsupported or unrecognized: unknown key type \"not\"")
	wantErr(t, upload("ssh-rsa !!!!"), "InvalidPublicKey", 400, "The public key is malformed or otherwise invalid: the key is not valid base64")
	for range 5 {
		ok(0, upload(testSSHKey(t)))(t)
	}
	wantErr(t, upload(testSSHKey(t)), "LimitExceeded", 409, "Cannot exceed quota for SSHPublicKeysPerUser: 5")
	_, err := e.root.GetSSHPublicKey(e.ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyId: aws.String("short"), Encoding: "DER"})
	wantErr(t, err, "ValidationError", 400, "2 validation errors detected: Value 'short' at 'sSHPublicKeyId' failed to satisfy constraint: Member must have length greater than or equal to 20; "+
		"Value 'DER' at 'encoding' failed to satisfy constraint: Member must satisfy enum value set: [SSH, PEM]")
	_, err = e.root.UploadSSHPublicKey(e.ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("nobody"), SSHPublicKeyBody: aws.String(testSSHKey(t))})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
}

func TestSigningCertificates(t *testing.T) {
	e := start(t)
	client, _ := e.signer("signer", allowAll)
	cert1, _ := testCert(t, "one")
	cert2, _ := testCert(t, "two")
	c1 := ok(e.root.UploadSigningCertificate(e.ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("signer"), CertificateBody: &cert1}))(t).Certificate
	if aws.ToString(c1.UserName) != "signer" || c1.Status != types.StatusTypeActive || len(aws.ToString(c1.CertificateId)) < 24 || aws.ToString(c1.CertificateBody) != cert1 {
		t.Fatalf("certificate: %+v", c1)
	}
	// Without UserName: the caller's own.
	c2 := ok(client.UploadSigningCertificate(e.ctx, &iam.UploadSigningCertificateInput{CertificateBody: &cert2}))(t).Certificate
	if aws.ToString(c2.UserName) != "signer" {
		t.Fatalf("caller's certificate: %+v", c2)
	}
	cert3, _ := testCert(t, "three")
	_, err := client.UploadSigningCertificate(e.ctx, &iam.UploadSigningCertificateInput{CertificateBody: &cert3})
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for SigningCertificatesPerUser: 2")
	e.user("other")
	_, err = e.root.UploadSigningCertificate(e.ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("other"), CertificateBody: &cert1})
	wantErr(t, err, "DuplicateCertificate", 409, "The same certificate is already associated with an IAM user in the account.")
	// AWS's MalformedCertificate message for a body that is not PEM.
	_, err = e.root.UploadSigningCertificate(e.ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("other"), CertificateBody: aws.String("MIIB...")})
	wantErr(t, err, "MalformedCertificate", 400, "Unable to parse certificate. Please ensure the certificate is in PEM format.")
	_, _, expired, _ := testCertKey(t, "old", nil, nil, false, time.Now().Add(-time.Minute))
	_, err = e.root.UploadSigningCertificate(e.ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("other"), CertificateBody: &expired})
	wantErr(t, err, "MalformedCertificate", 400, "The certificate expired on …")

	ok(client.UpdateSigningCertificate(e.ctx, &iam.UpdateSigningCertificateInput{CertificateId: c1.CertificateId, Status: types.StatusTypeInactive}))(t)
	list := ok(e.root.ListSigningCertificates(e.ctx, &iam.ListSigningCertificatesInput{UserName: aws.String("signer")}))(t).Certificates
	if len(list) != 2 {
		t.Fatalf("certificates: %+v", list)
	}
	for _, c := range list {
		if aws.ToString(c.CertificateId) == aws.ToString(c1.CertificateId) && c.Status != types.StatusTypeInactive {
			t.Fatalf("status: %+v", c)
		}
	}
	_, err = e.root.UpdateSigningCertificate(e.ctx, &iam.UpdateSigningCertificateInput{UserName: aws.String("signer"), CertificateId: c1.CertificateId, Status: types.StatusTypeExpired})
	wantErr(t, err, "InvalidInput", 400, "The status Expired cannot be set; use Active or Inactive.")
	ok(e.root.DeleteAccessKey(e.ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("signer"),
		AccessKeyId: ok(e.root.ListAccessKeys(e.ctx, &iam.ListAccessKeysInput{UserName: aws.String("signer")}))(t).AccessKeyMetadata[0].AccessKeyId}))(t)
	ok(e.root.DeleteUserPolicy(e.ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("signer"), PolicyName: aws.String("inline")}))(t)
	_, err = e.root.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("signer")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete signing certificates first.")
	for _, c := range list {
		ok(e.root.DeleteSigningCertificate(e.ctx, &iam.DeleteSigningCertificateInput{UserName: aws.String("signer"), CertificateId: c.CertificateId}))(t)
	}
	_, err = e.root.DeleteSigningCertificate(e.ctx, &iam.DeleteSigningCertificateInput{UserName: aws.String("signer"), CertificateId: c1.CertificateId})
	wantErr(t, err, "NoSuchEntity", 404, "The Certificate with id "+aws.ToString(c1.CertificateId)+" cannot be found.")
	ok(e.root.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("signer")}))(t)
}

func TestServerCertificates(t *testing.T) {
	e := start(t)
	caCert, caKey, caPEM, _ := testCertKey(t, "Example CA", nil, nil, true, time.Now().Add(2*365*24*time.Hour))
	leaf, _, leafPEM, leafKey := testCertKey(t, "www.example.com", caCert, caKey, false, time.Now().Add(365*24*time.Hour))
	up := ok(e.root.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("www"),
		Path: aws.String("/cloudfront/"), CertificateBody: &leafPEM, PrivateKey: &leafKey, CertificateChain: &caPEM,
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))(t)
	md := up.ServerCertificateMetadata
	if aws.ToString(md.Arn) != "arn:aws:iam::111111111111:server-certificate/cloudfront/www" || !strings.HasPrefix(aws.ToString(md.ServerCertificateId), "ASCA") ||
		!md.Expiration.Equal(leaf.NotAfter.Truncate(time.Second)) || len(up.Tags) != 1 {
		t.Fatalf("uploaded: %+v", md)
	}
	got := ok(e.root.GetServerCertificate(e.ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("WWW")}))(t).ServerCertificate
	if aws.ToString(got.CertificateBody) != strings.TrimSpace(leafPEM) || aws.ToString(got.CertificateChain) != strings.TrimSpace(caPEM) || len(got.Tags) != 1 {
		t.Fatalf("certificate: %+v", got)
	}
	_, err := e.root.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("www"), CertificateBody: &leafPEM, PrivateKey: &leafKey})
	wantErr(t, err, "EntityAlreadyExists", 409, "The Server Certificate with name www already exists.")
	_, otherKey := testCert(t, "other")
	_, err = e.root.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("x"), CertificateBody: &leafPEM, PrivateKey: &otherKey})
	wantErr(t, err, "KeyPairMismatch", 400, "The public key certificate and the private key do not match.")
	_, err = e.root.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("x"), CertificateBody: &leafPEM, PrivateKey: aws.String("not a key")})
	wantErr(t, err, "MalformedCertificate", 400, "Unable to parse certificate. Please ensure the certificate is in PEM format.")
	// The private key is a secret: a message names the member, never the value.
	_, err = e.root.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("x"), CertificateBody: &leafPEM, PrivateKey: aws.String("key\x01")})
	wantErr(t, err, "ValidationError", 400, `1 validation error detected: Value at 'privateKey' failed to satisfy constraint: Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
	// A chain that does not start with the body's issuer: AWS's message, with the
	// 1-based index of the first certificate that does not fit.
	_, _, strangerPEM, _ := testCertKey(t, "Stranger CA", nil, nil, true, time.Now().Add(time.Hour))
	_, err = e.root.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("x"), CertificateBody: &leafPEM,
		PrivateKey: &leafKey, CertificateChain: aws.String(caPEM + strangerPEM)})
	wantErr(t, err, "MalformedCertificate", 400, "Unable to validate certificate chain. The certificate chain must start with the immediate signing certificate, followed by any intermediaries in order. The index within the chain of the invalid certificate is: 2")

	cert2, key2 := testCert(t, "api.example.com")
	ok(e.root.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("api"), CertificateBody: &cert2, PrivateKey: &key2}))(t)
	cf := ok(e.root.ListServerCertificates(e.ctx, &iam.ListServerCertificatesInput{PathPrefix: aws.String("/cloudfront/")}))(t).ServerCertificateMetadataList
	if len(cf) != 1 || aws.ToString(cf[0].ServerCertificateName) != "www" {
		t.Fatalf("by path prefix: %+v", cf)
	}
	all := paginate(t, func(m *string) ([]types.ServerCertificateMetadata, bool, *string, error) {
		out, err := e.root.ListServerCertificates(e.ctx, &iam.ListServerCertificatesInput{MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.ServerCertificateMetadataList, out.IsTruncated, out.Marker, nil
	})
	if len(all) != 2 {
		t.Fatalf("all: %+v", all)
	}
	_, err = e.root.UpdateServerCertificate(e.ctx, &iam.UpdateServerCertificateInput{ServerCertificateName: aws.String("api"), NewServerCertificateName: aws.String("WWW")})
	wantErr(t, err, "EntityAlreadyExists", 409, "The Server Certificate with name WWW already exists.")
	ok(e.root.UpdateServerCertificate(e.ctx, &iam.UpdateServerCertificateInput{ServerCertificateName: aws.String("api"), NewServerCertificateName: aws.String("api2"), NewPath: aws.String("/v2/")}))(t)
	md2 := ok(e.root.GetServerCertificate(e.ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("api2")}))(t).ServerCertificate.ServerCertificateMetadata
	if aws.ToString(md2.Arn) != "arn:aws:iam::111111111111:server-certificate/v2/api2" {
		t.Fatalf("renamed: %+v", md2)
	}
	_, err = e.root.GetServerCertificate(e.ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("api")})
	wantErr(t, err, "NoSuchEntity", 404, "The Server Certificate with name api cannot be found.")
	ok(e.root.DeleteServerCertificate(e.ctx, &iam.DeleteServerCertificateInput{ServerCertificateName: aws.String("api2")}))(t)
	if m := ok(e.root.GetAccountSummary(e.ctx, &iam.GetAccountSummaryInput{}))(t).SummaryMap; m["ServerCertificates"] != 1 {
		t.Fatalf("ServerCertificates = %d", m["ServerCertificates"])
	}
}

func TestServerCertificateQuota(t *testing.T) {
	e := start(t)
	for i := range 20 {
		c, k := testCert(t, fmt.Sprint("c", i))
		ok(e.root.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String(fmt.Sprint("c", i)), CertificateBody: &c, PrivateKey: &k}))(t)
	}
	c, k := testCert(t, "one too many")
	_, err := e.root.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("c20"), CertificateBody: &c, PrivateKey: &k})
	// As a user quoted AWS's answer ("LimitExceeded: Cannot exceed quota for
	// ServerCertificatesPerAccount: 20").
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for ServerCertificatesPerAccount: 20")
}

func TestServiceSpecificCredentials(t *testing.T) {
	e := start(t)
	e.user("git")
	create := func(svc string) (*types.ServiceSpecificCredential, error) {
		out, err := e.root.CreateServiceSpecificCredential(e.ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("git"), ServiceName: aws.String(svc)})
		if err != nil {
			return nil, err
		}
		return out.ServiceSpecificCredential, nil
	}
	c1 := ok(create("codecommit.amazonaws.com"))(t)
	if aws.ToString(c1.ServiceUserName) != "git-at-111111111111" || aws.ToString(c1.ServicePassword) == "" || c1.Status != types.StatusTypeActive ||
		!strings.HasPrefix(aws.ToString(c1.ServiceSpecificCredentialId), "ACCA") {
		t.Fatalf("credential: %+v", c1)
	}
	c2 := ok(create("codecommit.amazonaws.com"))(t)
	_, err := create("codecommit.amazonaws.com")
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2")
	ok(create("cassandra.amazonaws.com"))(t)
	key := ok(create("bedrock.amazonaws.com"))(t)
	if aws.ToString(key.ServiceCredentialAlias) == "" || aws.ToString(key.ServiceCredentialSecret) == "" || key.ServicePassword != nil {
		t.Fatalf("API key: %+v", key)
	}
	_, err = create("s3.amazonaws.com")
	wantErr(t, err, "NotSupportedService", 404, "The service s3.amazonaws.com does not support service-specific credentials.")

	list := ok(e.root.ListServiceSpecificCredentials(e.ctx, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("git"),
		ServiceName: aws.String("codecommit.amazonaws.com")}))(t).ServiceSpecificCredentials
	if len(list) != 2 {
		t.Fatalf("codecommit credentials: %+v", list)
	}
	e.user("other")
	ok(e.root.CreateServiceSpecificCredential(e.ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("other"), ServiceName: aws.String("codecommit.amazonaws.com")}))(t)
	everyone := ok(e.root.ListServiceSpecificCredentials(e.ctx, &iam.ListServiceSpecificCredentialsInput{AllUsers: aws.Bool(true)}))(t).ServiceSpecificCredentials
	if len(everyone) != 5 {
		t.Fatalf("all users: %+v", everyone)
	}

	reset := ok(e.root.ResetServiceSpecificCredential(e.ctx, &iam.ResetServiceSpecificCredentialInput{UserName: aws.String("git"), ServiceSpecificCredentialId: c1.ServiceSpecificCredentialId}))(t).ServiceSpecificCredential
	if aws.ToString(reset.ServicePassword) == "" || aws.ToString(reset.ServicePassword) == aws.ToString(c1.ServicePassword) {
		t.Fatal("reset kept the password")
	}
	ok(e.root.UpdateServiceSpecificCredential(e.ctx, &iam.UpdateServiceSpecificCredentialInput{UserName: aws.String("git"), ServiceSpecificCredentialId: c2.ServiceSpecificCredentialId, Status: types.StatusTypeInactive}))(t)
	_, err = e.root.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("git")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must remove referenced objects first.")
	ok(e.root.DeleteServiceSpecificCredential(e.ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("git"), ServiceSpecificCredentialId: c2.ServiceSpecificCredentialId}))(t)
	_, err = e.root.DeleteServiceSpecificCredential(e.ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("git"), ServiceSpecificCredentialId: c2.ServiceSpecificCredentialId})
	wantErr(t, err, "NoSuchEntity", 404, "The Service Specific Credential with id "+aws.ToString(c2.ServiceSpecificCredentialId)+" cannot be found.")
}

// TestCredentialsFollowRenames: credentials belong to the user, not its name.
func TestCredentialsFollowRenames(t *testing.T) {
	e := start(t)
	e.user("old")
	ok(e.root.CreateLoginProfile(e.ctx, &iam.CreateLoginProfileInput{UserName: aws.String("old"), Password: aws.String("Pass-word-1")}))(t)
	ok(e.root.UploadSSHPublicKey(e.ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("old"), SSHPublicKeyBody: aws.String(testSSHKey(t))}))(t)
	ok(e.root.UpdateUser(e.ctx, &iam.UpdateUserInput{UserName: aws.String("old"), NewUserName: aws.String("new")}))(t)
	if lp := ok(e.root.GetLoginProfile(e.ctx, &iam.GetLoginProfileInput{UserName: aws.String("new")}))(t).LoginProfile; aws.ToString(lp.UserName) != "new" {
		t.Fatalf("login profile: %+v", lp)
	}
	keys := ok(e.root.ListSSHPublicKeys(e.ctx, &iam.ListSSHPublicKeysInput{UserName: aws.String("new")}))(t).SSHPublicKeys
	if len(keys) != 1 || aws.ToString(keys[0].UserName) != "new" {
		t.Fatalf("keys: %+v", keys)
	}
}

// TestCredentialReportCredentials: the credential report reads login profiles and
// signing certificates (the root user's too).
func TestCredentialReportCredentials(t *testing.T) {
	e := start(t)
	e.user("pat")
	ok(e.root.UpdateAccountPasswordPolicy(e.ctx, &iam.UpdateAccountPasswordPolicyInput{MaxPasswordAge: aws.Int32(30)}))(t)
	ok(e.root.CreateLoginProfile(e.ctx, &iam.CreateLoginProfileInput{UserName: aws.String("pat"), Password: aws.String("Pat-password-1")}))(t)
	c1, _ := testCert(t, "pat1")
	c2, _ := testCert(t, "pat2")
	cr := ok(e.root.UploadSigningCertificate(e.ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("pat"), CertificateBody: &c1}))(t).Certificate
	ok(e.root.UploadSigningCertificate(e.ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("pat"), CertificateBody: &c2}))(t)
	ok(e.root.UpdateSigningCertificate(e.ctx, &iam.UpdateSigningCertificateInput{UserName: aws.String("pat"), CertificateId: cr.CertificateId, Status: types.StatusTypeInactive}))(t)
	rc, _ := testCert(t, "root")
	ok(e.root.UploadSigningCertificate(e.ctx, &iam.UploadSigningCertificateInput{CertificateBody: &rc}))(t)
	ok(e.root.GenerateCredentialReport(e.ctx, &iam.GenerateCredentialReportInput{}))(t)
	rep := ok(e.root.GetCredentialReport(e.ctx, &iam.GetCredentialReportInput{}))(t)
	rows, err := csv.NewReader(bytes.NewReader(rep.Content)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("report (%v):\n%s", err, rep.Content)
	}
	if r := rows[1]; r[18] != "true" || r[19] == "N/A" || r[20] != "false" {
		t.Fatalf("root row: %v", r)
	}
	p := rows[2]
	changed, err := time.Parse(time.RFC3339, p[5])
	if err != nil || p[0] != "pat" || p[3] != "true" || p[4] != "no_information" {
		t.Fatalf("pat's password columns: %v", p)
	}
	if next, err := time.Parse(time.RFC3339, p[6]); err != nil || !next.Equal(changed.AddDate(0, 0, 30)) {
		t.Fatalf("password_next_rotation %q after %q", p[6], p[5])
	}
	if p[18] != "false" || p[19] == "N/A" || p[20] != "true" || p[21] == "N/A" {
		t.Fatalf("pat's certificate columns: %v", p[18:])
	}
}
