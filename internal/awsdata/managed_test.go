package awsdata

import (
	"encoding/json"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// Facts of AWS's managed policies (IAM console, AWS Managed Policy reference guide),
// checked against the generated catalogue.
func TestManagedPolicyFacts(t *testing.T) {
	p, ok := ManagedPolicy("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
	if !ok || p.Name != "AmazonS3ReadOnlyAccess" || p.Path != "/" || p.DefaultVersion != "v3" {
		t.Fatalf("AmazonS3ReadOnlyAccess = %+v %v", p, ok)
	}
	if want := time.Date(2015, 2, 6, 18, 40, 59, 0, time.UTC); !p.CreateDate.Equal(want) {
		t.Errorf("CreateDate %v, want %v", p.CreateDate, want)
	}
	if got := versionIDs(p); !slices.Equal(got, []string{"v1", "v2", "v3"}) {
		t.Errorf("versions %v", got)
	}
	if !strings.Contains(p.Document, `"s3:Get*"`) || strings.ContainsAny(p.Document, "\n ") {
		t.Errorf("default document not minified or not AWS's: %s", p.Document)
	}
	v1, ok := p.VersionDocument("v1")
	if !ok || v1 != `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}` {
		t.Errorf("v1 = %q %v", v1, ok)
	}
	if _, ok := p.VersionDocument("v9"); ok {
		t.Error("a version AWS never published has a document")
	}
	byName, _ := ManagedPolicy("AmazonS3ReadOnlyAccess")
	if byName != p {
		t.Error("lookup by name and by ARN differ")
	}
	lambda, ok := ManagedPolicy("AWSLambdaBasicExecutionRole")
	if !ok || lambda.Arn != "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" || lambda.Path != "/service-role/" {
		t.Errorf("AWSLambdaBasicExecutionRole = %+v", lambda)
	}
	if a, _ := ManagedPolicy("AdministratorAccess"); a == nil || a.Document != `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}` {
		t.Errorf("AdministratorAccess = %+v", a)
	}
	for _, miss := range []string{"administratoraccess", "arn:aws:iam::aws:policy/service-role/AdministratorAccess", "NoSuchPolicy", ""} {
		if _, ok := ManagedPolicy(miss); ok {
			t.Errorf("%q found", miss)
		}
	}
}

// Every policy is whole: ARN = prefix + path + name, a default version among its
// versions, versions in order, every document valid JSON; ids unique and IAM-shaped.
func TestManagedCatalogueConsistent(t *testing.T) {
	all := ManagedPolicies()
	if len(all) < 1500 {
		t.Fatalf("%d policies, want AWS's ~1,590", len(all))
	}
	if !slices.IsSortedFunc(all, func(a, b *Policy) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("not sorted by name")
	}
	ids, paths := map[string]bool{}, map[string]int{}
	for _, p := range all {
		paths[p.Path]++
		if p.Arn != ManagedArnPrefix+strings.TrimPrefix(p.Path, "/")+p.Name {
			t.Errorf("%s: ARN %s, path %s", p.Name, p.Arn, p.Path)
		}
		if len(p.ID) != 21 || !strings.HasPrefix(p.ID, "ANPA") || ids[p.ID] {
			t.Errorf("%s: id %q", p.Name, p.ID)
		}
		ids[p.ID] = true
		if _, ok := p.Version(p.DefaultVersion); !ok || !json.Valid([]byte(p.Document)) {
			t.Errorf("%s: default %s missing or invalid", p.Name, p.DefaultVersion)
		}
		if p.UpdateDate.Before(p.CreateDate) {
			t.Errorf("%s: updated before created", p.Name)
		}
	}
	for _, path := range []string{"/", "/service-role/", "/aws-service-role/", "/job-function/"} {
		if paths[path] == 0 {
			t.Errorf("no policy under %s", path)
		}
	}
	t.Logf("%d policies by path: %v", len(all), paths)
}

// Every version's document is in the archive (the generator compacted each with
// json.Compact, which refuses invalid JSON; the default versions are parsed by
// internal/directory's test).
func TestManagedOlderVersions(t *testing.T) {
	n := 0
	for _, p := range ManagedPolicies() {
		docs := p.Documents()
		for _, v := range p.Versions {
			doc, ok := docs[v.ID]
			if !ok || !strings.HasPrefix(doc, "{") {
				t.Fatalf("%s %s: %v", p.Name, v.ID, ok)
			}
			n++
		}
		if len(docs) != len(p.Versions) {
			t.Errorf("%s: %d documents for %d versions", p.Name, len(docs), len(p.Versions))
		}
	}
	t.Logf("%d versions", n)
}

func versionIDs(p *Policy) []string {
	var out []string
	for _, v := range p.Versions {
		out = append(out, v.ID)
	}
	return out
}

// The catalogue loads lazily, quickly and small (issue 14: start-up untouched, under
// 30 MB of heap once loaded).
func TestManagedLoadCost(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	c, err := decodeManaged()
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(c)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("decoded %d policies of %s in %v, %.1f MB of heap (embedded archive %.1f MB)",
		len(c.Policies), c.Package, took, float64(heap)/1e6, float64(len(managedZip))/1e6)
	if heap > 30<<20 {
		t.Errorf("the catalogue takes %.1f MB once loaded", float64(heap)/1e6)
	}
}

// BenchmarkManagedLoad decodes the catalogue as the first lookup does.
func BenchmarkManagedLoad(b *testing.B) {
	for b.Loop() {
		if _, err := decodeManaged(); err != nil {
			b.Fatal(err)
		}
	}
}
