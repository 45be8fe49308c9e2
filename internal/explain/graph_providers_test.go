package explain_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/explain"
	samlidp "github.com/iamlocal/iamlocal/internal/saml"
)

// githubDocsTrust is the trust policy of GitHub's "Configuring OpenID Connect in
// Amazon Web Services", for the main branch, with a second statement for the prod
// environment and a Deny that keeps other owners out.
const githubDocsTrust = `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:ref:refs/heads/main"}
            }
        },
        {
            "Sid": "ProdEnvironment",
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                "token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:environment:prod",
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringNotEquals": {"token.actions.githubusercontent.com:repository_owner": "octo-org"}}
        }
    ]
}`

func federated(provider, action, condition string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider + `"},"Action":"` + action +
		`","Condition":` + condition + `}]}`
}

func providerNode(t *testing.T, g *explain.Graph, id string) explain.Node {
	t.Helper()
	n, ok := g.Node(id)
	if !ok || n.Kind != explain.NodeFederated || n.Provider == nil {
		t.Fatalf("no provider node %s: %+v", id, g.Nodes)
	}
	return n
}

// TestGraphIdentityProviders: every OIDC provider of the accounts read is a node, and
// so is every Federated principal a trust policy names (built-in providers, SAML
// providers); each has an edge per trust statement that lets its users in, labelled
// with the claims the statement asks for, in every format. Providers STS would never
// let through — unregistered, of another account, refused by an RCP — have no edge.
func TestGraphIdentityProviders(t *testing.T) {
	w := newWorld(t)
	for _, p := range []struct{ url, client string }{{"https://token.actions.githubusercontent.com", "sts.amazonaws.com"}, {"https://gitlab.com", "https://gitlab.com"}} {
		w.must(w.mgmt.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(p.url), ClientIDList: []string{p.client}}))
	}
	w.must(w.devIAM.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://oidc.eks.us-east-1.amazonaws.com/id/ABC"),
		ClientIDList: []string{"sts.amazonaws.com"}}))
	gh := "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
	eks := "arn:aws:iam::" + w.dev + ":oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
	saml := "arn:aws:iam::111111111111:saml-provider/corp"
	// The SAML provider is registered: the server lists SAML providers.
	idp, err := samlidp.NewIdP("corp", "https://idp.example.com/saml", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	md, err := idp.Metadata("")
	if err != nil {
		t.Fatal(err)
	}
	w.must(w.mgmt.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(string(md))}))
	mgmtRole := func(name string) string { return "arn:aws:iam::111111111111:role/" + name }
	devRole := func(name string) string { return "arn:aws:iam::" + w.dev + ":role/" + name }

	w.role(w.mgmt, "deploy", githubDocsTrust, "", 0)
	w.role(w.mgmt, "google", federated("accounts.google.com", "sts:AssumeRoleWithWebIdentity",
		`{"StringEquals":{"accounts.google.com:aud":"1234.apps.googleusercontent.com"}}`), "", 0)
	w.role(w.mgmt, "cognito", federated("cognito-identity.amazonaws.com", "sts:AssumeRoleWithWebIdentity",
		`{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:pool"},"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}`), "", 0)
	w.role(w.mgmt, "sso", federated(saml, "sts:AssumeRoleWithSAML", `{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}`), "", 0)
	w.role(w.devIAM, "cross", federated(gh, "sts:AssumeRoleWithWebIdentity", `{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}`), "", 0)
	w.role(w.devIAM, "ghost", federated("arn:aws:iam::"+w.dev+":oidc-provider/token.actions.githubusercontent.com", "sts:AssumeRoleWithWebIdentity",
		`{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}`), "", 0)
	w.role(w.devIAM, "pods", federated(eks, "sts:AssumeRoleWithWebIdentity",
		`{"StringEquals":{"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:default:app"}}`), "", 0)

	g, err := explain.BuildGraph(ctx, w.source(w.admin), explain.GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	explain.WriteGraphText(&buf, g, explain.Painter{})
	text := buf.String()
	t.Log("\n" + text)

	// Nodes: registered providers (GitLab's with no role), built-in and SAML ones as
	// trust policies name them, and dev's unregistered GitHub provider.
	if n := providerNode(t, g, "federated:"+gh); n.External || n.Account != "111111111111" || n.Name != "token.actions.githubusercontent.com" ||
		n.Provider.URL != "https://token.actions.githubusercontent.com" || strings.Join(n.Provider.ClientIDs, ",") != "sts.amazonaws.com" {
		t.Errorf("github node %+v %+v", n, n.Provider)
	}
	providerNode(t, g, "federated:arn:aws:iam::111111111111:oidc-provider/gitlab.com")
	if n := providerNode(t, g, "federated:accounts.google.com"); !n.Provider.BuiltIn || !n.External {
		t.Errorf("google node %+v %+v", n, n.Provider)
	}
	if n := providerNode(t, g, "federated:"+saml); n.Provider.Type != explain.ProviderSAML || n.Provider.Unregistered || n.Name != "corp" {
		t.Errorf("saml node %+v %+v (registered)", n, n.Provider)
	}
	if n := providerNode(t, g, "federated:arn:aws:iam::"+w.dev+":oidc-provider/token.actions.githubusercontent.com"); !n.Provider.Unregistered {
		t.Errorf("ghost provider %+v", n.Provider)
	}

	// deploy: one edge per Allow statement, the Deny's owner assumed met.
	var deploy []explain.Edge
	for _, e := range g.Edges {
		if e.From == "federated:"+gh && e.To == mgmtRole("deploy") {
			deploy = append(deploy, e)
		}
	}
	if len(deploy) != 2 {
		t.Fatalf("github → deploy edges %+v\n%s", deploy, text)
	}
	if got := strings.Join(deploy[0].Claims, "; "); got != "sub: repo:octo-org/octo-repo:ref:refs/heads/main; aud: sts.amazonaws.com; repository_owner: octo-org" ||
		deploy[0].Action != "sts:AssumeRoleWithWebIdentity" || deploy[0].Statement != "0" {
		t.Errorf("main branch edge %+v", deploy[0])
	}
	if got := strings.Join(deploy[1].Claims, "; "); got != "sub: repo:octo-org/octo-repo:environment:prod; aud: sts.amazonaws.com; repository_owner: octo-org" ||
		deploy[1].Statement != "ProdEnvironment" {
		t.Errorf("environment edge %+v", deploy[1])
	}
	if !strings.Contains(strings.Join(deploy[0].Conditions, "; "), `StringEquals token.actions.githubusercontent.com:repository_owner "octo-org"`) {
		t.Errorf("conditions %v", deploy[0].Conditions)
	}
	for _, c := range []struct{ from, to, claims, action string }{
		{"federated:accounts.google.com", mgmtRole("google"), "aud: 1234.apps.googleusercontent.com", "sts:AssumeRoleWithWebIdentity"},
		{"federated:cognito-identity.amazonaws.com", mgmtRole("cognito"), "aud: us-east-1:pool; amr: authenticated", "sts:AssumeRoleWithWebIdentity"},
		{"federated:" + saml, mgmtRole("sso"), "aud: https://signin.aws.amazon.com/saml", "sts:AssumeRoleWithSAML"},
		{"federated:" + eks, devRole("pods"), "sub: system:serviceaccount:default:app", "sts:AssumeRoleWithWebIdentity"},
	} {
		e, ok := findEdge(g, c.from, c.to)
		if !ok || strings.Join(e.Claims, "; ") != c.claims || e.Action != c.action {
			t.Errorf("%s → %s: %+v %v\n%s", c.from, c.to, e, ok, text)
		}
	}
	for _, c := range [][2]string{{"federated:" + gh, devRole("cross")}, {"federated:arn:aws:iam::" + w.dev + ":oidc-provider/token.actions.githubusercontent.com", devRole("ghost")},
		{"federated:" + gh, mgmtRole("google")}, {"federated:accounts.google.com", mgmtRole("deploy")}} {
		if e, ok := findEdge(g, c[0], c[1]); ok {
			t.Errorf("edge %s → %s: %+v", c[0], c[1], e)
		}
	}
	wantAll(t, strings.Join(g.Warnings, "\n"),
		devRole("cross")+" trusts "+gh+" of account 111111111111: STS looks a token's issuer up among the OIDC providers of the role's own account",
		devRole("ghost")+" trusts arn:aws:iam::"+w.dev+":oidc-provider/token.actions.githubusercontent.com, which account "+w.dev+" has not registered")

	wantAll(t, text, "identity providers:\n",
		"  "+gh+"  (OIDC provider, client ids sts.amazonaws.com)\n",
		"    → "+mgmtRole("deploy")+"  if sub: repo:octo-org/octo-repo:ref:refs/heads/main and aud: sts.amazonaws.com and repository_owner: octo-org  (trust statement 0)\n",
		"    → "+mgmtRole("deploy")+"  if sub: repo:octo-org/octo-repo:environment:prod and aud: sts.amazonaws.com and repository_owner: octo-org  (trust statement ProdEnvironment)\n",
		"  arn:aws:iam::111111111111:oidc-provider/gitlab.com  (OIDC provider, client ids https://gitlab.com)\n    no role lets its users in\n",
		"  accounts.google.com  (built into AWS: no IAM provider)\n",
		"  "+saml+"  (SAML provider)\n    → "+mgmtRole("sso")+"  if aud: https://signin.aws.amazon.com/saml",
		"(not registered in account "+w.dev+": STS refuses its users)\n    no role lets its users in\n")

	buf.Reset()
	explain.WriteDot(&buf, g)
	wantAll(t, buf.String(), `"federated:`+gh+`" [label="OIDC provider token.actions.githubusercontent.com\n111111111111 management", shape=hexagon];`,
		`"federated:arn:aws:iam::111111111111:oidc-provider/gitlab.com" [label=`,
		`"federated:`+gh+`" -> "`+mgmtRole("deploy")+`" [label="sub: repo:octo-org/octo-repo:ref:refs/heads/main\naud: sts.amazonaws.com\nrepository_owner: octo-org"];`,
		`"federated:accounts.google.com" [label="built-in provider accounts.google.com\n(external)", shape=hexagon, style=dashed];`,
		`[label="SAML provider corp\n111111111111 management", shape=hexagon];`)
	buf.Reset()
	explain.WriteMermaid(&buf, g)
	wantAll(t, buf.String(), `{{"OIDC provider token.actions.githubusercontent.com<br/>111111111111 management"}}`,
		`-->|"sub: repo:octo-org/octo-repo:ref:refs/heads/main<br/>aud: sts.amazonaws.com<br/>repository_owner: octo-org"|`,
		`{{"OIDC provider gitlab.com<br/>111111111111 management"}}`)

	js, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	wantAll(t, string(js), `"id":"federated:`+gh+`","kind":"federated","account":"111111111111","name":"token.actions.githubusercontent.com","provider":{"arn":"`+gh+`","type":"oidc","url":"https://token.actions.githubusercontent.com","clientIds":["sts.amazonaws.com"]}}`,
		`"action":"sts:AssumeRoleWithWebIdentity","naming":"names the caller","conditions":[`,
		`"claims":["sub: repo:octo-org/octo-repo:ref:refs/heads/main","aud: sts.amazonaws.com","repository_owner: octo-org"],"statement":"0"`,
		`"action":"sts:AssumeRole"`)

	// Who reaches deploy: the provider, directly.
	to, err := g.To(mgmtRole("deploy"))
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	explain.WriteGraphText(&buf, to, explain.Painter{})
	wantAll(t, buf.String(), "  "+gh+"\n    → "+mgmtRole("deploy")+"  if sub: repo:octo-org/octo-repo:ref:refs/heads/main")

	// An RCP on dev refusing web identity federation: EKS's pods reach nothing.
	w.orgPolicy(orgtypes.PolicyTypeResourceControlPolicy, "no-oidc",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity","Resource":"*"}]}`, w.dev)
	g, err = explain.BuildGraph(ctx, w.source(w.admin), explain.GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := findEdge(g, "federated:"+eks, devRole("pods")); ok {
		t.Errorf("an RCP denies web identity, yet %+v", e)
	}
	if _, ok := findEdge(g, "federated:"+gh, mgmtRole("deploy")); !ok {
		t.Error("the RCP is dev's, not the management account's")
	}
}

// TestFakeGraphProviders: without a ProviderSource, the providers trust policies name
// are nodes; a Principal "*" statement admits any provider for its action, and a
// provider's edge is decided per statement with the trust policy's Denies.
func TestFakeGraphProviders(t *testing.T) {
	f := newFake()
	saml := "arn:aws:iam::" + acctA + ":saml-provider/okta"
	f.roles[acctA+"/admin"] = &explain.Entity{Kind: "role", Account: acctA, Name: "admin", Arn: "arn:aws:iam::" + acctA + ":role/admin",
		Trust: `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Principal":{"Federated":"` + saml + `"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"},"StringLike":{"saml:sub":["alice*","bob*"]}}},` +
			`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"saml:iss":"urn:idp"}}},` +
			`{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"saml:sub_type":"transient"}}}]}`}
	g, err := explain.BuildGraph(ctx, f, explain.GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var claims []string
	for _, e := range g.Edges {
		if e.From == "federated:"+saml {
			claims = append(claims, strings.Join(e.Claims, "; "))
		}
	}
	if strings.Join(claims, " | ") != "sub: alice* or bob*; aud: https://signin.aws.amazon.com/saml | iss: urn:idp" {
		t.Fatalf("saml edges %q %+v", claims, g.Edges)
	}
	if n := providerNode(t, g, "federated:"+saml); n.External || n.Provider.Unregistered || n.Provider.Type != explain.ProviderSAML {
		t.Fatalf("%+v %+v", n, n.Provider)
	}
}

// TestFakeGraphDenyUnless: a Deny that applies only because the request lacks a key
// its negated condition reads is assumed away like a missing Allow condition, and the
// edge shows what the request must carry; a Deny on who the caller is stays decided.
func TestFakeGraphDenyUnless(t *testing.T) {
	f := newFake()
	alice := "arn:aws:iam::" + acctA + ":user/alice"
	f.users[acctA+"/alice"] = &explain.Entity{Kind: "user", Account: acctA, Name: "alice", Arn: alice,
		Inline: []explain.Doc{{Name: "a", Text: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`}}}
	trust := func(deny string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"sts:AssumeRole"},` +
			`{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":` + deny + `}]}`
	}
	f.roles[acctB+"/vpce"] = &explain.Entity{Kind: "role", Account: acctB, Name: "vpce", Arn: "arn:aws:iam::" + acctB + ":role/vpce",
		Trust: trust(`{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}`)}
	f.roles[acctB+"/others"] = &explain.Entity{Kind: "role", Account: acctB, Name: "others", Arn: "arn:aws:iam::" + acctB + ":role/others",
		Trust: trust(`{"StringNotEquals":{"aws:PrincipalAccount":"999999999999"}}`)}
	g, err := explain.BuildGraph(ctx, f, explain.GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := findEdge(g, alice, "arn:aws:iam::"+acctB+":role/vpce"); !ok || strings.Join(e.Conditions, "; ") != `StringEquals aws:SourceVpce "vpce-1"` {
		t.Fatalf("alice → vpce: %+v %v", e, ok)
	}
	if e, ok := findEdge(g, alice, "arn:aws:iam::"+acctB+":role/others"); ok {
		t.Fatalf("a Deny on the caller's account was assumed away: %+v", e)
	}
}
