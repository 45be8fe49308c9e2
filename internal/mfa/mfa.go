// Package mfa is IAM's virtual MFA devices as both IAM and STS need them: the stored
// device, its seed sealed at rest, TOTP codes (RFC 6238: 30-second steps, six
// digits, HMAC-SHA1, through github.com/pquerna/otp), the QR code AWS returns, and
// the check STS makes of a SerialNumber and TokenCode — once per code, as AWS refuses
// a code used before.
package mfa

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/session"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// Kind holds virtual MFA devices; key Key(account, path+name).
const Kind = "mfadevice"

// Device is a virtual MFA device.
type Device struct {
	SerialNumber string // arn:aws:iam::ACCOUNT:mfa/PATH-WITHOUT-LEADING-SLASH NAME
	Account      string
	Path         string
	Name         string
	// Seed is the base32 seed, sealed for session.PurposeStoredSecret.
	Seed       string
	CreateDate time.Time
	// User is the name of the IAM user the device is enabled for; "" when unassigned.
	User       string
	EnableDate time.Time
	// LastStep is the last TOTP step whose code was accepted: a code of that step or
	// an earlier one is never accepted again.
	LastStep int64
	// Drift is the device's clock offset, in steps, learned at enabling and resync.
	Drift int64
	Tags  []directory.Tag
}

// Period and Digits are the TOTP parameters of AWS's virtual MFA devices.
const (
	Period = 30
	Digits = 6
)

// Windows, in steps either side of the expected one, in which codes are looked for.
const (
	checkWindow  = 1   // STS: the code of the previous, current or next 30 seconds
	enableWindow = 20  // EnableMFADevice: codes up to ten minutes old or early
	resyncWindow = 240 // ResyncMFADevice: two hours either way
)

// Key is a device's store key: names are unique per account and path without
// regard to case, as IAM names are.
func Key(account, pathName string) string { return account + "/" + strings.ToLower(pathName) }

// SerialNumber is a virtual device's ARN.
func SerialNumber(account, path, name string) string {
	return "arn:aws:iam::" + account + ":mfa" + path + name
}

// ParseSerial splits a virtual device's serial number into its account and path+name.
func ParseSerial(serial string) (account, pathName string, ok bool) {
	rest, ok := strings.CutPrefix(serial, "arn:aws:iam::")
	if !ok {
		return "", "", false
	}
	account, res, ok := strings.Cut(rest, ":")
	if !ok || len(account) != 12 {
		return "", "", false
	}
	pathName, ok = strings.CutPrefix(res, "mfa")
	if !ok || !strings.HasPrefix(pathName, "/") || strings.HasSuffix(pathName, "/") {
		return "", "", false
	}
	return account, pathName, true
}

// ErrNoDevice is Load's error for a serial number no device has.
var ErrNoDevice = errors.New("no such virtual MFA device")

// Load reads the device with a serial number.
func Load(tx store.Tx, serial string) (*Device, error) {
	account, pathName, ok := ParseSerial(serial)
	if !ok {
		return nil, ErrNoDevice
	}
	var d Device
	if err := tx.Get(Kind, Key(account, pathName), &d); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrNoDevice
		}
		return nil, err
	}
	if d.SerialNumber != serial {
		return nil, ErrNoDevice
	}
	return &d, nil
}

// Save writes a device.
func Save(tx store.Tx, d *Device) error {
	return tx.Put(Kind, Key(d.Account, d.Path+d.Name), d)
}

// ForUser lists the devices enabled for a user of an account.
func ForUser(tx store.Tx, account, user string) ([]*Device, error) {
	var out []*Device
	err := tx.Scan(Kind, account+"/", "", 0, func(_ string, data []byte) (bool, error) {
		var d Device
		if err := json.Unmarshal(data, &d); err != nil {
			return false, err
		}
		if d.User != "" && strings.EqualFold(d.User, user) {
			out = append(out, &d)
		}
		return true, nil
	})
	return out, err
}

// UserHasDevice reports whether a user has an MFA device enabled: IAM refuses to
// delete such a user (DeleteConflict), and the credential report's mfa_active reads
// it. The root user ("") has none in iamlocal.
func UserHasDevice(tx store.Tx, account, user string) (bool, error) {
	if user == "" {
		return false, nil
	}
	ds, err := ForUser(tx, account, user)
	return len(ds) > 0, err
}

// NewSeed is a fresh seed: 40 random bytes in base32, 64 characters, as AWS's.
func NewSeed() string {
	b := make([]byte, 40)
	rand.Read(b)
	return base32.StdEncoding.EncodeToString(b)
}

// SealSeed seals a seed for the store; OpenSeed opens it.
func SealSeed(ring *session.Ring, seed string) string {
	return ring.SealBytes(session.PurposeStoredSecret, []byte(seed))
}

// OpenSeed returns a device's base32 seed.
func OpenSeed(ring *session.Ring, d *Device) (string, error) {
	b, err := ring.OpenBytes(session.PurposeStoredSecret, d.Seed)
	if err != nil {
		return "", fmt.Errorf("the seed of %s: %w", d.SerialNumber, err)
	}
	return string(b), nil
}

// Step is the TOTP time step of t.
func Step(t time.Time) int64 { return t.Unix() / Period }

// StepStart is when a step begins.
func StepStart(step int64) time.Time { return time.Unix(step*Period, 0).UTC() }

var opts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Code is the device's code for a step.
func Code(seed string, step int64) (string, error) {
	if step < 0 {
		return "", fmt.Errorf("negative TOTP step")
	}
	return hotp.GenerateCodeCustom(seed, uint64(step), opts)
}

// around lists the steps of a window, the centre first, then outwards.
func around(center, window int64) []int64 {
	out := []int64{center}
	for d := int64(1); d <= window; d++ {
		out = append(out, center+d, center-d)
	}
	return out
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// match finds the step of the window whose code is code.
func match(seed, code string, center, window int64) (int64, bool) {
	for _, s := range around(center, window) {
		if c, err := Code(seed, s); err == nil && equal(c, code) {
			return s, true
		}
	}
	return 0, false
}

// consecutive finds a step s of the window with code1 at s and code2 at s+1, and
// returns s+1.
func consecutive(seed, code1, code2 string, center, window int64) (int64, bool) {
	for _, s := range around(center, window) {
		c1, err1 := Code(seed, s)
		c2, err2 := Code(seed, s+1)
		if err1 == nil && err2 == nil && equal(c1, code1) && equal(c2, code2) {
			return s + 1, true
		}
	}
	return 0, false
}

// Synchronize checks two consecutive codes, as EnableMFADevice (resync false) and
// ResyncMFADevice (resync true) take them, and records the device's drift and last
// step. It reports false when the codes are not two consecutive codes of the device.
func (d *Device) Synchronize(seed, code1, code2 string, now time.Time, resync bool) bool {
	window := int64(enableWindow)
	if resync {
		window = resyncWindow
	}
	nowStep := Step(now)
	s2, ok := consecutive(seed, code1, code2, nowStep+d.Drift, window)
	if !ok {
		return false
	}
	d.Drift = s2 - nowStep
	if s2 > d.LastStep {
		d.LastStep = s2
	}
	return true
}

// Check accepts a code of the device's current step (allowing for its drift, and a
// step either way) that is newer than every code accepted before, and records it.
// The drift stays as enabling or resync set it: a code a step ahead, used at once,
// does not move the window ahead.
func (d *Device) Check(seed, code string, now time.Time) bool {
	s, ok := match(seed, code, Step(now)+d.Drift, checkWindow)
	if !ok || s <= d.LastStep {
		return false
	}
	d.LastStep = s
	return true
}

// NextCodes returns n consecutive codes starting with the one the device shows now,
// or, when the current step's code was already used, with the first code that will
// be accepted; and when that first code becomes acceptable (now, or the start of a
// later step).
func (d *Device) NextCodes(seed string, now time.Time, n int) (codes []string, from time.Time, err error) {
	s := Step(now) + d.Drift
	from = now
	if s <= d.LastStep {
		s = d.LastStep + 1
		if s > Step(now)+d.Drift+checkWindow {
			from = StepStart(s - d.Drift - checkWindow)
		}
	}
	for i := 0; i < n; i++ {
		c, err := Code(seed, s+int64(i))
		if err != nil {
			return nil, from, err
		}
		codes = append(codes, c)
	}
	return codes, from, nil
}

// URI is the otpauth:// URI the QR code encodes: otpauth://totp/NAME@ACCOUNT?secret=SEED,
// where ACCOUNT is the user name if there is one, else the account id (IAM API
// Reference, VirtualMFADevice).
func URI(deviceName, accountName, seed string) string {
	return "otpauth://totp/" + url.PathEscape(deviceName+"@"+accountName) + "?secret=" + url.QueryEscape(seed)
}

// QRCodePNG renders a URI as a QR code in a PNG image.
func QRCodePNG(uri string) ([]byte, error) {
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	scaled, err := barcode.Scale(code, 256, 256)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, scaled); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// The errors of Authenticate, with STS's wording (AccessDenied).
var (
	// ErrNotAssociated: no such device, or not one enabled for the caller.
	ErrNotAssociated = errors.New("MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.")
	// ErrInvalidCode: a wrong code, or one used before.
	ErrInvalidCode = errors.New("MultiFactorAuthentication failed with invalid MFA one time pass code.")
)

// Authenticate checks a SerialNumber and TokenCode given to STS by a user of an
// account at now, and records the code as used: it must run in a write transaction,
// committed before the credentials it vouches for are returned.
func Authenticate(tx store.Tx, ring *session.Ring, account, user, serial, code string, now time.Time) error {
	d, err := Load(tx, serial)
	if errors.Is(err, ErrNoDevice) || (err == nil && (d.Account != account || user == "" || !strings.EqualFold(d.User, user))) {
		return ErrNotAssociated
	}
	if err != nil {
		return err
	}
	seed, err := OpenSeed(ring, d)
	if err != nil {
		return err
	}
	if !d.Check(seed, code, now) {
		return ErrInvalidCode
	}
	return Save(tx, d)
}
