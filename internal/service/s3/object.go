package s3

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

const (
	maxMetadata        = 2 << 10
	defaultContentType = "binary/octet-stream"
)

// storedHeaders are the representation headers S3 keeps with an object.
var storedHeaders = []string{"Content-Type", "Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}

// objectHeaders reads the headers and x-amz-meta-* metadata a PUT stores.
func objectHeaders(h http.Header) (headers, meta map[string]string, err error) {
	headers = map[string]string{}
	for _, k := range storedHeaders {
		if v := h.Get(k); v != "" {
			headers[strings.ToLower(k)] = v
		}
	}
	if ce, ok := headers["content-encoding"]; ok {
		// aws-chunked frames the request; it is not the object's encoding.
		var keep []string
		for _, t := range strings.Split(ce, ",") {
			if t = strings.TrimSpace(t); t != "" && !strings.EqualFold(t, "aws-chunked") {
				keep = append(keep, t)
			}
		}
		if len(keep) == 0 {
			delete(headers, "content-encoding")
		} else {
			headers["content-encoding"] = strings.Join(keep, ",")
		}
	}
	if headers["content-type"] == "" {
		headers["content-type"] = defaultContentType
	}
	size := 0
	for k, vs := range h {
		lk := strings.ToLower(k)
		name, ok := strings.CutPrefix(lk, "x-amz-meta-")
		if !ok || name == "" {
			continue
		}
		if meta == nil {
			meta = map[string]string{}
		}
		v := strings.Join(vs, ",")
		meta[name] = v
		size += len(name) + len(v)
	}
	if size > maxMetadata {
		return nil, nil, wire.Errorf(http.StatusBadRequest, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size")
	}
	return headers, meta, nil
}

// writeContext adds the condition keys of a request that writes an object.
func (rq *request) writeContext(ctx policy.Context) {
	h := rq.r.Header
	for _, k := range []string{"x-amz-acl", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-storage-class", "x-amz-website-redirect-location"} {
		if v := h.Get(k); v != "" {
			ctx.Set("s3:"+k, v)
		}
	}
}

func putObject(rq *request) error {
	headers, meta, err := objectHeaders(rq.r.Header)
	if err != nil {
		return err
	}
	tags, tagged, err := headerTags(rq.r.Header)
	if err != nil {
		return err
	}
	ctx := policy.Context{}
	rq.writeContext(ctx)
	if tagged {
		requestTagContext(ctx, tags)
	}
	o := &Object{Bucket: rq.bucket, Key: rq.key, LastModified: rq.c.Now.UTC().Truncate(time.Millisecond),
		Headers: headers, Meta: meta, Tags: tags}
	if err := rq.commitObject(o, ctx); err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("ETag", `"`+o.ETag+`"`)
	h.Set("x-amz-server-side-encryption", "AES256")
	return rq.empty(http.StatusOK)
}

// checkPut authorizes s3:PutObject on the request's key in tx.
func (rq *request) checkPut(tx store.Tx, ctx policy.Context) (*Bucket, error) {
	b, err := getBucket(tx, rq.bucket)
	if err != nil {
		return nil, err
	}
	if err := rq.authorize(authzReq{action: "s3:PutObject", resource: objectARN(b.Name, rq.key), bucket: b, ctx: ctx}); err != nil {
		return nil, err
	}
	if _, err := rq.aclHeaders(false); err != nil {
		return nil, err
	}
	return b, nil
}

// commitObject stores o with the request's content: authorization first, before a
// byte of the body is read (a refused request costs its headers only), then the
// content streamed to a file and verified, durably, then the metadata in a write
// transaction that checks the bucket and the permission again. The replaced
// object's files are removed after the commit.
func (rq *request) commitObject(o *Object, ctx policy.Context) error {
	if err := rq.read(func(tx store.Tx) error { _, err := rq.checkPut(tx, ctx); return err }); err != nil {
		return err
	}
	name, size, etag, err := rq.upload()
	if err != nil {
		return err
	}
	o.Size, o.ETag = size, etag
	o.Segments = []Segment{{File: name, Size: size}}
	return rq.replaceObject(o, ctx, func(tx store.Tx) error { _, err := rq.checkPut(tx, ctx); return err })
}

// replaceObject commits o (whose files are written) after check passes in the write
// transaction; on failure o's files are removed, on success the replaced object's.
func (rq *request) replaceObject(o *Object, ctx policy.Context, check func(tx store.Tx) error) error {
	var old *Object
	err := rq.write(func(tx store.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		var err error
		if old, err = loadObject(tx, o.Bucket, o.Key); err != nil {
			return err
		}
		return tx.Put(kindObject, objectKey(o.Bucket, o.Key), o)
	})
	if err != nil {
		rq.blobs.remove(segmentFiles(o.Segments)...)
		return err
	}
	if old != nil {
		rq.blobs.remove(segmentFiles(old.Segments)...)
	}
	return nil
}

// missingObject answers a read of a key that does not exist: NoSuchKey to a caller
// who may list the bucket, AccessDenied (for s3:ListBucket) to others, as S3 does.
func (rq *request) missingObject(b *Bucket) error {
	if err := rq.authorize(authzReq{action: "s3:ListBucket", resource: bucketARN(b.Name), bucket: b}); err != nil {
		return err
	}
	return noSuchKey()
}

// getObject serves GetObject and HeadObject.
func getObject(rq *request) error {
	head := rq.r.Method == http.MethodHead
	if !head && rq.c.Identity == nil {
		for k := range rq.q {
			if strings.HasPrefix(k, "response-") {
				return wire.Errorf(http.StatusBadRequest, "InvalidRequest", "Request specific response headers cannot be used for anonymous GET requests.")
			}
		}
	}
	for attempt := 0; ; attempt++ {
		var o *Object
		err := rq.read(func(tx store.Tx) error {
			b, obj, err := rq.objectAccess(tx, "s3:GetObject", nil, true)
			if err != nil {
				return err
			}
			if obj == nil {
				return rq.missingObject(b)
			}
			o = obj
			return nil
		})
		if err != nil {
			return err
		}
		if head {
			return rq.serveObject(o, nil)
		}
		cont, err := rq.blobs.open(o.Segments)
		if errors.Is(err, errGone) {
			if attempt < 3 {
				continue // overwritten or deleted meanwhile: read the metadata again
			}
			return noSuchKey()
		}
		if err != nil {
			return err
		}
		defer cont.Close()
		return rq.serveObject(o, cont)
	}
}

func preconditionFailed() error {
	return wire.Errorf(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
}

// etagMatches reports whether an If-Match style list names the ETag.
func etagMatches(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.Trim(strings.TrimPrefix(t, "W/"), `"`) == etag {
			return true
		}
	}
	return false
}

// preconditions evaluates If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since (or their x-amz-copy-source-if-… forms with prefix) as S3 does.
// notModified is true when the answer is 304.
func preconditions(h http.Header, prefix string, o *Object) (notModified bool, err error) {
	get := func(k string) string { return h.Get(prefix + k) }
	lm := o.LastModified.Truncate(time.Second)
	ifMatch := get("If-Match")
	if ifMatch != "" && !etagMatches(ifMatch, o.ETag) {
		return false, preconditionFailed()
	}
	if v := get("If-Unmodified-Since"); v != "" && ifMatch == "" {
		if t, err := http.ParseTime(v); err == nil && lm.After(t) {
			return false, preconditionFailed()
		}
	}
	ifNone := get("If-None-Match")
	if ifNone != "" && etagMatches(ifNone, o.ETag) {
		return true, nil
	}
	if v := get("If-Modified-Since"); v != "" && ifNone == "" {
		if t, err := http.ParseTime(v); err == nil && !lm.After(t) {
			return true, nil
		}
	}
	return false, nil
}

func invalidRange() error {
	return wire.Errorf(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable")
}

// parseRange reads a Range header: bytes=a-b, bytes=a- or bytes=-n. A header S3
// cannot use (another unit, several ranges, bad syntax) is ignored: the whole object
// is served. A range that starts beyond the object is InvalidRange.
func parseRange(spec string, size int64) (start, n int64, partial bool, err error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(spec), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, size, false, nil
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	num := func(s string) (int64, bool) {
		if s == "" || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		v, err := strconv.ParseInt(s, 10, 64)
		return v, err == nil
	}
	if a == "" {
		suffix, ok := num(b)
		if !ok {
			return 0, size, false, nil
		}
		if suffix == 0 || size == 0 {
			return 0, 0, false, invalidRange()
		}
		suffix = min(suffix, size)
		return size - suffix, suffix, true, nil
	}
	first, ok := num(a)
	if !ok {
		return 0, size, false, nil
	}
	last := size - 1
	if b != "" {
		var ok bool
		if last, ok = num(b); !ok || last < first {
			return 0, size, false, nil
		}
	}
	if first >= size {
		return 0, 0, false, invalidRange()
	}
	last = min(last, size-1)
	return first, last - first + 1, true, nil
}

// responseOverrides are GetObject's response-* query parameters.
var responseOverrides = map[string]string{
	"response-content-type": "Content-Type", "response-content-language": "Content-Language",
	"response-expires": "Expires", "response-cache-control": "Cache-Control",
	"response-content-disposition": "Content-Disposition", "response-content-encoding": "Content-Encoding",
}

// serveObject writes an object (or its range, or one part) with its headers; cont
// is nil for HEAD.
func (rq *request) serveObject(o *Object, cont *content) error {
	h := rq.r.Header
	notModified, err := preconditions(h, "", o)
	if err != nil {
		return err
	}
	start, n, partial := int64(0), o.Size, false
	partsCount := 0
	if pn := rq.q.Get("partNumber"); pn != "" {
		num, err := strconv.Atoi(pn)
		if err != nil || num < 1 || num > maxParts {
			return wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
		}
		if h.Get("Range") != "" {
			return wire.Errorf(http.StatusBadRequest, "InvalidRequest", "Cannot specify both Range header and partNumber query parameter")
		}
		segs := o.Segments
		if o.Parts == 0 {
			segs = []Segment{{Size: o.Size}} // a simple upload is one part
		}
		if num > len(segs) {
			return invalidRange()
		}
		for _, s := range segs[:num-1] {
			start += s.Size
		}
		n, partial = segs[num-1].Size, o.Parts > 0
		partsCount = max(o.Parts, 1)
	} else if v := h.Get("Range"); v != "" {
		if start, n, partial, err = parseRange(v, o.Size); err != nil {
			return err
		}
	}
	out := rq.w.Header()
	for k, v := range o.Headers {
		out.Set(k, v)
	}
	for k, v := range o.Meta {
		out["x-amz-meta-"+k] = []string{v}
	}
	for q, k := range responseOverrides {
		if v := rq.q.Get(q); v != "" {
			out.Set(k, v)
		}
	}
	out.Set("ETag", `"`+o.ETag+`"`)
	out.Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	out.Set("Accept-Ranges", "bytes")
	out.Set("x-amz-server-side-encryption", "AES256")
	if len(o.Tags) > 0 {
		out.Set("x-amz-tagging-count", strconv.Itoa(len(o.Tags)))
	}
	if partsCount > 0 {
		out.Set("x-amz-mp-parts-count", strconv.Itoa(partsCount))
	}
	if notModified {
		out.Del("Content-Type")
		rq.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	out.Set("Content-Length", strconv.FormatInt(n, 10))
	status := http.StatusOK
	if partial {
		out.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(start+n-1, 10)+"/"+strconv.FormatInt(o.Size, 10))
		status = http.StatusPartialContent
	}
	rq.w.WriteHeader(status)
	if cont != nil && n > 0 {
		// The status is sent: a failure now can only cut the body short.
		cont.writeRange(rq.w, start, n)
	}
	return nil
}

func deleteObject(rq *request) error {
	var old *Object
	err := rq.write(func(tx store.Tx) error {
		b, err := getBucket(tx, rq.bucket)
		if err != nil {
			return err
		}
		if err := rq.authorize(authzReq{action: "s3:DeleteObject", resource: objectARN(b.Name, rq.key), bucket: b}); err != nil {
			return err
		}
		if old, err = loadObject(tx, b.Name, rq.key); err != nil || old == nil {
			return err
		}
		_, err = tx.Delete(kindObject, objectKey(b.Name, rq.key))
		return err
	})
	if err != nil {
		return err
	}
	if old != nil {
		rq.blobs.remove(segmentFiles(old.Segments)...)
	}
	return rq.empty(http.StatusNoContent)
}

type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool     `xml:"Quiet"`
	Objects []struct {
		Key       *string `xml:"Key"`
		VersionID string  `xml:"VersionId"`
	} `xml:"Object"`
}

type deletedXML struct {
	Key string `xml:"Key"`
}

type deleteErrorXML struct {
	Key     string `xml:"Key"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

type deleteResult struct {
	XMLName xml.Name         `xml:"DeleteResult"`
	Xmlns   string           `xml:"xmlns,attr"`
	Deleted []deletedXML     `xml:"Deleted"`
	Errors  []deleteErrorXML `xml:"Error"`
}

const maxDeleteObjects = 1000

// deleteObjects is DeleteObjects: each key is authorized as s3:DeleteObject on its
// own; a refused key is reported in the result, the others are deleted.
func deleteObjects(rq *request) error {
	data, err := rq.document(maxDocument, malformedXML)
	if err != nil {
		return err
	}
	var req deleteRequest
	if err := xml.Unmarshal(data, &req); err != nil || len(req.Objects) == 0 || len(req.Objects) > maxDeleteObjects {
		return malformedXML()
	}
	res := deleteResult{Xmlns: XMLNS}
	var files []string
	err = rq.write(func(tx store.Tx) error {
		res.Deleted, res.Errors, files = nil, nil, nil
		b, err := getBucket(tx, rq.bucket)
		if err != nil {
			return err
		}
		for _, obj := range req.Objects {
			if obj.Key == nil {
				return malformedXML()
			}
			key := *obj.Key
			fail := func(code, msg string) { res.Errors = append(res.Errors, deleteErrorXML{key, code, msg}) }
			switch {
			case key == "" || len(key) > maxKeyLength:
				fail("InvalidArgument", "Invalid key")
				continue
			case obj.VersionID != "" && obj.VersionID != "null":
				fail("NoSuchVersion", "The specified version does not exist.")
				continue
			}
			err := rq.authorize(authzReq{action: "s3:DeleteObject", resource: objectARN(b.Name, key), bucket: b})
			var den *service.Denied
			if errors.As(err, &den) {
				fail("AccessDenied", "Access Denied")
				continue
			}
			if err != nil {
				return err
			}
			old, err := loadObject(tx, b.Name, key)
			if err != nil {
				return err
			}
			if old != nil {
				if _, err := tx.Delete(kindObject, objectKey(b.Name, key)); err != nil {
					return err
				}
				files = append(files, segmentFiles(old.Segments)...)
			}
			if !req.Quiet {
				res.Deleted = append(res.Deleted, deletedXML{Key: key})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	rq.blobs.remove(files...)
	return rq.writeXML(http.StatusOK, &res)
}

type copyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

// copySource parses x-amz-copy-source: "[/]bucket/key[?versionId=…]", URL-encoded.
func copySource(v string) (bucket, key string, err error) {
	bad := wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	if i := strings.Index(v, "?"); i >= 0 {
		q, perr := url.ParseQuery(v[i+1:])
		if perr != nil {
			return "", "", bad
		}
		if vid, ok := q["versionId"]; ok && (len(vid) != 1 || vid[0] != "null") {
			return "", "", wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Invalid version id specified")
		}
		v = v[:i]
	}
	s, uerr := url.PathUnescape(strings.TrimPrefix(v, "/"))
	if uerr != nil {
		return "", "", bad
	}
	bucket, key, _ = strings.Cut(s, "/")
	if bucket == "" || key == "" {
		return "", "", bad
	}
	if len(key) > maxKeyLength {
		return "", "", wire.Errorf(http.StatusBadRequest, "KeyTooLongError", "Your key is too long")
	}
	return bucket, key, nil
}

func directive(h http.Header, name string) (string, error) {
	v := h.Get(name)
	switch v {
	case "":
		return "COPY", nil
	case "COPY", "REPLACE":
		return v, nil
	}
	if name == "X-Amz-Metadata-Directive" {
		return "", wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Unknown metadata directive.")
	}
	return "", wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Unknown tagging directive.")
}

// copyObject is CopyObject: s3:GetObject on the source and s3:PutObject on the
// destination. The copy's files are hard links to the source's.
func copyObject(rq *request) error {
	h := rq.r.Header
	srcBucket, srcKey, err := copySource(h.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	metaDir, err := directive(h, "X-Amz-Metadata-Directive")
	if err != nil {
		return err
	}
	tagDir, err := directive(h, "X-Amz-Tagging-Directive")
	if err != nil {
		return err
	}
	if srcBucket == rq.bucket && srcKey == rq.key && metaDir == "COPY" && h.Get("X-Amz-Storage-Class") == "" && h.Get("X-Amz-Server-Side-Encryption") == "" {
		return wire.Errorf(http.StatusBadRequest, "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	ctx := policy.Context{}
	rq.writeContext(ctx)
	ctx.Set("s3:x-amz-copy-source", h.Get("X-Amz-Copy-Source"))
	ctx.Set("s3:x-amz-metadata-directive", metaDir)
	var newTags []Tag
	if tagDir == "REPLACE" {
		if newTags, _, err = headerTags(h); err != nil {
			return err
		}
		requestTagContext(ctx, newTags)
	}
	var newHeaders, newMeta map[string]string
	if metaDir == "REPLACE" {
		if newHeaders, newMeta, err = objectHeaders(h); err != nil {
			return err
		}
	}
	// check authorizes both sides and returns the source as it is now.
	check := func(tx store.Tx) (*Object, error) {
		sb, err := getBucket(tx, srcBucket)
		if err != nil {
			return nil, err
		}
		src, err := loadObject(tx, srcBucket, srcKey)
		if err != nil {
			return nil, err
		}
		sctx := policy.Context{}
		existingTagContext(sctx, src)
		if err := rq.authorize(authzReq{action: "s3:GetObject", resource: objectARN(srcBucket, srcKey), bucket: sb, ctx: sctx}); err != nil {
			return nil, err
		}
		if src == nil {
			return nil, noSuchKey()
		}
		if _, err := rq.checkPut(tx, ctx); err != nil {
			return nil, err
		}
		return src, nil
	}
	for attempt := 0; ; attempt++ {
		var src *Object
		if err := rq.read(func(tx store.Tx) error { var err error; src, err = check(tx); return err }); err != nil {
			return err
		}
		if notModified, err := preconditions(h, "X-Amz-Copy-Source-", src); err != nil || notModified {
			return preconditionFailed() // a copy has no 304: every failed condition is 412
		}
		segs, err := rq.blobs.linkAll(src.Segments)
		if errors.Is(err, errGone) && attempt < 3 {
			continue
		}
		if errors.Is(err, errGone) {
			return noSuchKey()
		}
		if err != nil {
			return err
		}
		o := &Object{Bucket: rq.bucket, Key: rq.key, Size: src.Size, ETag: src.ETag, Segments: segs,
			LastModified: rq.c.Now.UTC().Truncate(time.Millisecond), Headers: src.Headers, Meta: src.Meta, Tags: src.Tags}
		if metaDir == "REPLACE" {
			o.Headers, o.Meta = newHeaders, newMeta
		}
		if tagDir == "REPLACE" {
			o.Tags = newTags
		}
		if src.Parts > 0 {
			// The copy is one part: its ETag is the MD5 of the content.
			if o.ETag, err = rq.contentMD5(segs); err != nil {
				rq.blobs.remove(segmentFiles(segs)...)
				return err
			}
		}
		err = rq.replaceObject(o, ctx, func(tx store.Tx) error { _, err := check(tx); return err })
		if err != nil {
			return err
		}
		return rq.writeXML(http.StatusOK, &copyObjectResult{Xmlns: XMLNS, LastModified: xmlTime(o.LastModified), ETag: `"` + o.ETag + `"`})
	}
}

// contentMD5 hashes an object's content from its files.
func (rq *request) contentMD5(segs []Segment) (string, error) {
	cont, err := rq.blobs.open(segs)
	if err != nil {
		return "", err
	}
	defer cont.Close()
	var size int64
	for _, s := range segs {
		size += s.Size
	}
	hs := md5.New()
	if err := cont.writeRange(hs, 0, size); err != nil {
		return "", err
	}
	return hex.EncodeToString(hs.Sum(nil)), nil
}
