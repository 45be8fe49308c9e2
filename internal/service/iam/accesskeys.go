package iam

import (
	"errors"
	"regexp"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// maxAccessKeys is how many access keys a user (or root user) may have.
const maxAccessKeys = 2

// userKeyIndex lists a user's access keys: key "<account>/<lower user>/<key id>",
// value the key id; the root user's keys are under the empty user name.
const userKeyIndex = "userkey"

// rootKeyIndex is where the server records the root key it bootstraps (account →
// key id); the root user's keys are those of userKeyIndex and that one.
const rootKeyIndex = "rootkey"

var accessKeyIDPattern = regexp.MustCompile(`^\w+$`)

func init() {
	register(
		&service.Action{Name: "CreateAccessKey", IAMAction: "iam:CreateAccessKey", Write: true,
			Resource: keyOwnerResource, Handle: createAccessKey},
		&service.Action{Name: "ListAccessKeys", IAMAction: "iam:ListAccessKeys", Resource: keyOwnerResource, Handle: listAccessKeys},
		&service.Action{Name: "UpdateAccessKey", IAMAction: "iam:UpdateAccessKey", Write: true,
			Resource: keyOwnerResource, Handle: updateAccessKey},
		&service.Action{Name: "DeleteAccessKey", IAMAction: "iam:DeleteAccessKey", Write: true,
			Resource: keyOwnerResource, Handle: deleteAccessKey},
		&service.Action{Name: "GetAccessKeyLastUsed", IAMAction: "iam:GetAccessKeyLastUsed",
			Resource: lastUsedResource, Handle: getAccessKeyLastUsed},
	)
}

func keyIndexKey(account, user, id string) string { return directory.NameKey(account, user) + "/" + id }

// keyOwner is whose keys a request manages: the named user or, when UserName is
// omitted, the calling user or root user ("" with root true).
func keyOwner(c *service.Call) (user string, root bool, err error) {
	if c.Params.Has("UserName") {
		return c.Params.Get("UserName"), false, nil
	}
	switch c.Identity.Caller.Kind {
	case policy.User:
		return c.Identity.Caller.Name, false, nil
	case policy.RootUser:
		return "", true, nil
	}
	return "", false, wire.ValidationError("Must specify userName when calling with non-User credentials")
}

func rootArn(account string) string { return "arn:aws:iam::" + account + ":root" }

func keyOwnerResource(c *service.Call) (string, string, error) {
	user, root, err := keyOwner(c)
	if err != nil || root {
		return rootArn(c.Account()), c.Account(), err
	}
	var u directory.User
	if err := c.Tx.Get(directory.KindUser, directory.NameKey(c.Account(), user), &u); err == nil {
		return u.Arn, c.Account(), nil
	}
	return arn(c.Account(), "user", "/", user), c.Account(), nil
}

// ownerParams validates UserName and returns the owner's stored name ("" for root).
func ownerParams(c *service.Call, withKey bool) (string, error) {
	in := newInput(c)
	in.optName("UserName", 128)
	if withKey {
		if id, ok := in.required("AccessKeyId"); ok {
			in.v.Length(id, "accessKeyId", 16, 128)
			in.v.Check(accessKeyIDPattern.MatchString(id), id, "accessKeyId", `satisfy regular expression pattern: [\w]+`)
		}
	}
	if err := in.err(); err != nil {
		return "", err
	}
	user, root, err := keyOwner(c)
	if err != nil || root {
		return "", err
	}
	l, err := userEntity.load(c.Tx, c.Account(), user)
	if err != nil {
		return "", err
	}
	return l.Name, nil
}

// listKeys returns a user's access keys, or the root user's for user "".
func listKeys(tx store.Tx, account, user string) ([]directory.AccessKey, error) {
	var ids []string
	err := tx.Scan(userKeyIndex, directory.NameKey(account, user)+"/", "", 0, func(key string, _ []byte) (bool, error) {
		ids = append(ids, key[strings.LastIndexByte(key, '/')+1:])
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if user == "" {
		var boot string
		if err := tx.Get(rootKeyIndex, account, &boot); err == nil && !containsFold(ids, boot) {
			ids = append([]string{boot}, ids...)
		}
	}
	var keys []directory.AccessKey
	for _, id := range ids {
		var k directory.AccessKey
		err := tx.Get(directory.KindAccessKey, id, &k)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

type accessKeyXML struct {
	UserName        string `xml:"UserName,omitempty"`
	AccessKeyID     string `xml:"AccessKeyId"`
	Status          string `xml:"Status"`
	SecretAccessKey string `xml:"SecretAccessKey,omitempty"`
	CreateDate      string `xml:"CreateDate"`
}

type createAccessKeyResult struct {
	AccessKey accessKeyXML `xml:"AccessKey"`
}

func createAccessKey(c *service.Call) (any, error) {
	user, err := ownerParams(c, false)
	if err != nil {
		return nil, err
	}
	keys, err := listKeys(c.Tx, c.Account(), user)
	if err != nil {
		return nil, err
	}
	if len(keys) >= maxAccessKeys {
		return nil, limitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeys)
	}
	k := directory.AccessKey{ID: directory.NewAccessKeyID("AKIA", c.Account()), Secret: directory.NewSecret(),
		Account: c.Account(), User: user, Status: "Active", CreateDate: c.Now.UTC()}
	if err := c.Tx.Put(directory.KindAccessKey, k.ID, &k); err != nil {
		return nil, err
	}
	if err := c.Tx.Put(userKeyIndex, keyIndexKey(k.Account, user, k.ID), k.ID); err != nil {
		return nil, err
	}
	return &createAccessKeyResult{accessKeyXML{UserName: user, AccessKeyID: k.ID, Status: k.Status,
		SecretAccessKey: k.Secret, CreateDate: isoTime(k.CreateDate)}}, nil
}

type listAccessKeysResult struct {
	AccessKeyMetadata list[accessKeyXML] `xml:"AccessKeyMetadata"`
	IsTruncated       bool               `xml:"IsTruncated"`
	Marker            string             `xml:"Marker,omitempty"`
}

func listAccessKeys(c *service.Call) (any, error) {
	user, err := ownerParams(c, false)
	if err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	keys, err := listKeys(c.Tx, c.Account(), user)
	if err != nil {
		return nil, err
	}
	start, end, truncated, marker, err := slicePage(len(keys), p)
	if err != nil {
		return nil, err
	}
	res := &listAccessKeysResult{IsTruncated: truncated, Marker: marker}
	for _, k := range keys[start:end] {
		res.AccessKeyMetadata.Member = append(res.AccessKeyMetadata.Member,
			accessKeyXML{UserName: k.User, AccessKeyID: k.ID, Status: k.Status, CreateDate: isoTime(k.CreateDate)})
	}
	return res, nil
}

// ownedKey finds one of the owner's keys by id.
func ownedKey(c *service.Call) (*directory.AccessKey, error) {
	user, err := ownerParams(c, true)
	if err != nil {
		return nil, err
	}
	keys, err := listKeys(c.Tx, c.Account(), user)
	if err != nil {
		return nil, err
	}
	id := c.Params.Get("AccessKeyId")
	for i := range keys {
		if keys[i].ID == id {
			return &keys[i], nil
		}
	}
	return nil, noSuchEntity("The Access Key with id %s cannot be found.", id)
}

func updateAccessKey(c *service.Call) (any, error) {
	in := newInput(c)
	if status, ok := in.required("Status"); ok {
		in.v.Check(status == "Active" || status == "Inactive", status, "status", "satisfy enum value set: [Active, Inactive]")
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	k, err := ownedKey(c)
	if err != nil {
		return nil, err
	}
	k.Status = c.Params.Get("Status")
	return nil, c.Tx.Put(directory.KindAccessKey, k.ID, k)
}

func deleteAccessKey(c *service.Call) (any, error) {
	k, err := ownedKey(c)
	if err != nil {
		return nil, err
	}
	if _, err := c.Tx.Delete(directory.KindAccessKey, k.ID); err != nil {
		return nil, err
	}
	_, err = c.Tx.Delete(userKeyIndex, keyIndexKey(k.Account, k.User, k.ID))
	return nil, err
}

// moveAccessKeys follows a user's rename: its keys' index entries and owner name.
func moveAccessKeys(tx store.Tx, l *loaded, oldKey string) error {
	var ids []string
	err := tx.Scan(userKeyIndex, oldKey+"/", "", 0, func(key string, _ []byte) (bool, error) {
		ids = append(ids, key[len(oldKey)+1:])
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		var k directory.AccessKey
		if err := tx.Get(directory.KindAccessKey, id, &k); err != nil {
			return err
		}
		k.User = l.Name
		if err := tx.Put(directory.KindAccessKey, id, &k); err != nil {
			return err
		}
		if _, err := tx.Delete(userKeyIndex, oldKey+"/"+id); err != nil {
			return err
		}
		if err := tx.Put(userKeyIndex, l.key+"/"+id, id); err != nil {
			return err
		}
	}
	return nil
}

// lastUsedResource is the ARN of the key's owner.
func lastUsedResource(c *service.Call) (string, string, error) {
	var k directory.AccessKey
	if err := c.Tx.Get(directory.KindAccessKey, c.Params.Get("AccessKeyId"), &k); err != nil || k.Account != c.Account() {
		return "*", c.Account(), nil
	}
	if k.User == "" {
		return rootArn(k.Account), k.Account, nil
	}
	var u directory.User
	if err := c.Tx.Get(directory.KindUser, directory.NameKey(k.Account, k.User), &u); err != nil {
		return arn(k.Account, "user", "/", k.User), k.Account, nil
	}
	return u.Arn, k.Account, nil
}

type lastUsedXML struct {
	LastUsedDate string `xml:"LastUsedDate,omitempty"`
	ServiceName  string `xml:"ServiceName"`
	Region       string `xml:"Region"`
}

type getAccessKeyLastUsedResult struct {
	UserName          string      `xml:"UserName,omitempty"`
	AccessKeyLastUsed lastUsedXML `xml:"AccessKeyLastUsed"`
}

// getAccessKeyLastUsed reports "N/A" for a key never used, as AWS does.
func getAccessKeyLastUsed(c *service.Call) (any, error) {
	in := newInput(c)
	id, ok := in.required("AccessKeyId")
	if ok {
		in.v.Length(id, "accessKeyId", 16, 128)
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	var k directory.AccessKey
	err := c.Tx.Get(directory.KindAccessKey, id, &k)
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.Account != c.Account()) {
		return nil, noSuchEntity("The Access Key with id %s cannot be found.", id)
	}
	if err != nil {
		return nil, err
	}
	res := &getAccessKeyLastUsedResult{UserName: k.User, AccessKeyLastUsed: lastUsedXML{ServiceName: "N/A", Region: "N/A"}}
	if !k.LastUsed.IsZero() {
		res.AccessKeyLastUsed = lastUsedXML{LastUsedDate: isoTime(k.LastUsed), ServiceName: k.LastSvc, Region: k.LastRegion}
	}
	return res, nil
}
