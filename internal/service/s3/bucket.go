package s3

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"github.com/iamlocal/iamlocal/internal/awsdata"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

const timeFormat = "2006-01-02T15:04:05.000Z"

func xmlTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// validBucketName applies S3's naming rules for general purpose buckets.
func validBucketName(n string) bool {
	if len(n) < 3 || len(n) > 63 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	alnum := func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
	if !alnum(n[0]) || !alnum(n[len(n)-1]) || strings.Contains(n, "..") {
		return false
	}
	if ip := net.ParseIP(n); ip != nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(n, p) {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(n, s) {
			return false
		}
	}
	return true
}

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// bucketRegion applies S3's rules for LocationConstraint: none means us-east-1,
// which only the us-east-1 endpoint accepts; "us-east-1" itself is not a valid
// constraint; a regional endpoint creates buckets only in its own region.
func (rq *request) bucketRegion(lc string) (string, error) {
	signed := rq.c.Region
	if lc == "EU" {
		lc = "eu-west-1"
	}
	switch {
	case lc == "":
		if signed != "" && signed != "us-east-1" {
			return "", wire.Errorf(http.StatusBadRequest, "IllegalLocationConstraintException",
				"The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
		}
		return "us-east-1", nil
	case lc == "us-east-1" || !regionPattern.MatchString(lc):
		return "", wire.Errorf(http.StatusBadRequest, "InvalidLocationConstraint", "The specified location-constraint is not valid")
	case signed != "" && signed != "us-east-1" && signed != lc:
		return "", wire.Errorf(http.StatusBadRequest, "IllegalLocationConstraintException",
			"The %s location constraint is incompatible for the region specific endpoint this request was sent to.", lc)
	}
	return lc, nil
}

var cannedACLs = map[string]bool{"private": true, "public-read": true, "public-read-write": true, "authenticated-read": true,
	"aws-exec-read": true, "bucket-owner-read": true, "bucket-owner-full-control": true, "log-delivery-write": true}

// aclHeaders checks x-amz-acl and the x-amz-grant-* headers. Buckets are created
// with Object Ownership "bucket owner enforced", as S3 does since 2023: ACLs are
// disabled, and only the ACLs that grant nothing beyond the owner are accepted.
func (rq *request) aclHeaders(forBucket bool) (string, error) {
	h := rq.r.Header
	acl := h.Get("X-Amz-Acl")
	if acl != "" && !cannedACLs[acl] {
		return "", wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Invalid canned ACL %q", acl)
	}
	granted := false
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-grant-") {
			granted = true
		}
	}
	if granted || (acl != "" && acl != "private" && acl != "bucket-owner-full-control") {
		if forBucket {
			return "", wire.Errorf(http.StatusBadRequest, "InvalidBucketAclWithObjectOwnership",
				"Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
		}
		return "", wire.Errorf(http.StatusBadRequest, "AccessControlListNotSupported", "The bucket does not allow ACLs")
	}
	return acl, nil
}

type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string   `xml:"LocationConstraint"`
}

func createBucket(rq *request) error {
	name := rq.bucket
	if !validBucketName(name) {
		return wire.Errorf(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.")
	}
	var cfg createBucketConfiguration
	body, err := rq.document(maxDocument, malformedXML)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := xml.Unmarshal(body, &cfg); err != nil {
			return malformedXML()
		}
	}
	region, err := rq.bucketRegion(strings.TrimSpace(cfg.LocationConstraint))
	if err != nil {
		return err
	}
	ctx := policy.Context{}
	if cfg.LocationConstraint != "" {
		ctx.Set("s3:LocationConstraint", region)
	}
	if v := rq.r.Header.Get("X-Amz-Acl"); v != "" {
		ctx.Set("s3:x-amz-acl", v)
	}
	if v := rq.r.Header.Get("X-Amz-Object-Ownership"); v != "" {
		if v != "BucketOwnerEnforced" && v != "BucketOwnerPreferred" && v != "ObjectWriter" {
			return wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Invalid x-amz-object-ownership header: %s", v)
		}
		ctx.Set("s3:x-amz-object-ownership", v)
	}
	err = rq.write(func(tx store.Tx) error {
		if err := rq.authorize(authzReq{action: "s3:CreateBucket", resource: bucketARN(name), ctx: ctx}); err != nil {
			return err
		}
		if _, err := rq.aclHeaders(true); err != nil {
			return err
		}
		var old Bucket
		switch err := tx.Get(kindBucket, name, &old); {
		case err == nil && old.Account == rq.c.Account():
			return wire.Errorf(http.StatusConflict, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
		case err == nil:
			return wire.Errorf(http.StatusConflict, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		b := Bucket{Name: name, Account: rq.c.Account(), Region: region, Created: rq.c.Now.UTC()}
		if err := tx.Put(kindBucket, name, &b); err != nil {
			return err
		}
		return tx.Put(kindOwned, b.Account+"/"+name, name)
	})
	if err != nil {
		return err
	}
	rq.w.Header().Set("Location", "/"+name)
	return rq.empty(http.StatusOK)
}

func deleteBucket(rq *request) error {
	var files []string
	err := rq.write(func(tx store.Tx) error {
		b, err := getBucket(tx, rq.bucket)
		if err != nil {
			return err
		}
		if err := rq.authorize(authzReq{action: "s3:DeleteBucket", resource: bucketARN(b.Name), bucket: b}); err != nil {
			return err
		}
		empty := true
		err = tx.Scan(kindObject, b.Name+"/", "", 1, func(string, []byte) (bool, error) {
			empty = false
			return false, nil
		})
		if err != nil {
			return err
		}
		if !empty {
			return wire.Errorf(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty")
		}
		// Uploads in progress go with the bucket.
		var uploads []string
		err = tx.Scan(kindUpload, b.Name+"/", "", 0, func(key string, _ []byte) (bool, error) {
			uploads = append(uploads, key)
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, key := range uploads {
			f, err := dropUpload(tx, key, strings.TrimPrefix(key, b.Name+"/"))
			if err != nil {
				return err
			}
			files = append(files, f...)
		}
		if _, err := tx.Delete(kindBucket, b.Name); err != nil {
			return err
		}
		_, err = tx.Delete(kindOwned, b.Account+"/"+b.Name)
		return err
	})
	if err != nil {
		return err
	}
	rq.blobs.remove(files...)
	return rq.empty(http.StatusNoContent)
}

// bucketRead reads the request's bucket and authorizes a bucket-level action in one
// read transaction, then runs fn (if any) in it.
func (rq *request) bucketRead(action string, ctx policy.Context, fn func(tx store.Tx, b *Bucket) error) (*Bucket, error) {
	var b *Bucket
	err := rq.read(func(tx store.Tx) error {
		var err error
		if b, err = getBucket(tx, rq.bucket); err != nil {
			return err
		}
		if err := rq.authorize(authzReq{action: action, resource: bucketARN(b.Name), bucket: b, ctx: ctx}); err != nil {
			return err
		}
		if fn != nil {
			return fn(tx, b)
		}
		return nil
	})
	return b, err
}

func headBucket(rq *request) error {
	b, err := rq.bucketRead("s3:ListBucket", nil, nil)
	if err != nil {
		return err
	}
	rq.w.Header().Set("x-amz-bucket-region", b.Region)
	rq.w.Header().Set("x-amz-access-point-alias", "false")
	return rq.empty(http.StatusOK)
}

type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
}

func ownerOf(account string) owner { return owner{ID: canonicalID(account), DisplayName: account} }

type bucketEntry struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion"`
}

type listAllMyBucketsResult struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	Owner   owner    `xml:"Owner"`
	Buckets struct {
		Bucket []bucketEntry `xml:"Bucket"`
	} `xml:"Buckets"`
	ContinuationToken string `xml:"ContinuationToken,omitempty"`
	Prefix            string `xml:"Prefix,omitempty"`
}

func listBuckets(rq *request) error {
	max := 10000
	if v := rq.q.Get("max-buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Argument max-buckets must be an integer between 1 and 10000")
		}
		max = n
	}
	prefix := rq.q.Get("prefix")
	after := ""
	if tok := rq.q.Get("continuation-token"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return wire.Errorf(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
		}
		after = string(b)
	}
	region := rq.q.Get("bucket-region")
	res := listAllMyBucketsResult{Xmlns: XMLNS, Prefix: prefix}
	err := rq.read(func(tx store.Tx) error {
		if err := rq.authorize(authzReq{action: "s3:ListAllMyBuckets", resource: "*"}); err != nil {
			return err
		}
		acct := rq.c.Account()
		res.Owner = ownerOf(acct)
		var names []string
		scanAfter := ""
		if after != "" {
			scanAfter = acct + "/" + after
		}
		err := tx.Scan(kindOwned, acct+"/"+prefix, scanAfter, 0, func(key string, _ []byte) (bool, error) {
			names = append(names, strings.TrimPrefix(key, acct+"/"))
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, n := range names {
			b, err := getBucket(tx, n)
			if err != nil {
				continue // deleted meanwhile; an index entry without its bucket
			}
			if region != "" && b.Region != region {
				continue
			}
			if len(res.Buckets.Bucket) == max {
				res.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(res.Buckets.Bucket[max-1].Name))
				break
			}
			res.Buckets.Bucket = append(res.Buckets.Bucket, bucketEntry{Name: b.Name, CreationDate: xmlTime(b.Created), BucketRegion: b.Region})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rq.writeXML(http.StatusOK, &res)
}

type locationConstraint struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	Xmlns   string   `xml:"xmlns,attr"`
	Region  string   `xml:",chardata"`
}

func getBucketLocation(rq *request) error {
	b, err := rq.bucketRead("s3:GetBucketLocation", nil, nil)
	if err != nil {
		return err
	}
	res := locationConstraint{Xmlns: XMLNS}
	if b.Region != "us-east-1" {
		res.Region = b.Region
	}
	return rq.writeXML(http.StatusOK, &res)
}

type versioningConfiguration struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	Xmlns   string   `xml:"xmlns,attr"`
}

// getBucketVersioning answers that versioning was never enabled: iamlocal keeps one
// version of each object.
func getBucketVersioning(rq *request) error {
	if _, err := rq.bucketRead("s3:GetBucketVersioning", nil, nil); err != nil {
		return err
	}
	return rq.writeXML(http.StatusOK, &versioningConfiguration{Xmlns: XMLNS})
}

const maxBucketPolicy = 20 << 10

func malformedPolicy(format string, args ...any) error {
	return wire.Errorf(http.StatusBadRequest, "MalformedPolicy", format, args...)
}

// validateBucketPolicy checks a bucket policy as S3 does: a resource policy whose
// actions are S3's and whose resources are this bucket or its objects.
func validateBucketPolicy(doc []byte, bucket string) error {
	trimmed := bytes.TrimSpace(doc)
	switch {
	case len(trimmed) == 0:
		return wire.Errorf(http.StatusBadRequest, "MissingRequestBodyError", "Request Body is empty")
	case len(doc) > maxBucketPolicy:
		return malformedPolicy("Policy exceeds the maximum allowed document size.")
	case trimmed[0] != '{':
		return malformedPolicy("Policies must be valid JSON and the first byte must be '{'")
	}
	p, err := policy.Parse(doc, policy.Resource)
	if err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return malformedPolicy("%s", pe.Message) // AWS's bare wording, no position
		}
		return malformedPolicy("%v", err)
	}
	for i := range p.Statements {
		st := &p.Statements[i]
		actions, notAction := st.Actions()
		for _, a := range actions {
			if a != "*" && len(s3Actions(a)) == 0 {
				return malformedPolicy("Policy has invalid action")
			}
		}
		resources, notResource := st.Resources()
		for _, r := range resources {
			if !bucketResource(r, bucket) {
				return malformedPolicy("Policy has invalid resource")
			}
		}
		if !notAction && !notResource && !actionsApply(actions, resources) {
			return malformedPolicy("Action does not apply to any resource(s) in statement")
		}
	}
	return nil
}

// s3Actions lists the S3 actions an Action pattern names (s3:Get*), from the service
// authorization reference; none for a pattern of another service or a name S3 lacks.
func s3Actions(pattern string) []*awsdata.Action {
	svc, name, ok := strings.Cut(pattern, ":")
	if !ok || !strings.EqualFold(svc, "s3") {
		return nil
	}
	return awsdata.ExpandAction("s3", name)
}

// actionsApply reports whether every Action pattern of a statement names some action
// that can apply to one of its resources: an object action (s3:GetObject) to an
// object ARN (b/*), a bucket action (s3:ListBucket) to a bucket ARN; a resource with
// a wildcard before any "/" may name both, "*" anything. S3 refuses a statement where
// one does not: "Action does not apply to any resource(s) in statement".
func actionsApply(actions, resources []string) bool {
	var bucket, object bool
	for _, r := range resources {
		b, o := resourceKinds(r)
		bucket, object = bucket || b, object || o
	}
	for _, pattern := range actions {
		if pattern == "*" {
			continue
		}
		applies := false
		for _, a := range s3Actions(pattern) {
			for _, rt := range a.Resources {
				applies = applies || rt.Type == "bucket" && bucket || rt.Type == "object" && object
			}
		}
		if !applies {
			return false
		}
	}
	return true
}

// resourceKinds says which of a bucket's resource types a policy resource can name.
func resourceKinds(r string) (bucket, object bool) {
	rest, ok := strings.CutPrefix(r, arnPrefix)
	if !ok {
		return true, true // "*"
	}
	name, _, hasKey := strings.Cut(rest, "/")
	if hasKey {
		return false, true
	}
	if strings.ContainsAny(name, "*?") || strings.Contains(name, "${") {
		return true, true // a wildcard can cross "/"
	}
	return true, false
}

// bucketResource reports whether a policy's resource can name the bucket or its objects.
func bucketResource(r, bucket string) bool {
	if r == "*" {
		return true
	}
	rest, ok := strings.CutPrefix(r, arnPrefix)
	if !ok {
		return false
	}
	name, _, _ := strings.Cut(rest, "/")
	return awsdata.Glob(name, bucket) || strings.Contains(name, "${")
}

func putBucketPolicy(rq *request) error {
	// One byte past S3's limit is enough for validateBucketPolicy to name it.
	doc, err := rq.document(maxBucketPolicy+1, func() error { return malformedPolicy("Policy exceeds the maximum allowed document size.") })
	if err != nil {
		return err
	}
	err = rq.write(func(tx store.Tx) error {
		b, err := getBucket(tx, rq.bucket)
		if err != nil {
			return err
		}
		if err := rq.authorize(authzReq{action: "s3:PutBucketPolicy", resource: bucketARN(b.Name), bucket: b, noPolicy: rq.isOwnerRoot(b)}); err != nil {
			return err
		}
		if err := validateBucketPolicy(doc, b.Name); err != nil {
			return err
		}
		b.Policy = string(doc)
		return tx.Put(kindBucket, b.Name, b)
	})
	if err != nil {
		return err
	}
	return rq.empty(http.StatusNoContent)
}

func getBucketPolicy(rq *request) error {
	var doc string
	err := rq.read(func(tx store.Tx) error {
		b, err := getBucket(tx, rq.bucket)
		if err != nil {
			return err
		}
		if err := rq.authorize(authzReq{action: "s3:GetBucketPolicy", resource: bucketARN(b.Name), bucket: b, noPolicy: rq.isOwnerRoot(b)}); err != nil {
			return err
		}
		if b.Policy == "" {
			return wire.Errorf(http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist")
		}
		doc = b.Policy
		return nil
	})
	if err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	rq.w.WriteHeader(http.StatusOK)
	rq.w.Write([]byte(doc))
	return nil
}

func deleteBucketPolicy(rq *request) error {
	err := rq.write(func(tx store.Tx) error {
		b, err := getBucket(tx, rq.bucket)
		if err != nil {
			return err
		}
		if err := rq.authorize(authzReq{action: "s3:DeleteBucketPolicy", resource: bucketARN(b.Name), bucket: b, noPolicy: rq.isOwnerRoot(b)}); err != nil {
			return err
		}
		if b.Policy == "" {
			return nil
		}
		b.Policy = ""
		return tx.Put(kindBucket, b.Name, b)
	})
	if err != nil {
		return err
	}
	return rq.empty(http.StatusNoContent)
}

func putBucketTagging(rq *request) error {
	body, err := rq.document(maxDocument, malformedXML)
	if err != nil {
		return err
	}
	tags, err := parseTagging(body, 50, true)
	if err != nil {
		return err
	}
	ctx := policy.Context{}
	keys := make([]string, len(tags))
	for i, t := range tags {
		ctx.Set("aws:RequestTag/"+t.Key, t.Value)
		keys[i] = t.Key
	}
	ctx.Set("aws:TagKeys", keys...)
	err = rq.write(func(tx store.Tx) error {
		b, err := getBucket(tx, rq.bucket)
		if err != nil {
			return err
		}
		if err := rq.authorize(authzReq{action: "s3:PutBucketTagging", resource: bucketARN(b.Name), bucket: b, ctx: ctx}); err != nil {
			return err
		}
		b.Tags = tags
		return tx.Put(kindBucket, b.Name, b)
	})
	if err != nil {
		return err
	}
	return rq.empty(http.StatusNoContent)
}

func getBucketTagging(rq *request) error {
	b, err := rq.bucketRead("s3:GetBucketTagging", nil, nil)
	if err != nil {
		return err
	}
	if len(b.Tags) == 0 {
		return wire.Errorf(http.StatusNotFound, "NoSuchTagSet", "The TagSet does not exist")
	}
	return rq.writeXML(http.StatusOK, taggingDoc(b.Tags))
}

func deleteBucketTagging(rq *request) error {
	err := rq.write(func(tx store.Tx) error {
		b, err := getBucket(tx, rq.bucket)
		if err != nil {
			return err
		}
		// S3 authorizes DeleteBucketTagging as s3:PutBucketTagging.
		if err := rq.authorize(authzReq{action: "s3:PutBucketTagging", resource: bucketARN(b.Name), bucket: b}); err != nil {
			return err
		}
		if len(b.Tags) == 0 {
			return nil
		}
		b.Tags = nil
		return tx.Put(kindBucket, b.Name, b)
	})
	if err != nil {
		return err
	}
	return rq.empty(http.StatusNoContent)
}
