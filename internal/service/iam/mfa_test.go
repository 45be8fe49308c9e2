package iam_test

import (
	"bytes"
	"encoding/base32"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/iamlocal/iamlocal/internal/mfa"
)

// codes are two consecutive codes of a seed, at now.
func codes(t *testing.T, seed string, now time.Time) (string, string) {
	t.Helper()
	s := mfa.Step(now)
	c1, err1 := mfa.Code(seed, s)
	c2, err2 := mfa.Code(seed, s+1)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return c1, c2
}

func TestVirtualMFALifecycle(t *testing.T) {
	e := start(t)
	e.user("alice")
	out := ok(e.root.CreateVirtualMFADevice(e.ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))(t)
	d := out.VirtualMFADevice
	serial := aws.ToString(d.SerialNumber)
	if serial != "arn:aws:iam::"+account+":mfa/alice" {
		t.Fatalf("serial %s", serial)
	}
	// Base32StringSeed: the seed in base32 (the SDK undoes the wire's base64).
	seed := string(d.Base32StringSeed)
	if len(seed) != 64 {
		t.Fatalf("seed %q", seed)
	}
	if _, err := base32.StdEncoding.DecodeString(seed); err != nil {
		t.Fatalf("seed is not base32: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(d.QRCodePNG))
	if err != nil || img.Bounds().Dx() < 100 {
		t.Fatalf("QRCodePNG is not a PNG: %v", err)
	}
	if uri := mfa.URI("alice", account, seed); !strings.HasPrefix(uri, "otpauth://totp/alice@"+account+"?secret=") {
		t.Fatalf("uri %s", uri)
	}
	_, err = e.root.CreateVirtualMFADevice(e.ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("ALICE")})
	wantErr(t, err, "EntityAlreadyExists", 409, "MFADevice entity at the same path and name already exists.")

	virt := ok(e.root.ListVirtualMFADevices(e.ctx, &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeUnassigned}))(t)
	if len(virt.VirtualMFADevices) != 1 || virt.VirtualMFADevices[0].User != nil || virt.VirtualMFADevices[0].Base32StringSeed != nil {
		t.Fatalf("unassigned %+v", virt.VirtualMFADevices)
	}

	// Two codes that are not consecutive, then two that are.
	now := time.Now()
	c1, c2 := codes(t, seed, now)
	_, err = e.root.EnableMFADevice(e.ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(c2), AuthenticationCode2: aws.String(c1)})
	// InvalidAuthenticationCode, 403, with AWS's wording (reported by users enabling
	// devices in the console and by the API).
	wantErr(t, err, "InvalidAuthenticationCode", 403, "Authentication code for device is not valid.")
	ok(e.root.EnableMFADevice(e.ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(c1), AuthenticationCode2: aws.String(c2)}))(t)
	_, err = e.root.EnableMFADevice(e.ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(c1), AuthenticationCode2: aws.String(c2)})
	wantErr(t, err, "EntityAlreadyExists", 409, "MFA Device is already in use.")

	mine := ok(e.root.ListMFADevices(e.ctx, &iam.ListMFADevicesInput{UserName: aws.String("alice")}))(t)
	if len(mine.MFADevices) != 1 || aws.ToString(mine.MFADevices[0].SerialNumber) != serial || aws.ToString(mine.MFADevices[0].UserName) != "alice" {
		t.Fatalf("ListMFADevices %+v", mine.MFADevices)
	}
	virt = ok(e.root.ListVirtualMFADevices(e.ctx, &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeAssigned}))(t)
	if len(virt.VirtualMFADevices) != 1 || aws.ToString(virt.VirtualMFADevices[0].User.UserName) != "alice" || virt.VirtualMFADevices[0].EnableDate == nil {
		t.Fatalf("assigned %+v", virt.VirtualMFADevices)
	}
	if n := len(ok(e.root.ListVirtualMFADevices(e.ctx, &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeUnassigned}))(t).VirtualMFADevices); n != 0 {
		t.Fatalf("%d unassigned", n)
	}
	// GetAccountSummary counts the account's devices and those enabled for a user.
	sum := ok(e.root.GetAccountSummary(e.ctx, &iam.GetAccountSummaryInput{}))(t).SummaryMap
	if sum["MFADevices"] != 1 || sum["MFADevicesInUse"] != 1 {
		t.Fatalf("summary MFADevices %d, MFADevicesInUse %d", sum["MFADevices"], sum["MFADevicesInUse"])
	}
	got := ok(e.root.GetMFADevice(e.ctx, &iam.GetMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial)}))(t)
	if aws.ToString(got.UserName) != "alice" || got.EnableDate == nil {
		t.Fatalf("GetMFADevice %+v", got)
	}

	// Resync with two later codes.
	r1, r2 := codes(t, seed, now.Add(3*time.Minute))
	ok(e.root.ResyncMFADevice(e.ctx, &iam.ResyncMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(r1), AuthenticationCode2: aws.String(r2)}))(t)
	_, err = e.root.ResyncMFADevice(e.ctx, &iam.ResyncMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String("000000"), AuthenticationCode2: aws.String("000000")})
	wantErr(t, err, "InvalidAuthenticationCode", 403, "Authentication code for device is not valid.")

	// The credential report's mfa_active reads the devices.
	ok(e.root.GenerateCredentialReport(e.ctx, &iam.GenerateCredentialReportInput{}))(t)
	report := ok(e.root.GetCredentialReport(e.ctx, &iam.GetCredentialReportInput{}))(t)
	if !strings.Contains(string(report.Content), "\nalice,arn:aws:iam::"+account+":user/alice,") ||
		strings.Split(strings.Split(string(report.Content), "\nalice,")[1], ",")[6] != "true" {
		t.Fatalf("credential report:\n%s", report.Content)
	}

	// An enabled device holds its user and itself.
	_, err = e.root.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete MFA device first.")
	_, err = e.root.DeleteVirtualMFADevice(e.ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)})
	wantErr(t, err, "DeleteConflict", 409, "MFA device is enabled for user alice; deactivate it before deleting it.")

	// Tags.
	ok(e.root.TagMFADevice(e.ctx, &iam.TagMFADeviceInput{SerialNumber: aws.String(serial), Tags: []types.Tag{{Key: aws.String("k2"), Value: aws.String("v2")}}}))(t)
	ok(e.root.UntagMFADevice(e.ctx, &iam.UntagMFADeviceInput{SerialNumber: aws.String(serial), TagKeys: []string{"K"}}))(t)
	tags := ok(e.root.ListMFADeviceTags(e.ctx, &iam.ListMFADeviceTagsInput{SerialNumber: aws.String(serial)}))(t)
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "k2" {
		t.Fatalf("tags %+v", tags.Tags)
	}

	ok(e.root.DeactivateMFADevice(e.ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial)}))(t)
	_, err = e.root.DeactivateMFADevice(e.ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial)})
	wantErr(t, err, "NoSuchEntity", 404, "MFA device with serial number "+serial+" is not enabled for user alice.")
	ok(e.root.DeleteVirtualMFADevice(e.ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)}))(t)
	ok(e.root.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}))(t)
	_, err = e.root.DeleteVirtualMFADevice(e.ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)})
	wantErr(t, err, "NoSuchEntity", 404, "MFA device with serial number "+serial+" does not exist.")
}

func TestVirtualMFARefusals(t *testing.T) {
	e := start(t)
	e.user("bob")
	_, err := e.root.CreateVirtualMFADevice(e.ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("a b")})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value 'a b' at 'virtualMFADeviceName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
	_, err = e.root.EnableMFADevice(e.ctx, &iam.EnableMFADeviceInput{UserName: aws.String("bob"), SerialNumber: aws.String("arn:aws:iam::" + account + ":mfa/none"),
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")})
	wantErr(t, err, "NoSuchEntity", 404, "MFA device with serial number arn:aws:iam::"+account+":mfa/none does not exist.")
	_, err = e.root.EnableMFADevice(e.ctx, &iam.EnableMFADeviceInput{UserName: aws.String("nobody"), SerialNumber: aws.String("arn:aws:iam::" + account + ":mfa/none"),
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
	_, err = e.root.ListMFADevices(e.ctx, &iam.ListMFADevicesInput{UserName: aws.String("nobody")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")

	// A path puts the device under it; the self-service policy AWS documents lets a
	// user manage only their own device.
	out := ok(e.root.CreateVirtualMFADevice(e.ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("d"), Path: aws.String("/team/")}))(t)
	if aws.ToString(out.VirtualMFADevice.SerialNumber) != "arn:aws:iam::"+account+":mfa/team/d" {
		t.Fatalf("serial %s", aws.ToString(out.VirtualMFADevice.SerialNumber))
	}
	self := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":["iam:CreateVirtualMFADevice"],"Resource":"arn:aws:iam::*:mfa/${aws:username}"},
	 {"Effect":"Allow","Action":["iam:EnableMFADevice","iam:ListMFADevices"],"Resource":"arn:aws:iam::*:user/${aws:username}"}]}`
	carol, _ := e.signer("carol", self)
	ok(carol.CreateVirtualMFADevice(e.ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("carol")}))(t)
	_, err = carol.CreateVirtualMFADevice(e.ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("bob")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::"+account+":user/carol is not authorized to perform: iam:CreateVirtualMFADevice on resource: arn:aws:iam::"+account+":mfa/bob because no identity-based policy allows the iam:CreateVirtualMFADevice action")
	ok(carol.ListMFADevices(e.ctx, &iam.ListMFADevicesInput{}))(t)
	_, err = carol.ListMFADevices(e.ctx, &iam.ListMFADevicesInput{UserName: aws.String("bob")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::"+account+":user/carol is not authorized to perform: iam:ListMFADevices on resource: arn:aws:iam::"+account+":user/bob because no identity-based policy allows the iam:ListMFADevices action")
}
