// Package s3 is a thin Amazon S3 plane over REST-XML: buckets and objects whose every
// call is authorized by the engine (bucket policies as resource policies).
//
// Requests arrive path-style (/bucket/key) or virtual-hosted (bucket.localhost:port).
// Each handler reads or writes the store in its own transactions and asks the engine
// through service.Call.Authorize, with the bucket owner as the resource account and
// the bucket policy as the resource policy, so cross-account access needs both sides.
//
// Storage: bucket and object metadata are store objects (kinds s3bucket, s3object,
// s3upload, s3part); object content lives in files under DATA/s3/blobs, written and
// fsynced before the metadata naming them commits (blobs.go). One request carries at
// most MaxBody (64 MiB) — an object put in one request, or one part; a multipart
// object is the sequence of its parts' files (up to 10,000 parts of at most 64 MiB).
//
// Choices where AWS's behaviour is regional or configurable: CreateBucket of a bucket
// the caller already owns is BucketAlreadyOwnedByYou (409) in every region; buckets
// have Object Ownership "bucket owner enforced" (ACLs other than private and
// bucket-owner-full-control are refused); Block Public Access is not modelled, so a
// Principal "*" bucket policy takes effect at once; versioning is never enabled.
package s3

import (
	"encoding/xml"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// MaxBody caps what one S3 request may carry (an object or a part). The content is
// streamed to a file, never held in memory, so the cap bounds disk and time, not
// memory. A multipart object may be larger: each part is at most MaxBody, up to
// 10,000 parts.
const MaxBody = 64 << 20

// XMLNS is S3's XML namespace.
const XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"

const (
	maxKeyLength = 1024
	arnPrefix    = "arn:aws:s3:::"
)

// Plane serves S3 for one server. It holds the metadata caches: bucket and object
// metadata read in a read transaction, kept per store generation (store.GenCache),
// so a committed write (which moves the generation on) is seen by the next request.
type Plane struct {
	buckets *store.GenCache[string, *Bucket] // by bucket name; nil: no such bucket
	objects *store.GenCache[string, *Object] // by objectKey; nil: no such key
	small   *smallFiles                      // small object files' content (blobs.go)
}

// Cache bounds: entries of one generation. An object's cached metadata is small
// (metadata headers are at most 2 KiB, tags at most 10), and objects of more than
// maxCachedSegments parts are read from the store each time, so the object cache
// holds a few tens of MB at worst.
const (
	maxCachedBuckets  = 10_000
	maxCachedObjects  = 10_000
	maxCachedSegments = 16
)

// NewPlane makes an S3 plane with empty caches.
func NewPlane() *Plane {
	return &Plane{
		buckets: store.NewGenCache[string, *Bucket](maxCachedBuckets),
		objects: store.NewGenCache[string, *Object](maxCachedObjects),
		small:   newSmallFiles(),
	}
}

// request is one S3 request in progress.
type request struct {
	p      *Plane
	c      *service.Call
	w      http.ResponseWriter
	r      *http.Request
	q      url.Values
	bucket string
	key    string
	blobs  blobStore
}

type handler func(rq *request) error

// Serve handles one authenticated (or anonymous) S3 request. c has no transaction:
// S3 opens its own, around object files. The body is unread: a handler reads it
// once the request is authorized, verifying the declared payload hash as it goes.
func (p *Plane) Serve(c *service.Call, w http.ResponseWriter, r *http.Request) {
	rq := &request{p: p, c: c, w: w, r: r, blobs: blobStore{dir: blobDir(c.Env.DataDir), small: p.small}}
	w.Header().Set("x-amz-request-id", c.RequestID)
	err := rq.parse()
	var h handler
	if err == nil {
		h, err = rq.route()
	}
	if err == nil {
		err = h(rq)
	}
	if err != nil {
		rq.fail(err)
	}
}

func blobDir(dataDir string) string {
	if dataDir == "" {
		dataDir = "."
	}
	return filepath.Join(dataDir, "s3", "blobs")
}

// parse finds the bucket and key: from the host (bucket.localhost) or the path.
func (rq *request) parse() error {
	q, err := url.ParseQuery(rq.r.URL.RawQuery)
	if err != nil {
		return wire.Errorf(http.StatusBadRequest, "InvalidArgument", "The query string is malformed: %v", err)
	}
	rq.q = q
	path := rq.r.URL.Path
	if path == "" {
		path = "/"
	}
	if path[0] != '/' {
		return wire.Errorf(http.StatusBadRequest, "InvalidURI", "Couldn't parse the specified URI.")
	}
	if b := bucketFromHost(rq.r.Host); b != "" {
		rq.bucket, rq.key = b, path[1:]
	} else {
		rq.bucket, rq.key, _ = strings.Cut(path[1:], "/")
	}
	if !utf8.ValidString(rq.bucket) || !utf8.ValidString(rq.key) {
		return wire.Errorf(http.StatusBadRequest, "InvalidURI", "Couldn't parse the specified URI.")
	}
	if len(rq.key) > maxKeyLength {
		return wire.Errorf(http.StatusBadRequest, "KeyTooLongError", "Your key is too long")
	}
	return nil
}

// VirtualBucket is the bucket a virtual-hosted request names in its Host, or "".
func VirtualBucket(host string) string { return bucketFromHost(host) }

// bucketFromHost returns the bucket of a virtual-hosted request: the host's labels
// before ".localhost" (or ".s3.localhost").
func bucketFromHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	b, ok := strings.CutSuffix(host, ".localhost")
	if !ok {
		return ""
	}
	b = strings.TrimSuffix(b, ".s3")
	if b == "s3" {
		return ""
	}
	return b
}

// Subresources iamlocal does not serve: answered NotImplemented rather than taken
// for a plain GET or PUT.
var unsupported = []string{
	"accelerate", "acl", "analytics", "attributes", "cors", "encryption", "intelligent-tiering", "inventory",
	"legal-hold", "lifecycle", "logging", "metadataConfiguration", "metadataTable", "metrics", "notification",
	"object-lock", "ownershipControls", "policyStatus", "publicAccessBlock", "renameObject", "replication",
	"requestPayment", "restore", "retention", "select", "session", "torrent", "versions", "website",
}

func methodNotAllowed() error {
	return wire.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
}

func notImplemented(what string) error {
	return wire.Errorf(http.StatusNotImplemented, "NotImplemented", "A header or query you provided implies functionality that is not implemented: %s", what)
}

// route picks the action from the method, the subresources and a few headers.
func (rq *request) route() (handler, error) {
	has := func(k string) bool { _, ok := rq.q[k]; return ok }
	m := rq.r.Method
	if rq.bucket == "" {
		if m == http.MethodGet {
			return listBuckets, nil
		}
		return nil, methodNotAllowed()
	}
	for _, s := range unsupported {
		if has(s) {
			return nil, notImplemented("?" + s)
		}
	}
	if v, ok := rq.q["versionId"]; ok && (len(v) != 1 || v[0] != "null") {
		return nil, wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Invalid version id specified")
	}
	if rq.key == "" {
		switch m {
		case http.MethodPut:
			switch {
			case has("policy"):
				return putBucketPolicy, nil
			case has("tagging"):
				return putBucketTagging, nil
			case has("versioning"):
				return nil, notImplemented("?versioning")
			}
			return createBucket, nil
		case http.MethodGet:
			switch {
			case has("location"):
				return getBucketLocation, nil
			case has("policy"):
				return getBucketPolicy, nil
			case has("tagging"):
				return getBucketTagging, nil
			case has("versioning"):
				return getBucketVersioning, nil
			case has("uploads"):
				return listMultipartUploads, nil
			case has("list-type"):
				if rq.q.Get("list-type") != "2" {
					return nil, wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Invalid List Type specified")
				}
				return listObjectsV2, nil
			}
			return listObjectsV1, nil
		case http.MethodHead:
			return headBucket, nil
		case http.MethodDelete:
			switch {
			case has("policy"):
				return deleteBucketPolicy, nil
			case has("tagging"):
				return deleteBucketTagging, nil
			}
			return deleteBucket, nil
		case http.MethodPost:
			if has("delete") {
				return deleteObjects, nil
			}
			return nil, notImplemented("POST object (browser-based uploads)")
		}
		return nil, methodNotAllowed()
	}
	switch m {
	case http.MethodPut:
		switch {
		case has("tagging"):
			return putObjectTagging, nil
		case has("uploadId") || has("partNumber"):
			if rq.r.Header.Get("X-Amz-Copy-Source") != "" {
				return nil, notImplemented("UploadPartCopy")
			}
			return uploadPart, nil
		case rq.r.Header.Get("X-Amz-Copy-Source") != "":
			return copyObject, nil
		}
		return putObject, nil
	case http.MethodGet:
		switch {
		case has("tagging"):
			return getObjectTagging, nil
		case has("uploadId"):
			return listParts, nil
		}
		return getObject, nil
	case http.MethodHead:
		return getObject, nil
	case http.MethodDelete:
		switch {
		case has("tagging"):
			return deleteObjectTagging, nil
		case has("uploadId"):
			return abortMultipartUpload, nil
		}
		return deleteObject, nil
	case http.MethodPost:
		switch {
		case has("uploads"):
			return createMultipartUpload, nil
		case has("uploadId"):
			return completeMultipartUpload, nil
		}
	}
	return nil, methodNotAllowed()
}

// fail answers an error in S3's shape.
func (rq *request) fail(err error) {
	WriteError(rq.w, rq.r, rq.toWire(err), rq.c.RequestID)
}

func (rq *request) toWire(err error) *wire.Error {
	var den *service.Denied
	if errors.As(err, &den) && !enhancedDenial(den) {
		return wire.Errorf(http.StatusForbidden, "AccessDenied", "Access Denied")
	}
	if e := service.KnownError(err, wire.Errorf(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")); e != nil {
		return e
	}
	slog.Error("s3: internal failure", "request", rq.c.RequestID, "method", rq.r.Method, "bucket", rq.bucket, "err", err)
	return &wire.Error{Code: "InternalError", Status: http.StatusInternalServerError, Message: "We encountered an internal error. Please try again."}
}

// enhancedDenial reports whether S3 explains a denial: it does for requests from the
// bucket owner's account or organization, and answers everyone else "Access Denied"
// (S3 User Guide, "Troubleshoot access denied (403 Forbidden) errors").
func enhancedDenial(den *service.Denied) bool {
	r := den.Request
	if r == nil || r.Caller.Account == "" {
		return false // anonymous
	}
	if r.Caller.Account == r.ResourceAccount {
		return true
	}
	porg, _ := r.Lookup("aws:principalorgid")
	rorg, _ := r.Lookup("aws:resourceorgid")
	return len(porg) == 1 && len(rorg) == 1 && porg[0] == rorg[0]
}

// WriteError writes S3's XML error document.
func WriteError(w http.ResponseWriter, r *http.Request, err error, requestID string) {
	e, ok := err.(*wire.Error)
	if !ok {
		e = &wire.Error{Code: "InternalError", Status: 500, Message: "We encountered an internal error. Please try again."}
	}
	h := w.Header()
	for _, k := range []string{"ETag", "Last-Modified", "Content-Range", "Accept-Ranges"} {
		h.Del(k)
	}
	h.Set("Content-Type", "application/xml")
	h.Set("x-amz-request-id", requestID)
	doc := `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>" + e.Code + "</Code><Message>" + xmlEscape(e.Message) + "</Message><RequestId>" + requestID + "</RequestId></Error>"
	if r.Method != http.MethodHead {
		h.Set("Content-Length", strconv.Itoa(len(doc)))
	} else {
		h.Del("Content-Length")
	}
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		w.Write([]byte(doc))
	}
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// writeXML answers a document.
func (rq *request) writeXML(status int, v any) error {
	b, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(b)))
	rq.w.WriteHeader(status)
	rq.w.Write([]byte(xml.Header))
	rq.w.Write(b)
	return nil
}

// noContent answers 204 (or another empty status).
func (rq *request) empty(status int) error {
	if status != http.StatusNoContent {
		rq.w.Header().Set("Content-Length", "0")
	}
	rq.w.WriteHeader(status)
	return nil
}

// read and write run fn in a transaction with the call's Tx set, for Authorize.
func (rq *request) read(fn func(tx store.Tx) error) error {
	return rq.c.Env.Store.Read(rq.c.Ctx, func(tx store.Tx) error {
		rq.c.Tx = tx
		defer func() { rq.c.Tx = nil }()
		return fn(tx)
	})
}

func (rq *request) write(fn func(tx store.Tx) error) error {
	return rq.c.Env.Store.Write(rq.c.Ctx, func(tx store.Tx) error {
		rq.c.Tx = tx
		defer func() { rq.c.Tx = nil }()
		return fn(tx)
	})
}

func noSuchBucket() error {
	return wire.Errorf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
}

func noSuchKey() error {
	return wire.Errorf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
}

func malformedXML() error {
	return wire.Errorf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
}

// getBucket reads a bucket; NoSuchBucket when it does not exist.
func getBucket(tx store.Tx, name string) (*Bucket, error) {
	var b Bucket
	if err := tx.Get(kindBucket, name, &b); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, noSuchBucket()
		}
		return nil, err
	}
	return &b, nil
}

// bucket reads the request's bucket (or another, by name) as getBucket does, from
// the plane's cache in a read transaction. The value is shared: callers must not
// modify it. In a write transaction (generation 0) it is read afresh and the
// caller's own.
func (rq *request) getBucket(tx store.Tx, name string) (*Bucket, error) {
	gen := tx.Generation()
	if b, ok := rq.p.buckets.Get(gen, name); ok {
		if b == nil {
			return nil, noSuchBucket()
		}
		return b, nil
	}
	b, err := getBucket(tx, name)
	var we *wire.Error
	switch {
	case err == nil:
		rq.p.buckets.Put(gen, name, b)
	case errors.As(err, &we) && we.Code == "NoSuchBucket":
		rq.p.buckets.Put(gen, name, nil)
	}
	return b, err
}

// loadObject is loadObject through the plane's cache, as getBucket is: the value
// read in a read transaction is shared and must not be modified.
func (rq *request) loadObject(tx store.Tx, bucket, key string) (*Object, error) {
	gen := tx.Generation()
	k := objectKey(bucket, key)
	if o, ok := rq.p.objects.Get(gen, k); ok {
		return o, nil
	}
	o, err := loadObject(tx, bucket, key)
	if err == nil && (o == nil || len(o.Segments) <= maxCachedSegments) {
		rq.p.objects.Put(gen, k, o)
	}
	return o, err
}

// loadObject reads an object's metadata; nil when it does not exist.
func loadObject(tx store.Tx, bucket, key string) (*Object, error) {
	var o Object
	if err := tx.Get(kindObject, objectKey(bucket, key), &o); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &o, nil
}

func bucketARN(b string) string    { return arnPrefix + b }
func objectARN(b, k string) string { return arnPrefix + b + "/" + k }

// authz describes one authorization question on a bucket or object.
type authzReq struct {
	action   string
	resource string
	bucket   *Bucket // nil: a request on no bucket (ListBuckets, CreateBucket), in the caller's account
	ctx      policy.Context
	noPolicy bool // leave the bucket policy out (the owner's root user on the policy itself)
}

// authorize asks the engine, with the bucket owner as the resource account and the
// bucket policy as the resource policy.
func (rq *request) authorize(a authzReq) error {
	c := rq.c
	ctx := make(policy.Context, len(a.ctx)+3)
	for k, v := range a.ctx {
		ctx[k] = v
	}
	rq.commonContext(ctx)
	req := service.Request{Action: a.action, Resource: a.resource, ResourceAccount: c.Account(), Context: ctx}
	if b := a.bucket; b != nil {
		// x-amz-expected-bucket-owner guards against writing to a bucket that changed hands.
		if want := rq.r.Header.Get("X-Amz-Expected-Bucket-Owner"); want != "" && want != b.Account && rq.bucket == b.Name {
			return wire.AccessDenied("Access Denied")
		}
		req.ResourceAccount = b.Account
		if b.Policy != "" && !a.noPolicy {
			p, err := c.Env.Resolver.Policies.Compile(b.Policy, policy.Resource)
			if err != nil {
				return err
			}
			req.ResourcePolicy, req.ResourceKind = p, authz.ResourcePolicy
		}
	}
	return c.Authorize(req)
}

// Values of commonContext's keys, shared: the engine only reads a context's values.
var (
	restHeader = []string{"REST-HEADER"}
	restQuery  = []string{"REST-QUERY-STRING"}
	sigV2      = []string{"AWS"}
	sigV4      = []string{"AWS4-HMAC-SHA256"}
)

// commonContext adds the S3 keys every signed request carries.
func (rq *request) commonContext(ctx policy.Context) {
	r := rq.r
	if rq.c.Identity == nil {
		return
	}
	// Keys in lower case, as Context.Set would store them.
	auth := r.Header.Get("Authorization")
	if auth != "" {
		ctx["s3:authtype"] = restHeader
	} else {
		ctx["s3:authtype"] = restQuery
	}
	// S3 names SigV2 "AWS" in this key (the header form starts "AWS id:sig").
	if strings.HasPrefix(auth, "AWS ") || auth == "" && rq.q.Has("AWSAccessKeyId") {
		ctx["s3:signatureversion"] = sigV2
	} else {
		ctx["s3:signatureversion"] = sigV4
	}
	if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" {
		ctx["s3:x-amz-content-sha256"] = []string{v}
	}
}

// isOwnerRoot reports whether the caller is the root user of the bucket's account.
func (rq *request) isOwnerRoot(b *Bucket) bool {
	id := rq.c.Identity
	return id != nil && id.Caller.Kind == policy.RootUser && id.Caller.Account == b.Account
}
