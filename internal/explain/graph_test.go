package explain_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iamlocal/iamlocal/internal/explain"
)

func findEdge(g *explain.Graph, from, to string) (explain.Edge, bool) {
	for _, e := range g.Edges {
		if e.From == from && e.To == to {
			return e, true
		}
	}
	return explain.Edge{}, false
}

func TestGraphAcrossAccounts(t *testing.T) {
	w := newWorld(t)
	w.user(w.mgmt, "alice", allowAssumeAny)
	w.user(w.mgmt, "dave", "")
	alice, dave := "arn:aws:iam::111111111111:user/alice", "arn:aws:iam::111111111111:user/dave"
	role := func(name string) string { return "arn:aws:iam::" + w.dev + ":role/" + name }
	w.role(w.devIAM, "audit", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["`+alice+`","`+dave+`"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x-1"}}}]}`, "", 0)
	w.role(w.devIAM, "first", trustOf(alice, ""), allowAssumeAny, 0)
	w.role(w.devIAM, "second", trustOf(role("first"), ""), allowAssumeAny, 0)
	w.role(w.devIAM, "third", trustOf(role("second"), ""), "", 0)
	w.role(w.devIAM, "vendor", trustOf("arn:aws:iam::999999999999:root", `{"StringEquals":{"sts:ExternalId":"vendor-7"}}`), "", 0)
	w.role(w.devIAM, "ec2", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, "", 0)

	g, err := explain.BuildGraph(ctx, w.source(w.admin), explain.GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	explain.WriteGraphText(&buf, g, explain.Painter{})
	text := buf.String()
	if len(g.Accounts) != 2 || len(g.Warnings) != 0 {
		t.Fatalf("accounts %v warnings %v", g.Accounts, g.Warnings)
	}
	e, ok := findEdge(g, alice, role("audit"))
	if !ok || len(e.Conditions) != 1 || e.Conditions[0] != `StringEquals sts:ExternalId "x-1"` || e.Naming != "names the caller" {
		t.Fatalf("alice → audit: %+v %v\n%s", e, ok, text)
	}
	if _, ok := findEdge(g, dave, role("audit")); ok {
		t.Fatalf("dave has no identity policy, yet an edge to audit:\n%s", text)
	}
	for _, want := range [][2]string{{alice, role("first")}, {role("first"), role("second")}, {role("second"), role("third")},
		{alice, role("OrganizationAccountAccessRole")}, {"arn:aws:iam::111111111111:user/admin", role("OrganizationAccountAccessRole")},
		{"service:ec2.amazonaws.com", role("ec2")}} {
		if _, ok := findEdge(g, want[0], want[1]); !ok {
			t.Errorf("no edge %s → %s:\n%s", want[0], want[1], text)
		}
	}
	if e, ok := findEdge(g, "arn:aws:iam::999999999999:root", role("vendor")); !ok || !strings.Contains(strings.Join(e.Conditions, " "), "vendor-7") {
		t.Errorf("external account edge: %+v %v\n%s", e, ok, text)
	}
	if _, ok := findEdge(g, role("first"), role("third")); ok {
		t.Errorf("first may not assume third directly:\n%s", text)
	}
	wantAll(t, text, "  → "+role("audit")+`  if StringEquals sts:ExternalId "x-1"  (names the caller)`,
		"arn:aws:iam::999999999999:root (outside the accounts read: its own policies decide)")

	// Who reaches third: second directly, first and alice through chains.
	to, err := g.To(role("third"))
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	explain.WriteGraphText(&buf, to, explain.Painter{})
	text = buf.String()
	var starts []string
	for _, p := range to.Paths {
		starts = append(starts, p[0].From)
	}
	if strings.Join(starts, " ") != role("second")+" "+role("first")+" "+alice {
		t.Fatalf("paths start at %v:\n%s", starts, text)
	}
	if last := to.Paths[2]; len(last) != 3 || last[0].To != role("first") || last[1].To != role("second") || last[2].To != role("third") {
		t.Fatalf("alice's chain %+v", last)
	}
	wantAll(t, text, "who can reach "+role("third"), "(a chain of 3 roles")

	buf.Reset()
	explain.WriteDot(&buf, g)
	wantAll(t, buf.String(), "digraph iamlocal {", `"`+alice+`" -> "`+role("audit")+`" [label="StringEquals sts:ExternalId \"x-1\""];`)
	buf.Reset()
	explain.WriteMermaid(&buf, to)
	wantAll(t, buf.String(), "flowchart LR", "-->")

	if _, err := g.To(role("nope")); err == nil {
		t.Fatal("--to an unknown role")
	}
}
