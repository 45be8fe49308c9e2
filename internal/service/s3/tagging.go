package s3

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

const (
	maxObjectTags = 10
	maxBucketTags = 50
)

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type tagSetXML struct {
	Tag []tagXML `xml:"Tag"`
}

type taggingXML struct {
	XMLName xml.Name   `xml:"Tagging"`
	Xmlns   string     `xml:"xmlns,attr,omitempty"`
	TagSet  *tagSetXML `xml:"TagSet"`
}

func taggingDoc(tags []Tag) *taggingXML {
	doc := &taggingXML{Xmlns: XMLNS, TagSet: &tagSetXML{Tag: []tagXML{}}}
	for _, t := range tags {
		doc.TagSet.Tag = append(doc.TagSet.Tag, tagXML(t))
	}
	return doc
}

func invalidTag(format string, args ...any) error {
	return wire.Errorf(http.StatusBadRequest, "InvalidTag", format, args...)
}

// parseTagging reads a Tagging document.
func parseTagging(body []byte, max int, bucket bool) ([]Tag, error) {
	var doc taggingXML
	if err := xml.Unmarshal(body, &doc); err != nil || doc.TagSet == nil {
		return nil, malformedXML()
	}
	tags := make([]Tag, 0, len(doc.TagSet.Tag))
	for _, t := range doc.TagSet.Tag {
		tags = append(tags, Tag(t))
	}
	return tags, validateTags(tags, max, bucket)
}

func validTagText(s string) bool {
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsSpace(r) || strings.ContainsRune("+-=._:/@", r)) {
			return false
		}
	}
	return true
}

// validateTags applies S3's tag rules.
func validateTags(tags []Tag, max int, bucket bool) error {
	if len(tags) > max {
		if bucket {
			return invalidTag("Bucket tag count cannot be greater than %d", max)
		}
		return wire.Errorf(http.StatusBadRequest, "BadRequest", "Object tags cannot be greater than %d", max)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		switch n := utf8.RuneCountInString(t.Key); {
		case n > 128:
			return invalidTag("The TagKey you have provided is too long, max 128")
		case n == 0 || !validTagText(t.Key):
			return invalidTag("The TagKey you have provided is invalid")
		case utf8.RuneCountInString(t.Value) > 256:
			return invalidTag("The TagValue you have provided is too long, max 256")
		case !validTagText(t.Value):
			return invalidTag("The TagValue you have provided is invalid")
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return invalidTag("Your TagKey cannot be prefixed with aws:")
		case seen[t.Key]:
			return invalidTag("Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}

// headerTags reads x-amz-tagging: URL query syntax, "k1=v1&k2=v2".
func headerTags(h http.Header) ([]Tag, bool, error) {
	v, ok := h["X-Amz-Tagging"]
	if !ok {
		return nil, false, nil
	}
	bad := wire.Errorf(http.StatusBadRequest, "InvalidArgument", "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	var tags []Tag
	seen := map[string]bool{}
	for _, pair := range strings.Split(strings.Join(v, "&"), "&") {
		if pair == "" {
			continue
		}
		k, val, _ := strings.Cut(pair, "=")
		ku, err1 := url.QueryUnescape(k)
		vu, err2 := url.QueryUnescape(val)
		if err1 != nil || err2 != nil || seen[ku] || !utf8.ValidString(ku) || !utf8.ValidString(vu) {
			return nil, true, bad
		}
		seen[ku] = true
		tags = append(tags, Tag{ku, vu})
	}
	return tags, true, validateTags(tags, maxObjectTags, false)
}

// requestTagContext adds s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys.
func requestTagContext(ctx policy.Context, tags []Tag) {
	keys := make([]string, len(tags))
	for i, t := range tags {
		ctx.Set("s3:RequestObjectTag/"+t.Key, t.Value)
		keys[i] = t.Key
	}
	ctx.Set("s3:RequestObjectTagKeys", keys...)
}

// existingTagContext adds s3:ExistingObjectTag/<key> for an object's tags.
func existingTagContext(ctx policy.Context, o *Object) {
	if o == nil {
		return
	}
	for _, t := range o.Tags {
		ctx.Set("s3:ExistingObjectTag/"+t.Key, t.Value)
	}
}

// objectAccess reads the bucket and the object (nil when missing) and authorizes
// action on the object, with its tags as s3:ExistingObjectTag keys when existing.
// In a read transaction the bucket and object come from the plane's caches and are
// shared (not to be modified); in a write transaction they are the caller's own.
func (rq *request) objectAccess(tx store.Tx, action string, ctx policy.Context, existing bool) (*Bucket, *Object, error) {
	b, err := rq.getBucket(tx, rq.bucket)
	if err != nil {
		return nil, nil, err
	}
	o, err := rq.loadObject(tx, b.Name, rq.key)
	if err != nil {
		return nil, nil, err
	}
	actx := make(policy.Context, len(ctx))
	for k, v := range ctx {
		actx[k] = v
	}
	if existing {
		existingTagContext(actx, o)
	}
	if err := rq.authorize(authzReq{action: action, resource: objectARN(b.Name, rq.key), bucket: b, ctx: actx}); err != nil {
		return nil, nil, err
	}
	return b, o, nil
}

func putObjectTagging(rq *request) error {
	body, err := rq.document(maxDocument, malformedXML)
	if err != nil {
		return err
	}
	tags, err := parseTagging(body, maxObjectTags, false)
	if err != nil {
		return err
	}
	ctx := policy.Context{}
	requestTagContext(ctx, tags)
	err = rq.write(func(tx store.Tx) error {
		_, o, err := rq.objectAccess(tx, "s3:PutObjectTagging", ctx, true)
		if err != nil {
			return err
		}
		if o == nil {
			return noSuchKey()
		}
		o.Tags = tags
		return tx.Put(kindObject, objectKey(o.Bucket, o.Key), o)
	})
	if err != nil {
		return err
	}
	return rq.empty(http.StatusOK)
}

func getObjectTagging(rq *request) error {
	var tags []Tag
	err := rq.read(func(tx store.Tx) error {
		_, o, err := rq.objectAccess(tx, "s3:GetObjectTagging", nil, true)
		if err != nil {
			return err
		}
		if o == nil {
			return noSuchKey()
		}
		tags = o.Tags
		return nil
	})
	if err != nil {
		return err
	}
	return rq.writeXML(http.StatusOK, taggingDoc(tags))
}

func deleteObjectTagging(rq *request) error {
	err := rq.write(func(tx store.Tx) error {
		_, o, err := rq.objectAccess(tx, "s3:DeleteObjectTagging", nil, true)
		if err != nil {
			return err
		}
		if o == nil {
			return noSuchKey()
		}
		if len(o.Tags) == 0 {
			return nil
		}
		o.Tags = nil
		return tx.Put(kindObject, objectKey(o.Bucket, o.Key), o)
	})
	if err != nil {
		return err
	}
	return rq.empty(http.StatusNoContent)
}
