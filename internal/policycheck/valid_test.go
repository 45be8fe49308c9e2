package policycheck

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/iamlocal/iamlocal/internal/awsdata"
	"github.com/iamlocal/iamlocal/internal/policy"
)

// corpusDoc is one policy document of a corpus, named by where it came from.
type corpusDoc struct {
	name string
	kind policy.Kind
	text []byte
}

// evalCorpusDocs gathers every policy document of testdata/eval, each with the kind
// its field gives it.
func evalCorpusDocs(t *testing.T) []corpusDoc {
	t.Helper()
	files, err := filepath.Glob("../../testdata/eval/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no eval corpus: %v", err)
	}
	var out []corpusDoc
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []struct {
			Name    string                     `json:"name"`
			Request map[string]json.RawMessage `json:"request"`
		}
		if err := json.Unmarshal(data, &cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cases {
			add := func(field string, kind policy.Kind, raw json.RawMessage) {
				if len(raw) == 0 || string(raw) == "null" {
					return
				}
				out = append(out, corpusDoc{fmt.Sprintf("%s/%s/%s", filepath.Base(f), c.Name, field), kind, raw})
			}
			list := func(field string, kind policy.Kind) {
				var docs []json.RawMessage
				json.Unmarshal(c.Request[field], &docs)
				for i, d := range docs {
					add(fmt.Sprintf("%s[%d]", field, i), kind, d)
				}
			}
			levels := func(field string, kind policy.Kind) {
				var lv [][]json.RawMessage
				json.Unmarshal(c.Request[field], &lv)
				for i, docs := range lv {
					for j, d := range docs {
						add(fmt.Sprintf("%s[%d][%d]", field, i, j), kind, d)
					}
				}
			}
			list("identityPolicies", policy.Identity)
			list("sessionPolicies", policy.Session)
			add("permissionsBoundary", policy.Boundary, c.Request["permissionsBoundary"])
			add("resourcePolicy", policy.Resource, c.Request["resourcePolicy"])
			add("endpointPolicy", policy.Endpoint, c.Request["endpointPolicy"])
			levels("scps", policy.SCP)
			levels("rcps", policy.RCP)
		}
	}
	return out
}

// The data checks report no ERROR for a document AWS publishes or documents as valid:
// the default version of every AWS managed policy of the catalogue (internal/awsdata)
// and every policy of the eval corpus, whose cases come from AWS's documentation. Findings of lower
// types are allowed (a resource no action of its statement applies to is a warning),
// and a few corpus documents are wrong on purpose, each named here with the reason.
func TestNoErrorsOnValidDocuments(t *testing.T) {
	var docs []corpusDoc
	for _, mp := range awsdata.ManagedPolicies() {
		docs = append(docs, corpusDoc{"managed/" + mp.Name, policy.Identity, []byte(mp.Document)})
	}
	managed := len(docs)
	docs = append(docs, evalCorpusDocs(t)...)
	if managed < 1500 || len(docs) < 1800 {
		t.Fatalf("only %d managed and %d corpus documents", managed, len(docs)-managed)
	}
	// Documents of the eval corpus that name what AWS does not have, on purpose.
	deliberate := map[string]string{
		"matching.json/match-action-question-mark-exactly-one-char/identityPolicies[0]": "s3:GetObject? names no action: ? is exactly one character",
	}
	// AWS managed policies naming actions, services or keys that the pinned service
	// authorization reference (awsdata.Source) does not list: newer than the snapshot
	// (securityagent, payments, builderid…) or retired from it (CloudHSM Classic). AWS
	// publishes both; the difference is the two packages' ages, not a wrong check.
	for _, name := range []string{"AWSCodeStarFullAccess", "AWSIAMIdentityCenterAllowListForIdentityContext",
		"AWSManagedSettingsAdminAccess", "AWSSupplyChainFederationAdminAccess", "AmazonDataZoneGlueManageAccessRolePolicy",
		"AmazonDataZonePortalFullAccessPolicy", "AmazonDataZonePreviewConsoleFullAccess",
		"AmazonRoute53RecoveryControlConfigReadOnlyAccess", "MemoryDBServiceRolePolicy", "RDSCloudHsmAuthorizationRole",
		"SecurityAgentWebAppAPIPolicy"} {
		deliberate["managed/"+name] = "names what the pinned service authorization reference does not list (data ages)"
	}
	checked := 0
	for _, d := range docs {
		p, err := policy.ParseLenient(d.text, d.kind)
		if err != nil {
			continue // not a policy (the corpus's invalid-input cases)
		}
		checked++
		for _, f := range Check(p) {
			if f.Type != Error {
				t.Logf("%s: %v", d.name, f)
				continue
			}
			if why, ok := deliberate[d.name]; ok {
				t.Logf("%s: %v (deliberate: %s)", d.name, f, why)
				continue
			}
			t.Errorf("%s: %v", d.name, f)
		}
	}
	t.Logf("%d documents checked", checked)
}
