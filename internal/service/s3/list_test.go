package s3_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/iamlocal/iamlocal/internal/store"
)

func keysOf(out *s3.ListObjectsV2Output) string {
	var ks []string
	for _, o := range out.Contents {
		ks = append(ks, aws.ToString(o.Key))
	}
	for _, p := range out.CommonPrefixes {
		ks = append(ks, "P:"+aws.ToString(p.Prefix))
	}
	return strings.Join(ks, ",")
}

func TestListObjectsV2(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "list")
	keys := []string{"a.txt", "docs/1.txt", "docs/2.txt", "docs/deep/3.txt", "img/x.png", "img/y.png", "z.txt"}
	for _, k := range keys {
		f.put(f.root, "list", k, k)
	}
	list := func(in *s3.ListObjectsV2Input) *s3.ListObjectsV2Output {
		t.Helper()
		in.Bucket = aws.String("list")
		return must[*s3.ListObjectsV2Output](t)(f.root.ListObjectsV2(ctx, in))
	}
	out := list(&s3.ListObjectsV2Input{})
	if keysOf(out) != strings.Join(keys, ",") || aws.ToInt32(out.KeyCount) != 7 || aws.ToBool(out.IsTruncated) {
		t.Fatalf("all: %s", keysOf(out))
	}
	if o := out.Contents[0]; aws.ToInt64(o.Size) != 5 || aws.ToString(o.ETag) != `"`+md5hex("a.txt")+`"` || o.StorageClass != types.ObjectStorageClassStandard || o.LastModified == nil {
		t.Fatalf("entry: %+v", o)
	}
	if got := keysOf(list(&s3.ListObjectsV2Input{Delimiter: aws.String("/")})); got != "a.txt,z.txt,P:docs/,P:img/" {
		t.Fatalf("delimiter: %s", got)
	}
	if got := keysOf(list(&s3.ListObjectsV2Input{Prefix: aws.String("docs/"), Delimiter: aws.String("/")})); got != "docs/1.txt,docs/2.txt,P:docs/deep/" {
		t.Fatalf("prefix and delimiter: %s", got)
	}
	if got := keysOf(list(&s3.ListObjectsV2Input{StartAfter: aws.String("docs/2.txt")})); got != "docs/deep/3.txt,img/x.png,img/y.png,z.txt" {
		t.Fatalf("start-after: %s", got)
	}
	if got := keysOf(list(&s3.ListObjectsV2Input{Prefix: aws.String("nothing/")})); got != "" {
		t.Fatalf("no match: %s", got)
	}
	// Paging with a delimiter: a common prefix counts as one key and is not repeated.
	var pages []string
	in := &s3.ListObjectsV2Input{Bucket: aws.String("list"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)}
	p := s3.NewListObjectsV2Paginator(f.root, in)
	for p.HasMorePages() {
		page := must[*s3.ListObjectsV2Output](t)(p.NextPage(ctx))
		pages = append(pages, keysOf(page))
	}
	if got := strings.Join(pages, "|"); got != "a.txt|P:docs/|P:img/|z.txt" {
		t.Fatalf("pages: %s", got)
	}
	// Paging without one.
	pages = nil
	p = s3.NewListObjectsV2Paginator(f.root, &s3.ListObjectsV2Input{Bucket: aws.String("list"), MaxKeys: aws.Int32(3)})
	for p.HasMorePages() {
		page := must[*s3.ListObjectsV2Output](t)(p.NextPage(ctx))
		if aws.ToInt32(page.MaxKeys) != 3 {
			t.Fatalf("MaxKeys %d", aws.ToInt32(page.MaxKeys))
		}
		pages = append(pages, keysOf(page))
	}
	if got := strings.Join(pages, "|"); got != "a.txt,docs/1.txt,docs/2.txt|docs/deep/3.txt,img/x.png,img/y.png|z.txt" {
		t.Fatalf("pages: %s", got)
	}
	if out := list(&s3.ListObjectsV2Input{MaxKeys: aws.Int32(0)}); len(out.Contents) != 0 || aws.ToBool(out.IsTruncated) {
		t.Fatalf("max-keys 0: %+v", out)
	}
	// encoding-type=url, as the AWS CLI asks.
	f.put(f.root, "list", "sp ace/ü", "x")
	out = list(&s3.ListObjectsV2Input{Prefix: aws.String("sp"), EncodingType: types.EncodingTypeUrl, Delimiter: aws.String("/")})
	if len(out.CommonPrefixes) != 1 {
		t.Fatalf("encoded: %s", keysOf(out))
	}
	if dec, _ := url.QueryUnescape(aws.ToString(out.CommonPrefixes[0].Prefix)); dec != "sp ace/" {
		t.Fatalf("encoded prefix: %q", aws.ToString(out.CommonPrefixes[0].Prefix))
	}
	// ListObjects (version 1) with a marker.
	v1 := must[*s3.ListObjectsOutput](t)(f.root.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("list"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)}))
	if len(v1.Contents) != 1 || len(v1.CommonPrefixes) != 1 || !aws.ToBool(v1.IsTruncated) || aws.ToString(v1.NextMarker) != "docs/" {
		t.Fatalf("v1: %+v", v1)
	}
	v1 = must[*s3.ListObjectsOutput](t)(f.root.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("list"), Delimiter: aws.String("/"), Marker: v1.NextMarker}))
	if len(v1.CommonPrefixes) != 2 || aws.ToString(v1.CommonPrefixes[0].Prefix) != "img/" {
		t.Fatalf("v1 after the marker: %+v", v1.CommonPrefixes)
	}
}

func TestListManyKeys(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "many")
	const n = 2100
	// Empty objects written straight into the store, in one transaction: a PutObject
	// each would spend the test's time in fsync.
	err := f.s.Env.Store.Write(ctx, func(tx store.Tx) error {
		for i := range n {
			key := fmt.Sprintf("k/%05d", i)
			if err := tx.Put("s3object", "many/"+key, map[string]any{"Bucket": "many", "Key": key, "ETag": md5hex("")}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total, pages := 0, 0
	p := s3.NewListObjectsV2Paginator(f.root, &s3.ListObjectsV2Input{Bucket: aws.String("many")})
	for p.HasMorePages() {
		page := must[*s3.ListObjectsV2Output](t)(p.NextPage(ctx))
		total += len(page.Contents)
		pages++
	}
	if total != n || pages != 3 {
		t.Fatalf("%d keys in %d pages", total, pages)
	}
	if got, err := get(f.root, "many", "k/02099"); err != nil || got != "" {
		t.Fatalf("an empty object: %q %v", got, err)
	}
}
