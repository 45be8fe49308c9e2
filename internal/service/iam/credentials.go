package iam

import (
	"errors"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// credKind is one kind of credential a user holds beside access keys: SSH public
// keys, signing certificates and service-specific credentials share their owner,
// id, status, upload date, per-user quota, listing, status update and deletion;
// each kind's file adds what is its own (parsing, the response shapes).
//
// Credentials are stored under credKey(account, owner's user id, credential id):
// a user's unique id survives UpdateUser's renames, so nothing moves when a user is
// renamed, and a user deleted and created again under the same name (a new id)
// does not inherit them. The root user's signing certificates have user id "".
type credKind struct {
	kind         string // store kind
	idParam      string // SSHPublicKeyId, CertificateId, ServiceSpecificCredentialId
	idMin        int    // the id's shortest length in botocore's shape
	userMax      int    // userNameType (64) or existingUserNameType (128)
	userOptional bool   // UserName may be omitted: the caller's own
	rootAllowed  bool   // the root user holds them too
	perUser      int
	quota        string // LimitExceeded's quota name
	missing      string // NoSuchEntity's message, with the id
}

// credential is a stored credential of any kind; each kind uses its fields.
type credential struct {
	ID       string
	Account  string
	UserID   string // "" for the root user
	Status   string // Active, Inactive
	Uploaded time.Time
	// SSH public keys and signing certificates.
	Body        string `json:",omitempty"` // as uploaded
	Fingerprint string `json:",omitempty"` // SSH: MD5 of the key; certificates: SHA-256 of the DER
	// Service-specific credentials: the password is kept only as a salted hash.
	Service     string    `json:",omitempty"`
	ServiceUser string    `json:",omitempty"`
	Secret      string    `json:",omitempty"`
	Expires     time.Time `json:",omitzero"`
}

func credPrefix(account, userID string) string { return account + "/" + userID + "/" }

func (cr *credential) key() string { return credPrefix(cr.Account, cr.UserID) + cr.ID }

// credOwner is the user whose credentials a request manages.
type credOwner struct {
	name string // "" for the root user
	id   string // the user's unique id; "" for the root user
}

// readUser validates the request's UserName (required unless userOptional).
func (k *credKind) readUser(in *input) {
	if k.userOptional {
		in.optName("UserName", k.userMax)
	} else {
		in.name("UserName", k.userMax)
	}
}

// readID validates the credential id parameter.
func (k *credKind) readID(in *input) string {
	id, ok := in.required(k.idParam)
	if ok {
		in.v.Length(id, lowerFirst(k.idParam), k.idMin, 128)
		in.v.Check(accessKeyIDPattern.MatchString(id), id, lowerFirst(k.idParam), `satisfy regular expression pattern: [\w]+`)
	}
	return id
}

// owner finds the user a request names or, when UserName is omitted, the caller.
func (k *credKind) owner(c *service.Call) (*credOwner, error) {
	name := c.Params.Get("UserName")
	if !c.Params.Has("UserName") {
		switch c.Identity.Caller.Kind {
		case policy.User:
			name = c.Identity.Caller.Name
		case policy.RootUser:
			if k.rootAllowed {
				return &credOwner{}, nil
			}
			fallthrough
		default:
			return nil, wire.ValidationError("Must specify userName when calling with non-User credentials")
		}
	}
	l, err := userEntity.load(c.Tx, c.Account(), name)
	if err != nil {
		return nil, err
	}
	return &credOwner{name: l.Name, id: l.ID}, nil
}

// resource is the ARN of the credential's owner.
func (k *credKind) resource(c *service.Call) (string, string, error) {
	if k.userOptional {
		return keyOwnerResource(c)
	}
	return userEntity.resource(c)
}

// all lists an owner's credentials of this kind, in key order.
func (k *credKind) all(tx store.Tx, account string, o *credOwner) ([]*credential, error) {
	var out []*credential
	err := tx.Scan(k.kind, credPrefix(account, o.id), "", 0, func(_ string, data []byte) (bool, error) {
		cr := &credential{}
		if err := jsonUnmarshal(data, cr); err != nil {
			return false, err
		}
		out = append(out, cr)
		return true, nil
	})
	return out, err
}

// room refuses a new credential beyond the owner's quota; n is how many it has.
func (k *credKind) room(n int) error {
	if n >= k.perUser {
		return limitExceeded("Cannot exceed quota for %s: %d", k.quota, k.perUser)
	}
	return nil
}

// find reads UserName and the id, and loads the credential.
func (k *credKind) find(c *service.Call, extra func(in *input)) (*credential, *credOwner, error) {
	in := newInput(c)
	k.readUser(in)
	id := k.readID(in)
	if extra != nil {
		extra(in)
	}
	if err := in.err(); err != nil {
		return nil, nil, err
	}
	o, err := k.owner(c)
	if err != nil {
		return nil, nil, err
	}
	cr := &credential{}
	err = c.Tx.Get(k.kind, credPrefix(c.Account(), o.id)+id, cr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, noSuchEntity(k.missing, id)
	}
	return cr, o, err
}

// readStatus reads Status: botocore's statusType allows Expired, which no Update
// action can set.
func readStatus(in *input) {
	if s, ok := in.required("Status"); ok {
		in.v.Check(s == "Active" || s == "Inactive" || s == "Expired", s, "status", "satisfy enum value set: [Active, Inactive, Expired]")
	}
}

func (k *credKind) update(c *service.Call) (any, error) {
	cr, _, err := k.find(c, readStatus)
	if err != nil {
		return nil, err
	}
	status := c.Params.Get("Status")
	if status == "Expired" {
		return nil, invalidInput("The status Expired cannot be set; use Active or Inactive.")
	}
	cr.Status = status
	return nil, c.Tx.Put(k.kind, cr.key(), cr)
}

func (k *credKind) delete(c *service.Call) (any, error) {
	cr, _, err := k.find(c, nil)
	if err != nil {
		return nil, err
	}
	_, err = c.Tx.Delete(k.kind, cr.key())
	return nil, err
}

// page reads a List request's owner and page and returns the page's credentials.
func (k *credKind) page(c *service.Call, keep func(*credential) bool) (items []*credential, o *credOwner, truncated bool, marker string, err error) {
	in := newInput(c)
	k.readUser(in)
	if err := in.err(); err != nil {
		return nil, nil, false, "", err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, nil, false, "", err
	}
	if o, err = k.owner(c); err != nil {
		return nil, nil, false, "", err
	}
	truncated, marker, err = scanPage(c.Tx, k.kind, credPrefix(c.Account(), o.id), p, func(data []byte) (bool, error) {
		cr := &credential{}
		if err := jsonUnmarshal(data, cr); err != nil {
			return false, err
		}
		if keep != nil && !keep(cr) {
			return false, nil
		}
		items = append(items, cr)
		return true, nil
	})
	return items, o, truncated, marker, err
}

// userCredentials refuses to delete a user who still holds credentials, in the
// order IAM checks them, with IAM's DeleteConflict messages.
func userCredentials(tx store.Tx, l *loaded) error {
	checks := []struct {
		kind, prefix, what string
	}{
		{userKeyIndex, l.key + "/", "Cannot delete entity, must delete access keys first."},
		{loginProfileKind, l.Account + "/" + l.ID, "Cannot delete entity, must delete login profile first."},
		{sshKeys.kind, credPrefix(l.Account, l.ID), "Cannot delete entity, must delete SSH public keys first."},
		{signingCerts.kind, credPrefix(l.Account, l.ID), "Cannot delete entity, must delete signing certificates first."},
		{serviceCreds.kind, credPrefix(l.Account, l.ID), "Cannot delete entity, must remove referenced objects first."},
	}
	for _, ch := range checks {
		n, err := count(tx, ch.kind, ch.prefix)
		if err != nil {
			return err
		}
		if n > 0 {
			return deleteConflict("%s", ch.what)
		}
	}
	return nil
}

// userByID finds a user of the account by unique id (for listings across users).
func userByID(tx store.Tx, id string) (*directory.User, error) {
	var key string
	if err := tx.Get(directory.KindUniqueID, id, &key); err != nil {
		return nil, err
	}
	u := &directory.User{}
	return u, tx.Get(directory.KindUser, key, u)
}
