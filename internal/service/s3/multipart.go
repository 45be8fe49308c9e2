package s3

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

const (
	maxParts    = 10000
	minPartSize = 5 << 20 // every part but the last
)

func newUploadID() string {
	b := make([]byte, 36)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func partKey(uploadID string, n int) string { return fmt.Sprintf("%s/%05d", uploadID, n) }

func noSuchUpload() error {
	return wire.Errorf(http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
}

// getUpload reads an upload of the request's bucket and key.
func (rq *request) getUpload(tx store.Tx, id string) (*Upload, error) {
	var u Upload
	if id == "" || strings.Contains(id, "/") {
		return nil, noSuchUpload()
	}
	if err := tx.Get(kindUpload, rq.bucket+"/"+id, &u); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, noSuchUpload()
		}
		return nil, err
	}
	if u.Key != rq.key {
		return nil, noSuchUpload()
	}
	return &u, nil
}

// uploadParts reads an upload's parts in part-number order.
func uploadParts(tx store.Tx, id string) ([]Part, error) {
	var parts []Part
	err := tx.Scan(kindPart, id+"/", "", 0, func(_ string, data []byte) (bool, error) {
		var p Part
		if err := json.Unmarshal(data, &p); err != nil {
			return false, err
		}
		parts = append(parts, p)
		return true, nil
	})
	return parts, err
}

// dropUpload deletes an upload and its parts and returns the parts' files, for
// removal after the commit.
func dropUpload(tx store.Tx, uploadKey, id string) ([]string, error) {
	parts, err := uploadParts(tx, id)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, p := range parts {
		if _, err := tx.Delete(kindPart, partKey(id, p.Number)); err != nil {
			return nil, err
		}
		files = append(files, p.File)
	}
	_, err = tx.Delete(kindUpload, uploadKey)
	return files, err
}

type initiateResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

func createMultipartUpload(rq *request) error {
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
	u := Upload{ID: newUploadID(), Bucket: rq.bucket, Key: rq.key, Initiated: rq.c.Now.UTC().Truncate(time.Millisecond),
		Account: rq.c.Account(), Initiator: "anonymous", Headers: headers, Meta: meta, Tags: tags}
	if id := rq.c.Identity; id != nil {
		u.Initiator = id.Caller.Arn
	}
	err = rq.write(func(tx store.Tx) error {
		if _, err := rq.checkPut(tx, ctx); err != nil {
			return err
		}
		return tx.Put(kindUpload, u.Bucket+"/"+u.ID, &u)
	})
	if err != nil {
		return err
	}
	return rq.writeXML(http.StatusOK, &initiateResult{Xmlns: XMLNS, Bucket: u.Bucket, Key: u.Key, UploadID: u.ID})
}

func partNumber(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxParts {
		return 0, wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
	}
	return n, nil
}

// uploadPart stores one part (s3:PutObject); a part uploaded again replaces the old.
func uploadPart(rq *request) error {
	n, err := partNumber(rq.q.Get("partNumber"))
	if err != nil {
		return err
	}
	id := rq.q.Get("uploadId")
	check := func(tx store.Tx) error {
		if _, err := rq.checkPut(tx, nil); err != nil {
			return err
		}
		_, err := rq.getUpload(tx, id)
		return err
	}
	// Authorized before the body is read: a refused part costs its headers only.
	if err := rq.read(check); err != nil {
		return err
	}
	name, size, etag, err := rq.upload()
	if err != nil {
		return err
	}
	p := Part{Number: n, ETag: etag, Size: size, File: name, LastModified: rq.c.Now.UTC().Truncate(time.Millisecond)}
	var old Part
	replaced := false
	err = rq.write(func(tx store.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		switch err := tx.Get(kindPart, partKey(id, n), &old); {
		case err == nil:
			replaced = true
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		return tx.Put(kindPart, partKey(id, n), &p)
	})
	if err != nil {
		rq.blobs.remove(name)
		return err
	}
	if replaced {
		rq.blobs.remove(old.File)
	}
	rq.w.Header().Set("ETag", `"`+p.ETag+`"`)
	rq.w.Header().Set("x-amz-server-side-encryption", "AES256")
	return rq.empty(http.StatusOK)
}

type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber *int   `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	} `xml:"Part"`
}

type completeResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

// multipartETag is S3's ETag of a multipart object: the MD5 of the parts' binary
// MD5s, a dash and the number of parts.
func multipartETag(etags []string) (string, error) {
	h := md5.New()
	for _, e := range etags {
		b, err := hex.DecodeString(e)
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(etags)), nil
}

// completeMultipartUpload assembles the object from the listed parts: their files
// become the object's segments, in order, without copying.
func completeMultipartUpload(rq *request) error {
	id := rq.q.Get("uploadId")
	data, err := rq.document(maxDocument, malformedXML)
	if err != nil {
		return err
	}
	var req completeRequest
	if err := xml.Unmarshal(data, &req); err != nil || len(req.Parts) == 0 || len(req.Parts) > maxParts {
		return malformedXML()
	}
	for i, p := range req.Parts {
		if p.PartNumber == nil {
			return malformedXML()
		}
		if i > 0 && *p.PartNumber <= *req.Parts[i-1].PartNumber {
			return wire.Errorf(http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.")
		}
	}
	var o *Object
	var garbage []string
	err = rq.write(func(tx store.Tx) error {
		garbage = nil
		if _, err := rq.checkPut(tx, nil); err != nil {
			return err
		}
		u, err := rq.getUpload(tx, id)
		if err != nil {
			return err
		}
		parts, err := uploadParts(tx, id)
		if err != nil {
			return err
		}
		byNumber := map[int]Part{}
		for _, p := range parts {
			byNumber[p.Number] = p
		}
		o = &Object{Bucket: u.Bucket, Key: u.Key, LastModified: rq.c.Now.UTC().Truncate(time.Millisecond),
			Headers: u.Headers, Meta: u.Meta, Tags: u.Tags, Parts: len(req.Parts)}
		etags := make([]string, 0, len(req.Parts))
		used := map[int]bool{}
		for i, rp := range req.Parts {
			p, ok := byNumber[*rp.PartNumber]
			if !ok || strings.Trim(strings.TrimSpace(rp.ETag), `"`) != p.ETag {
				return wire.Errorf(http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
			}
			if i < len(req.Parts)-1 && p.Size < minPartSize {
				return wire.Errorf(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
			}
			used[p.Number] = true
			etags = append(etags, p.ETag)
			o.Segments = append(o.Segments, Segment{File: p.File, Size: p.Size})
			o.Size += p.Size
		}
		if o.ETag, err = multipartETag(etags); err != nil {
			return err
		}
		for _, p := range parts {
			if !used[p.Number] {
				garbage = append(garbage, p.File)
			}
			if _, err := tx.Delete(kindPart, partKey(id, p.Number)); err != nil {
				return err
			}
		}
		if _, err := tx.Delete(kindUpload, u.Bucket+"/"+id); err != nil {
			return err
		}
		old, err := loadObject(tx, o.Bucket, o.Key)
		if err != nil {
			return err
		}
		if old != nil {
			garbage = append(garbage, segmentFiles(old.Segments)...)
		}
		return tx.Put(kindObject, objectKey(o.Bucket, o.Key), o)
	})
	if err != nil {
		return err
	}
	rq.blobs.remove(garbage...)
	loc := (&url.URL{Scheme: "http", Host: rq.r.Host, Path: "/" + o.Bucket + "/" + o.Key}).String()
	if rq.c.Secure {
		loc = "https" + strings.TrimPrefix(loc, "http")
	}
	rq.w.Header().Set("x-amz-server-side-encryption", "AES256")
	return rq.writeXML(http.StatusOK, &completeResult{Xmlns: XMLNS, Location: loc, Bucket: o.Bucket, Key: o.Key, ETag: `"` + o.ETag + `"`})
}

func abortMultipartUpload(rq *request) error {
	id := rq.q.Get("uploadId")
	var files []string
	err := rq.write(func(tx store.Tx) error {
		b, err := getBucket(tx, rq.bucket)
		if err != nil {
			return err
		}
		if err := rq.authorize(authzReq{action: "s3:AbortMultipartUpload", resource: objectARN(b.Name, rq.key), bucket: b}); err != nil {
			return err
		}
		if _, err := rq.getUpload(tx, id); err != nil {
			return err
		}
		files, err = dropUpload(tx, b.Name+"/"+id, id)
		return err
	})
	if err != nil {
		return err
	}
	rq.blobs.remove(files...)
	return rq.empty(http.StatusNoContent)
}

type partXML struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
}

type listPartsResult struct {
	XMLName              xml.Name  `xml:"ListPartsResult"`
	Xmlns                string    `xml:"xmlns,attr"`
	Bucket               string    `xml:"Bucket"`
	Key                  string    `xml:"Key"`
	UploadID             string    `xml:"UploadId"`
	Initiator            owner     `xml:"Initiator"`
	Owner                owner     `xml:"Owner"`
	StorageClass         string    `xml:"StorageClass"`
	PartNumberMarker     int       `xml:"PartNumberMarker"`
	NextPartNumberMarker int       `xml:"NextPartNumberMarker"`
	MaxParts             int       `xml:"MaxParts"`
	IsTruncated          bool      `xml:"IsTruncated"`
	Parts                []partXML `xml:"Part"`
}

func listParts(rq *request) error {
	id := rq.q.Get("uploadId")
	marker, maxN := 0, 1000
	if v := rq.q.Get("part-number-marker"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Provided part-number-marker not an integer or within integer range")
		}
		marker = n
	}
	if v := rq.q.Get("max-parts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Provided max-parts not an integer or within integer range")
		}
		maxN = min(n, 1000)
	}
	res := listPartsResult{Xmlns: XMLNS, Bucket: rq.bucket, Key: rq.key, UploadID: id, StorageClass: "STANDARD",
		PartNumberMarker: marker, MaxParts: maxN}
	err := rq.read(func(tx store.Tx) error {
		b, err := getBucket(tx, rq.bucket)
		if err != nil {
			return err
		}
		if err := rq.authorize(authzReq{action: "s3:ListMultipartUploadParts", resource: objectARN(b.Name, rq.key), bucket: b}); err != nil {
			return err
		}
		u, err := rq.getUpload(tx, id)
		if err != nil {
			return err
		}
		res.Initiator = owner{ID: u.Initiator, DisplayName: u.Initiator}
		res.Owner = ownerOf(b.Account)
		parts, err := uploadParts(tx, id)
		if err != nil {
			return err
		}
		for _, p := range parts {
			if p.Number <= marker {
				continue
			}
			if len(res.Parts) == maxN {
				res.IsTruncated = true
				break
			}
			res.Parts = append(res.Parts, partXML{PartNumber: p.Number, LastModified: xmlTime(p.LastModified), ETag: `"` + p.ETag + `"`, Size: p.Size})
			res.NextPartNumberMarker = p.Number
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rq.writeXML(http.StatusOK, &res)
}

type uploadXML struct {
	Key          string `xml:"Key"`
	UploadID     string `xml:"UploadId"`
	Initiator    owner  `xml:"Initiator"`
	Owner        owner  `xml:"Owner"`
	StorageClass string `xml:"StorageClass"`
	Initiated    string `xml:"Initiated"`
}

type listUploadsResult struct {
	XMLName            xml.Name    `xml:"ListMultipartUploadsResult"`
	Xmlns              string      `xml:"xmlns,attr"`
	Bucket             string      `xml:"Bucket"`
	KeyMarker          string      `xml:"KeyMarker"`
	UploadIDMarker     string      `xml:"UploadIdMarker"`
	NextKeyMarker      string      `xml:"NextKeyMarker,omitempty"`
	NextUploadIDMarker string      `xml:"NextUploadIdMarker,omitempty"`
	Prefix             string      `xml:"Prefix,omitempty"`
	MaxUploads         int         `xml:"MaxUploads"`
	IsTruncated        bool        `xml:"IsTruncated"`
	Uploads            []uploadXML `xml:"Upload"`
}

// listMultipartUploads lists a bucket's uploads in progress by key and upload id
// (without delimiter grouping).
func listMultipartUploads(rq *request) error {
	q := rq.q
	maxN := 1000
	if v := q.Get("max-uploads"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Provided max-uploads not an integer or within integer range")
		}
		maxN = min(n, 1000)
	}
	prefix, keyMarker, idMarker := q.Get("prefix"), q.Get("key-marker"), q.Get("upload-id-marker")
	ctx := policy.Context{}
	if _, ok := q["prefix"]; ok {
		ctx.Set("s3:prefix", prefix)
	}
	res := listUploadsResult{Xmlns: XMLNS, Bucket: rq.bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker, Prefix: prefix, MaxUploads: maxN}
	var uploads []Upload
	b, err := rq.bucketRead("s3:ListBucketMultipartUploads", ctx, func(tx store.Tx, b *Bucket) error {
		return tx.Scan(kindUpload, b.Name+"/", "", 0, func(_ string, data []byte) (bool, error) {
			var u Upload
			if err := json.Unmarshal(data, &u); err != nil {
				return false, err
			}
			if strings.HasPrefix(u.Key, prefix) {
				uploads = append(uploads, u)
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	sort.Slice(uploads, func(i, j int) bool {
		if uploads[i].Key != uploads[j].Key {
			return uploads[i].Key < uploads[j].Key
		}
		return uploads[i].ID < uploads[j].ID
	})
	pastMarker := keyMarker == ""
	for _, u := range uploads {
		if !pastMarker {
			// After key-marker: later keys, or the same key after upload-id-marker.
			if u.Key < keyMarker || (u.Key == keyMarker && (idMarker == "" || u.ID <= idMarker)) {
				continue
			}
			pastMarker = true
		}
		if len(res.Uploads) == maxN {
			res.IsTruncated = true
			break
		}
		ini := owner{ID: u.Initiator, DisplayName: u.Initiator}
		res.Uploads = append(res.Uploads, uploadXML{Key: u.Key, UploadID: u.ID, Initiator: ini, Owner: ownerOf(b.Account),
			StorageClass: "STANDARD", Initiated: xmlTime(u.Initiated)})
		res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.ID
	}
	if !res.IsTruncated {
		res.NextKeyMarker, res.NextUploadIDMarker = "", ""
	}
	return rq.writeXML(http.StatusOK, &res)
}
