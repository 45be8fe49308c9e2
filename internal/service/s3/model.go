package s3

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Object kinds in the store.
const (
	kindBucket = "s3bucket" // key: bucket name
	kindOwned  = "s3owned"  // key: "<account>/<bucket>"; ListBuckets' index of an account's buckets
	kindObject = "s3object" // key: "<bucket>/<object key>"
	kindUpload = "s3upload" // key: "<bucket>/<upload id>"
	kindPart   = "s3part"   // key: "<upload id>/<part number, five digits>"
)

// Tag is an object or bucket tag.
type Tag struct {
	Key   string
	Value string
}

// Bucket is an S3 bucket. Its owner is the account that created it.
type Bucket struct {
	Name    string
	Account string
	Region  string
	Created time.Time
	Policy  string `json:",omitempty"` // the bucket policy as written; "" when none
	Tags    []Tag  `json:",omitempty"`
}

// Object is an object's metadata. Its content lives in files under the data
// directory (see blobs.go): one file for a simple upload, one per part for a
// multipart upload.
type Object struct {
	Bucket       string
	Key          string
	Size         int64
	ETag         string // without quotes: the hex MD5, or "<hex>-<parts>" after a multipart upload
	LastModified time.Time
	// Headers are the stored representation headers: content-type, cache-control,
	// content-disposition, content-encoding, content-language, expires (lower case).
	Headers  map[string]string `json:",omitempty"`
	Meta     map[string]string `json:",omitempty"` // x-amz-meta-* without the prefix, names in lower case
	Tags     []Tag             `json:",omitempty"`
	Segments []Segment
	Parts    int `json:",omitempty"` // number of parts of a multipart object
}

// Segment is one file of an object's content, in order.
type Segment struct {
	File string // relative to the blob directory
	Size int64
}

// Upload is a multipart upload in progress.
type Upload struct {
	ID        string
	Bucket    string
	Key       string
	Initiated time.Time
	Initiator string            // ARN of the caller that created it
	Account   string            // the initiator's account ("" for anonymous)
	Headers   map[string]string `json:",omitempty"`
	Meta      map[string]string `json:",omitempty"`
	Tags      []Tag             `json:",omitempty"`
}

// Part is one uploaded part of a multipart upload.
type Part struct {
	Number       int
	ETag         string // hex MD5, without quotes
	Size         int64
	File         string
	LastModified time.Time
}

func objectKey(bucket, key string) string { return bucket + "/" + key }

// canonicalID is the account's S3 canonical user id: 64 hex characters, as AWS's are.
// iamlocal derives it from the account id.
func canonicalID(account string) string {
	sum := sha256.Sum256([]byte("iamlocal canonical user " + account))
	return hex.EncodeToString(sum[:])
}

func segmentFiles(segs []Segment) []string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = s.File
	}
	return out
}
