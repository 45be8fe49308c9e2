package iam

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// fuzzRSA is a 2048-bit RSA public key with a random odd modulus.
func fuzzRSA(f *testing.F) *rsa.PublicKey {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 2048))
	if err != nil {
		f.Fatal(err)
	}
	n.SetBit(n, 2047, 1)
	n.SetBit(n, 0, 1)
	return &rsa.PublicKey{N: n, E: 65537}
}

// FuzzParseSSHPublicKey: any body is answered with a key or an SSH key error,
// never a panic; a key read is RSA of at least 2048 bits and reads back the same
// from both of GetSSHPublicKey's encodings.
func FuzzParseSSHPublicKey(f *testing.F) {
	k, err := newSSHKey(fuzzRSA(f))
	if err != nil {
		f.Fatal(err)
	}
	line := k.openSSH()
	b64 := strings.TrimPrefix(line, "ssh-rsa ")
	pkix, _ := x509.MarshalPKIXPublicKey(k.pub)
	for _, seed := range []string{
		line + " comment",
		"---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"a\\\n b\"\n" + b64 + "\n---- END SSH2 PUBLIC KEY ----\n",
		k.pemText(),
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})),
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFXNjotqNox+MZYb0lsO10gNjZ0q16x5th73vx6vMcrJ",
		"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQ==",
		"---- BEGIN SSH2 PUBLIC KEY ----\n",
		"-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		k, err := parseSSHPublicKey(body)
		if err != nil {
			if _, ok := err.(*sshKeyError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if k.pub.N.BitLen() < minSSHKeyBits || len(k.fingerprint()) != 47 {
			t.Fatalf("accepted a key of %d bits, fingerprint %q", k.pub.N.BitLen(), k.fingerprint())
		}
		for _, again := range []string{k.openSSH(), k.pemText()} {
			k2, err := parseSSHPublicKey(again)
			if err != nil || k2.fingerprint() != k.fingerprint() {
				t.Fatalf("re-reading %q: %v", again, err)
			}
		}
	})
}

// FuzzParseCertificates: certificate bodies, chains and private keys never panic
// the parsers; every refusal is an AWS error.
func FuzzParseCertificates(f *testing.F) {
	f.Add("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n")
	f.Add("", "")
	f.Add("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n", "junk")
	f.Fuzz(func(t *testing.T, body, key string) {
		if cert, err := parseCertificate(body); err == nil {
			_ = parseChain(cert, body)
			_ = certValidity(cert, time.Now())
			_ = derHash(cert)
		} else if err != errUnparsable {
			t.Fatalf("certificate error %v", err)
		}
		if _, err := parsePrivateKey(key); err != nil && err != errUnparsable {
			t.Fatalf("key error %v", err)
		}
		_ = base64.StdEncoding
	})
}
