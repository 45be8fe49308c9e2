package s3

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

const (
	maxListKeys = 1000
	// afterAll sorts after every key that starts with a prefix: the greatest code point.
	afterAll = "\U0010FFFF"
)

type listEntry struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
	Owner        *owner `xml:"Owner,omitempty"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

type listBucketResult struct {
	XMLName               xml.Name       `xml:"ListBucketResult"`
	Xmlns                 string         `xml:"xmlns,attr"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Marker                *string        `xml:"Marker"`
	NextMarker            string         `xml:"NextMarker,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	KeyCount              *int           `xml:"KeyCount"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	Contents              []listEntry    `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

// listing is one page of a bucket's keys.
type listing struct {
	objects   []Object
	prefixes  []string
	truncated bool
	next      string // where the next page starts: keys after it
	last      string // the last key or common prefix of the page
}

// listKeys lists up to max keys of a bucket that start with prefix and sort after
// `after`, rolling keys that contain delim after the prefix into common prefixes. A
// common prefix counts as one key; the scan skips the keys it covers.
func listKeys(tx store.Tx, bucket, prefix, delim, after string, max int) (*listing, error) {
	l := &listing{}
	if max == 0 {
		return l, nil
	}
	base := bucket + "/"
	pos := after
	for {
		restart := ""
		scanAfter := ""
		if pos != "" {
			scanAfter = base + pos
		}
		err := tx.Scan(kindObject, base+prefix, scanAfter, 0, func(k string, data []byte) (bool, error) {
			key := strings.TrimPrefix(k, base)
			count := len(l.objects) + len(l.prefixes)
			if delim != "" {
				if i := strings.Index(key[len(prefix):], delim); i >= 0 {
					if count == max {
						l.truncated = true
						return false, nil
					}
					cp := key[:len(prefix)+i+len(delim)]
					l.prefixes = append(l.prefixes, cp)
					l.last, l.next = cp, cp+afterAll
					restart = l.next
					return false, nil
				}
			}
			if count == max {
				l.truncated = true
				return false, nil
			}
			var o Object
			if err := json.Unmarshal(data, &o); err != nil {
				return false, err
			}
			l.objects = append(l.objects, o)
			l.last, l.next = key, key
			return true, nil
		})
		if err != nil {
			return nil, err
		}
		if restart == "" || l.truncated {
			return l, nil
		}
		pos = restart
	}
}

// listParams reads and checks what ListObjects and ListObjectsV2 share.
func (rq *request) listParams() (prefix, delim string, max int, encode func(string) string, ctx policy.Context, err error) {
	q := rq.q
	prefix, delim, max = q.Get("prefix"), q.Get("delimiter"), maxListKeys
	ctx = policy.Context{}
	if _, ok := q["prefix"]; ok {
		ctx.Set("s3:prefix", prefix)
	}
	if _, ok := q["delimiter"]; ok {
		ctx.Set("s3:delimiter", delim)
	}
	if v, ok := q["max-keys"]; ok {
		n, perr := strconv.ParseInt(v[0], 10, 32)
		if perr != nil {
			return "", "", 0, nil, nil, wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Provided max-keys not an integer or within integer range")
		}
		if n < 0 {
			return "", "", 0, nil, nil, wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Argument maxKeys must be an integer between 0 and 2147483647")
		}
		max = int(min(n, maxListKeys))
		ctx.Set("s3:max-keys", v[0])
	}
	encode = func(s string) string { return s }
	switch et := q.Get("encoding-type"); et {
	case "":
	case "url":
		encode = url.QueryEscape
	default:
		return "", "", 0, nil, nil, wire.Errorf(http.StatusBadRequest, "InvalidArgument", "Invalid Encoding Method specified in Request")
	}
	return prefix, delim, max, encode, ctx, nil
}

func (rq *request) entries(l *listing, encode func(string) string, withOwner bool, account string) ([]listEntry, []commonPrefix) {
	var contents []listEntry
	for _, o := range l.objects {
		e := listEntry{Key: encode(o.Key), LastModified: xmlTime(o.LastModified), ETag: `"` + o.ETag + `"`, Size: o.Size, StorageClass: "STANDARD"}
		if withOwner {
			ow := ownerOf(account)
			e.Owner = &ow
		}
		contents = append(contents, e)
	}
	var prefixes []commonPrefix
	for _, p := range l.prefixes {
		prefixes = append(prefixes, commonPrefix{Prefix: encode(p)})
	}
	return contents, prefixes
}

const tokenPrefix = "iamlocal1:"

func listObjectsV2(rq *request) error {
	prefix, delim, max, encode, ctx, err := rq.listParams()
	if err != nil {
		return err
	}
	after := rq.q.Get("start-after")
	token, hasToken := rq.q["continuation-token"]
	if hasToken {
		b, derr := base64.RawURLEncoding.DecodeString(token[0])
		pos, ok := strings.CutPrefix(string(b), tokenPrefix)
		if derr != nil || !ok || token[0] == "" {
			return wire.Errorf(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
		}
		after = max2(after, pos)
	}
	var l *listing
	b, err := rq.bucketRead("s3:ListBucket", ctx, func(tx store.Tx, b *Bucket) error {
		var err error
		l, err = listKeys(tx, b.Name, prefix, delim, after, max)
		return err
	})
	if err != nil {
		return err
	}
	n := len(l.objects) + len(l.prefixes)
	res := listBucketResult{Xmlns: XMLNS, Name: b.Name, Prefix: encode(prefix), KeyCount: &n, MaxKeys: max,
		Delimiter: encode(delim), IsTruncated: l.truncated, StartAfter: encode(rq.q.Get("start-after"))}
	if hasToken {
		res.ContinuationToken = token[0]
	}
	if rq.q.Get("encoding-type") == "url" {
		res.EncodingType = "url"
	}
	if l.truncated {
		res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + l.next))
	}
	res.Contents, res.CommonPrefixes = rq.entries(l, encode, rq.q.Get("fetch-owner") == "true", b.Account)
	return rq.writeXML(http.StatusOK, &res)
}

// max2 is the later of two listing positions.
func max2(a, b string) string {
	if a > b {
		return a
	}
	return b
}

func listObjectsV1(rq *request) error {
	prefix, delim, max, encode, ctx, err := rq.listParams()
	if err != nil {
		return err
	}
	marker := rq.q.Get("marker")
	after := marker
	if delim != "" && strings.HasPrefix(marker, prefix) && strings.HasSuffix(marker, delim) &&
		strings.Index(marker[len(prefix):], delim) == len(marker)-len(prefix)-len(delim) {
		after = marker + afterAll // the marker is a common prefix: skip the keys it rolled up
	}
	var l *listing
	b, err := rq.bucketRead("s3:ListBucket", ctx, func(tx store.Tx, b *Bucket) error {
		var err error
		l, err = listKeys(tx, b.Name, prefix, delim, after, max)
		return err
	})
	if err != nil {
		return err
	}
	m := encode(marker)
	res := listBucketResult{Xmlns: XMLNS, Name: b.Name, Prefix: encode(prefix), Marker: &m, MaxKeys: max,
		Delimiter: encode(delim), IsTruncated: l.truncated}
	if rq.q.Get("encoding-type") == "url" {
		res.EncodingType = "url"
	}
	if l.truncated && delim != "" {
		res.NextMarker = encode(l.last)
	}
	res.Contents, res.CommonPrefixes = rq.entries(l, encode, true, b.Account)
	return rq.writeXML(http.StatusOK, &res)
}
