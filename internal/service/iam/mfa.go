package iam

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/mfa"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// Virtual MFA devices: CreateVirtualMFADevice, Enable/Deactivate/ResyncMFADevice,
// DeleteVirtualMFADevice, ListMFADevices, ListVirtualMFADevices, GetMFADevice and
// the devices' tags. The device and its TOTP checks are internal/mfa's; STS checks
// codes there too.

// maxMFAPerUser is how many MFA devices a user may have (MFADevicesPerUser).
const maxMFAPerUser = 8

var (
	serialPattern = regexp.MustCompile(`^[\w+=/:,.@-]+$`)
	codePattern   = regexp.MustCompile(`^\d+$`)
)

func init() {
	register(
		&service.Action{Name: "CreateVirtualMFADevice", IAMAction: "iam:CreateVirtualMFADevice", Write: true,
			Resource: newMFAResource, Context: requestTags, Handle: createVirtualMFADevice},
		&service.Action{Name: "EnableMFADevice", IAMAction: "iam:EnableMFADevice", Write: true,
			Resource: mfaUserResource, Context: userEntity.context(false), Handle: enableMFADevice},
		&service.Action{Name: "ResyncMFADevice", IAMAction: "iam:ResyncMFADevice", Write: true,
			Resource: mfaUserResource, Context: userEntity.context(false), Handle: resyncMFADevice},
		&service.Action{Name: "DeactivateMFADevice", IAMAction: "iam:DeactivateMFADevice", Write: true,
			Resource: mfaUserResource, Context: userEntity.context(false), Handle: deactivateMFADevice},
		&service.Action{Name: "DeleteVirtualMFADevice", IAMAction: "iam:DeleteVirtualMFADevice", Write: true,
			Resource: mfaResource, Context: mfaContext, Handle: deleteVirtualMFADevice},
		&service.Action{Name: "ListMFADevices", IAMAction: "iam:ListMFADevices",
			Resource: mfaUserResource, Context: userEntity.context(false), Handle: listMFADevices},
		&service.Action{Name: "ListVirtualMFADevices", IAMAction: "iam:ListVirtualMFADevices", Handle: listVirtualMFADevices},
		&service.Action{Name: "GetMFADevice", IAMAction: "iam:GetMFADevice",
			Resource: mfaUserResource, Context: userEntity.context(false), Handle: getMFADevice},
	)
	// The credential report's mfa_active column reads the devices.
	mfaActive = mfa.UserHasDevice
}

// userMFAConflict is DeleteUser's refusal of a user who has an MFA device enabled.
func userMFAConflict(tx store.Tx, account, user string) error {
	has, err := mfa.UserHasDevice(tx, account, user)
	if err != nil || !has {
		return err
	}
	return deleteConflict("Cannot delete entity, must delete MFA device first.")
}

func newMFAResource(c *service.Call) (string, string, error) {
	return mfa.SerialNumber(c.Account(), optionalPath(c, "Path"), c.Params.Get("VirtualMFADeviceName")), c.Account(), nil
}

// mfaResource is the device a SerialNumber names; its account owns it.
func mfaResource(c *service.Call) (string, string, error) {
	serial := c.Params.Get("SerialNumber")
	if account, _, ok := mfa.ParseSerial(serial); ok {
		return serial, account, nil
	}
	return serial, c.Account(), nil
}

func mfaContext(c *service.Call, ctx policy.Context) error {
	if d, err := mfa.Load(c.Tx, c.Params.Get("SerialNumber")); err == nil {
		resourceTags(d.Tags, ctx)
	}
	return nil
}

// mfaUser is the user an MFA request is about: UserName, or the calling user when it
// is omitted ("" for the root user).
func mfaUser(c *service.Call) string {
	if c.Params.Has("UserName") {
		return c.Params.Get("UserName")
	}
	if c.Identity != nil && c.Identity.Caller.Kind == policy.User {
		return c.Identity.Caller.Name
	}
	return ""
}

func mfaUserResource(c *service.Call) (string, string, error) {
	name := mfaUser(c)
	if name == "" {
		return rootArn(c.Account()), c.Account(), nil
	}
	var u directory.User
	if err := c.Tx.Get(directory.KindUser, directory.NameKey(c.Account(), name), &u); err == nil {
		return u.Arn, c.Account(), nil
	}
	return arn(c.Account(), "user", "/", name), c.Account(), nil
}

// serial reads a required SerialNumber.
func (in *input) serial() string {
	s, ok := in.required("SerialNumber")
	if ok {
		in.v.Length(s, "serialNumber", 9, 256)
		in.v.Check(serialPattern.MatchString(s), s, "serialNumber", `satisfy regular expression pattern: [\w+=/:,.@-]+`)
	}
	return s
}

// code reads a required six-digit authentication code.
func (in *input) code(param string) string {
	s, ok := in.required(param)
	if ok {
		in.v.Length(s, lowerFirst(param), 6, 6)
		in.v.Check(codePattern.MatchString(s), s, lowerFirst(param), `satisfy regular expression pattern: [\d]+`)
	}
	return s
}

func noSuchDevice(serial string) *wire.Error {
	return noSuchEntity("MFA device with serial number %s does not exist.", serial)
}

// loadDevice reads a device of the caller's account.
func loadDevice(c *service.Call, serial string) (*mfa.Device, error) {
	d, err := mfa.Load(c.Tx, serial)
	if err == mfa.ErrNoDevice || (err == nil && d.Account != c.Account()) {
		return nil, noSuchDevice(serial)
	}
	return d, err
}

type userSummaryXML struct {
	Path       string `xml:"Path"`
	UserName   string `xml:"UserName"`
	UserID     string `xml:"UserId"`
	Arn        string `xml:"Arn"`
	CreateDate string `xml:"CreateDate"`
}

type virtualMFAXML struct {
	SerialNumber     string          `xml:"SerialNumber"`
	Base32StringSeed string          `xml:"Base32StringSeed,omitempty"`
	QRCodePNG        string          `xml:"QRCodePNG,omitempty"`
	User             *userSummaryXML `xml:"User,omitempty"`
	EnableDate       string          `xml:"EnableDate,omitempty"`
	Tags             *list[tagXML]   `xml:"Tags,omitempty"`
}

type createVirtualMFAResult struct {
	VirtualMFADevice virtualMFAXML `xml:"VirtualMFADevice"`
}

func createVirtualMFADevice(c *service.Call) (any, error) {
	in := newInput(c)
	name, ok := in.required("VirtualMFADeviceName")
	if ok {
		in.v.Length(name, "virtualMFADeviceName", 1, 226)
		in.v.Check(namePattern.MatchString(name), name, "virtualMFADeviceName", `satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	path := in.path("Path")
	if err := in.err(); err != nil {
		return nil, err
	}
	tags, err := readTags(c)
	if err != nil {
		return nil, err
	}
	seed := mfa.NewSeed()
	d := &mfa.Device{SerialNumber: mfa.SerialNumber(c.Account(), path, name), Account: c.Account(), Path: path, Name: name,
		Seed: mfa.SealSeed(c.Env.Ring, seed), CreateDate: c.Now.UTC(), Tags: tags}
	if exists, err := has(c.Tx, mfa.Kind, mfa.Key(d.Account, path+name)); err != nil || exists {
		if err == nil {
			err = alreadyExists("MFADevice entity at the same path and name already exists.")
		}
		return nil, err
	}
	// The QR code's account is the caller's user name, else the account id.
	accountName := c.Account()
	if c.Identity != nil && c.Identity.Caller.Kind == policy.User {
		accountName = c.Identity.Caller.Name
	}
	png, err := mfa.QRCodePNG(mfa.URI(name, accountName, seed))
	if err != nil {
		return nil, err
	}
	if err := mfa.Save(c.Tx, d); err != nil {
		return nil, err
	}
	return &createVirtualMFAResult{virtualMFAXML{SerialNumber: d.SerialNumber,
		Base32StringSeed: base64.StdEncoding.EncodeToString([]byte(seed)),
		QRCodePNG:        base64.StdEncoding.EncodeToString(png), Tags: optTags(tags)}}, nil
}

// mfaRequest reads UserName (optional when allowed), SerialNumber and, with codes,
// the two authentication codes; it loads the user.
func mfaRequest(c *service.Call, userRequired, codes bool) (user *loaded, serial, code1, code2 string, err error) {
	in := newInput(c)
	if userRequired {
		in.name("UserName", 128)
	} else {
		in.optName("UserName", 128)
	}
	serial = in.serial()
	if codes {
		code1, code2 = in.code("AuthenticationCode1"), in.code("AuthenticationCode2")
	}
	if err := in.err(); err != nil {
		return nil, "", "", "", err
	}
	name := mfaUser(c)
	if name == "" {
		return nil, serial, code1, code2, nil // the root user
	}
	user, err = userEntity.load(c.Tx, c.Account(), name)
	return user, serial, code1, code2, err
}

func invalidCode() *wire.Error {
	return wire.Errorf(http.StatusForbidden, "InvalidAuthenticationCode", "Authentication code for device is not valid.")
}

func enableMFADevice(c *service.Call) (any, error) {
	user, serial, code1, code2, err := mfaRequest(c, true, true)
	if err != nil {
		return nil, err
	}
	d, err := loadDevice(c, serial)
	if err != nil {
		return nil, err
	}
	if d.User != "" {
		return nil, alreadyExists("MFA Device is already in use.")
	}
	mine, err := mfa.ForUser(c.Tx, c.Account(), user.Name)
	if err != nil {
		return nil, err
	}
	if len(mine) >= maxMFAPerUser {
		return nil, limitExceeded("Cannot exceed quota for MFADevicesPerUser: %d", maxMFAPerUser)
	}
	if err := synchronize(c, d, code1, code2, false); err != nil {
		return nil, err
	}
	d.User, d.EnableDate = user.Name, c.Now.UTC()
	return nil, mfa.Save(c.Tx, d)
}

// enabledFor loads a device that must be enabled for the user ("" for the root user).
func enabledFor(c *service.Call, serial, user string) (*mfa.Device, error) {
	d, err := loadDevice(c, serial)
	if err != nil {
		return nil, err
	}
	if d.User == "" || !strings.EqualFold(d.User, user) {
		if user == "" {
			return nil, noSuchEntity("MFA device with serial number %s is not enabled for the root user.", serial)
		}
		return nil, noSuchEntity("MFA device with serial number %s is not enabled for user %s.", serial, user)
	}
	return d, nil
}

func userName(l *loaded) string {
	if l == nil {
		return ""
	}
	return l.Name
}

// synchronize checks two consecutive codes of the device (learning its drift), or
// answers IAM's InvalidAuthenticationCode.
func synchronize(c *service.Call, d *mfa.Device, code1, code2 string, resync bool) error {
	seed, err := mfa.OpenSeed(c.Env.Ring, d)
	if err != nil {
		return err
	}
	if !d.Synchronize(seed, code1, code2, c.Now, resync) {
		return invalidCode()
	}
	return nil
}

// requestedEnabled reads a request naming a device enabled for its user, with the two
// codes when the request carries them.
func requestedEnabled(c *service.Call, codes bool) (d *mfa.Device, code1, code2 string, err error) {
	user, serial, code1, code2, err := mfaRequest(c, codes, codes)
	if err != nil {
		return nil, "", "", err
	}
	d, err = enabledFor(c, serial, userName(user))
	return d, code1, code2, err
}

func resyncMFADevice(c *service.Call) (any, error) {
	d, code1, code2, err := requestedEnabled(c, true)
	if err != nil {
		return nil, err
	}
	if err := synchronize(c, d, code1, code2, true); err != nil {
		return nil, err
	}
	return nil, mfa.Save(c.Tx, d)
}

func deactivateMFADevice(c *service.Call) (any, error) {
	d, _, _, err := requestedEnabled(c, false)
	if err != nil {
		return nil, err
	}
	// The device keeps its seed: enabling it again takes two fresh codes.
	d.User, d.EnableDate = "", time.Time{}
	return nil, mfa.Save(c.Tx, d)
}

func deleteVirtualMFADevice(c *service.Call) (any, error) {
	in := newInput(c)
	serial := in.serial()
	if err := in.err(); err != nil {
		return nil, err
	}
	d, err := loadDevice(c, serial)
	if err != nil {
		return nil, err
	}
	if d.User != "" {
		return nil, deleteConflict("MFA device is enabled for user %s; deactivate it before deleting it.", d.User)
	}
	_, err = c.Tx.Delete(mfa.Kind, mfa.Key(d.Account, d.Path+d.Name))
	return nil, err
}

type mfaDeviceXML struct {
	UserName     string `xml:"UserName"`
	SerialNumber string `xml:"SerialNumber"`
	EnableDate   string `xml:"EnableDate"`
}

type listMFADevicesResult struct {
	MFADevices  list[mfaDeviceXML] `xml:"MFADevices"`
	IsTruncated bool               `xml:"IsTruncated"`
	Marker      string             `xml:"Marker,omitempty"`
}

func listMFADevices(c *service.Call) (any, error) {
	in := newInput(c)
	in.optName("UserName", 128)
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	name := mfaUser(c)
	var devices []*mfa.Device
	if name != "" {
		l, err := userEntity.load(c.Tx, c.Account(), name)
		if err != nil {
			return nil, err
		}
		name = l.Name
		if devices, err = mfa.ForUser(c.Tx, c.Account(), name); err != nil {
			return nil, err
		}
	} else if c.Identity == nil || c.Identity.Caller.Kind != policy.RootUser {
		return nil, wire.ValidationError("Must specify userName when calling with non-User credentials")
	}
	sort.Slice(devices, func(i, j int) bool { return devices[i].SerialNumber < devices[j].SerialNumber })
	start, end, truncated, marker, err := slicePage(len(devices), p)
	if err != nil {
		return nil, err
	}
	res := &listMFADevicesResult{IsTruncated: truncated, Marker: marker}
	res.MFADevices.Member = []mfaDeviceXML{}
	for _, d := range devices[start:end] {
		res.MFADevices.Member = append(res.MFADevices.Member, mfaDeviceXML{d.User, d.SerialNumber, isoTime(d.EnableDate)})
	}
	return res, nil
}

type listVirtualMFAResult struct {
	VirtualMFADevices list[virtualMFAXML] `xml:"VirtualMFADevices"`
	IsTruncated       bool                `xml:"IsTruncated"`
	Marker            string              `xml:"Marker,omitempty"`
}

func listVirtualMFADevices(c *service.Call) (any, error) {
	in := newInput(c)
	status := in.enum("AssignmentStatus", "Assigned", "Unassigned", "Any")
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	res := &listVirtualMFAResult{}
	res.VirtualMFADevices.Member = []virtualMFAXML{}
	res.IsTruncated, res.Marker, err = scanPage(c.Tx, mfa.Kind, c.Account()+"/", p, func(data []byte) (bool, error) {
		var d mfa.Device
		if err := jsonUnmarshal(data, &d); err != nil {
			return false, err
		}
		assigned := d.User != ""
		if (status == "Assigned" && !assigned) || (status == "Unassigned" && assigned) {
			return false, nil
		}
		x := virtualMFAXML{SerialNumber: d.SerialNumber}
		if assigned {
			x.EnableDate = isoTime(d.EnableDate)
			var u directory.User
			if err := c.Tx.Get(directory.KindUser, directory.NameKey(d.Account, d.User), &u); err == nil {
				x.User = &userSummaryXML{u.Path, u.Name, u.ID, u.Arn, isoTime(u.CreateDate)}
			}
		}
		res.VirtualMFADevices.Member = append(res.VirtualMFADevices.Member, x)
		return true, nil
	})
	return res, err
}

type getMFADeviceResult struct {
	UserName     string `xml:"UserName,omitempty"`
	SerialNumber string `xml:"SerialNumber"`
	EnableDate   string `xml:"EnableDate,omitempty"`
}

// getMFADevice answers for virtual devices too (AWS documents it for FIDO security
// keys, which iamlocal does not have): the user it is enabled for and since when.
func getMFADevice(c *service.Call) (any, error) {
	user, serial, _, _, err := mfaRequest(c, false, false)
	if err != nil {
		return nil, err
	}
	d, err := enabledFor(c, serial, userName(user))
	if err != nil {
		return nil, err
	}
	return &getMFADeviceResult{UserName: d.User, SerialNumber: d.SerialNumber, EnableDate: isoTime(d.EnableDate)}, nil
}

// mfaTaggable is the virtual MFA devices' row of the taggables table.
var mfaTaggable = &taggable{title: "MFADevice", param: "SerialNumber", resource: mfaResource,
	read: func(in *input) string { return in.serial() },
	open: func(c *service.Call, serial string) (*tagSet, error) {
		d, err := loadDevice(c, serial)
		if err != nil {
			return nil, err
		}
		return &tagSet{tags: &d.Tags, save: func() error { return mfa.Save(c.Tx, d) }}, nil
	}}
