package oidc

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Preset is the shape of the tokens a real issuer sends: its default audience and
// the claims it derives from the subject. `iamlocal oidc token` starts from the
// preset of the issuer it mints for, so a trust policy copied from the product's
// documentation sees the claims it expects.
type Preset struct {
	Name        string // shown by `iamlocal oidc token --help`
	DefaultAud  string
	AudAsList   bool // aud is a JSON array (EKS's projected service account tokens)
	SubjectHelp string
	claims      func(issuer, sub string, c map[string]any)
}

var (
	githubHost = regexp.MustCompile(`^token\.actions\.githubusercontent\.com(/.*)?$|^token\.actions\.[a-z0-9-]+\.ghe\.com$`)
	eksHost    = regexp.MustCompile(`^oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[A-Za-z0-9]+$`)
)

// PresetFor is the preset of an issuer name; unknown issuers get Generic.
func PresetFor(name string) *Preset {
	switch {
	case githubHost.MatchString(name):
		return GitHubActions
	case eksHost.MatchString(name):
		return EKS
	case name == "gitlab.com" || strings.HasPrefix(name, "gitlab."):
		return GitLab
	case name == Google:
		return GoogleAccounts
	case name == Cognito:
		return CognitoIdentity
	}
	return Generic
}

// Generic is any other issuer: iss, sub, aud and the times.
var Generic = &Preset{Name: "generic", DefaultAud: "sts.amazonaws.com", SubjectHelp: "any subject",
	claims: func(string, string, map[string]any) {}}

// GitHubActions is token.actions.githubusercontent.com: the claims of GitHub's
// "OpenID Connect reference" (repository, repository_owner, ref, environment,
// job_workflow_ref, actor, workflow, event_name, sha…), derived from a subject of the
// form repo:ORG/REPO:ref:refs/heads/BRANCH, repo:ORG/REPO:environment:NAME or
// repo:ORG/REPO:pull_request, with the audience aws-actions/configure-aws-credentials
// requests, sts.amazonaws.com.
var GitHubActions = &Preset{Name: "GitHub Actions", DefaultAud: "sts.amazonaws.com",
	SubjectHelp: "repo:ORG/REPO:ref:refs/heads/BRANCH | repo:ORG/REPO:environment:NAME | repo:ORG/REPO:pull_request",
	claims: func(_, sub string, c map[string]any) {
		repo, ref, refType, event, env := "octo-org/octo-repo", "refs/heads/main", "branch", "push", ""
		if rest, ok := strings.CutPrefix(sub, "repo:"); ok {
			r, qual, _ := strings.Cut(rest, ":")
			repo = r
			switch {
			case strings.HasPrefix(qual, "ref:"):
				ref = strings.TrimPrefix(qual, "ref:")
				if strings.HasPrefix(ref, "refs/tags/") {
					refType = "tag"
				}
			case strings.HasPrefix(qual, "environment:"):
				env = strings.TrimPrefix(qual, "environment:")
			case qual == "pull_request":
				event, ref = "pull_request", "refs/pull/1/merge"
			}
		}
		owner, _, _ := strings.Cut(repo, "/")
		sha := randomHex(20)
		c["repository"], c["repository_owner"] = repo, owner
		c["repository_id"], c["repository_owner_id"], c["repository_visibility"] = "1", "1", "private"
		c["ref"], c["ref_type"], c["sha"] = ref, refType, sha
		c["event_name"], c["actor"], c["actor_id"] = event, "octocat", "1"
		c["workflow"] = "deploy"
		c["workflow_ref"] = repo + "/.github/workflows/deploy.yml@" + ref
		c["workflow_sha"] = sha
		c["job_workflow_ref"] = repo + "/.github/workflows/deploy.yml@" + ref
		c["job_workflow_sha"] = sha
		c["run_id"], c["run_number"], c["run_attempt"] = "1", "1", "1"
		c["runner_environment"] = "github-hosted"
		c["head_ref"], c["base_ref"] = "", ""
		if event == "pull_request" {
			c["head_ref"], c["base_ref"] = "feature", "main"
		}
		if env != "" {
			c["environment"] = env
		}
	}}

// EKS is an EKS cluster's service account issuer (IRSA),
// oidc.eks.REGION.amazonaws.com/id/ID: a projected service account token for a
// subject system:serviceaccount:NAMESPACE:NAME, audience ["sts.amazonaws.com"], and
// the kubernetes.io claim naming the namespace, service account and pod.
var EKS = &Preset{Name: "EKS (IRSA)", DefaultAud: "sts.amazonaws.com", AudAsList: true,
	SubjectHelp: "system:serviceaccount:NAMESPACE:SERVICEACCOUNT",
	claims: func(_, sub string, c map[string]any) {
		ns, sa := "default", "default"
		if rest, ok := strings.CutPrefix(sub, "system:serviceaccount:"); ok {
			if n, s, ok := strings.Cut(rest, ":"); ok {
				ns, sa = n, s
			}
		}
		c["kubernetes.io"] = map[string]any{
			"namespace":      ns,
			"pod":            map[string]any{"name": sa + "-" + randomHex(5), "uid": uuid()},
			"serviceaccount": map[string]any{"name": sa, "uid": uuid()},
		}
	}}

// GitLab is gitlab.com's CI/CD ID tokens: a subject
// project_path:GROUP/PROJECT:ref_type:branch:ref:BRANCH and the claims of GitLab's
// "ID token authentication" (namespace_path, project_path, ref, ref_type,
// ref_protected, pipeline_source, user_login…), audience https://gitlab.com.
var GitLab = &Preset{Name: "GitLab CI/CD", DefaultAud: "https://gitlab.com",
	SubjectHelp: "project_path:GROUP/PROJECT:ref_type:branch:ref:BRANCH",
	claims: func(_, sub string, c map[string]any) {
		project, refType, ref := "my-group/my-project", "branch", "main"
		if rest, ok := strings.CutPrefix(sub, "project_path:"); ok {
			parts := strings.Split(rest, ":")
			project = parts[0]
			for i := 1; i+1 < len(parts); i += 2 {
				switch parts[i] {
				case "ref_type":
					refType = parts[i+1]
				case "ref":
					ref = parts[i+1]
				}
			}
		}
		ns := project
		if i := strings.LastIndexByte(project, '/'); i >= 0 {
			ns = project[:i]
		}
		c["namespace_id"], c["namespace_path"] = "1", ns
		c["project_id"], c["project_path"] = "1", project
		c["user_id"], c["user_login"], c["user_email"] = "1", "gitlab-user", "gitlab-user@example.com"
		c["user_access_level"] = "maintainer"
		c["pipeline_id"], c["pipeline_source"] = "1", "push"
		c["job_id"] = "1"
		c["ref"], c["ref_type"], c["ref_protected"] = ref, refType, "true"
		prefix := "refs/heads/"
		if refType == "tag" {
			prefix = "refs/tags/"
		}
		c["ref_path"] = prefix + ref
		c["runner_id"], c["runner_environment"] = 1, "gitlab-hosted"
		c["sha"] = randomHex(20)
		c["project_visibility"] = "private"
		c["ci_config_ref_uri"] = "gitlab.com/" + project + "//.gitlab-ci.yml@" + prefix + ref
	}}

// GoogleAccounts is accounts.google.com: a numeric subject, the requested audience
// as aud and, for a service account's ID token, azp equal to the subject and its
// email (AWS then reads accounts.google.com:aud from azp and :oaud from aud).
var GoogleAccounts = &Preset{Name: "Google", DefaultAud: "sts.amazonaws.com",
	SubjectHelp: "a numeric Google account or service account id",
	claims: func(_, sub string, c map[string]any) {
		c["azp"] = sub
		c["email"] = "workload@example-project.iam.gserviceaccount.com"
		c["email_verified"] = true
	}}

// CognitoIdentity is cognito-identity.amazonaws.com (GetOpenIdToken): the identity
// id as subject, the identity pool id as aud, and amr saying how the identity
// authenticated.
var CognitoIdentity = &Preset{Name: "Cognito identity pools", DefaultAud: "us-east-1:00000000-0000-0000-0000-000000000000",
	SubjectHelp: "an identity id such as us-east-1:11111111-2222-3333-4444-555555555555",
	claims: func(_, _ string, c map[string]any) {
		c["amr"] = []any{"authenticated"}
	}}

// Build makes a token's claims: the preset's for the issuer, the standard ones (iss,
// sub, aud, iat, nbf, exp, jti) and then extra, which override anything.
func Build(name, sub, aud string, extra map[string]any, now time.Time, ttl time.Duration) map[string]any {
	p := PresetFor(name)
	c := map[string]any{}
	p.claims(name, sub, c)
	if aud == "" {
		aud = p.DefaultAud
	}
	c["iss"], c["sub"] = IssuerURL(name), sub
	if p.AudAsList {
		c["aud"] = []any{aud}
	} else {
		c["aud"] = aud
	}
	c["iat"], c["nbf"], c["exp"] = now.Unix(), now.Unix(), now.Add(ttl).Unix()
	c["jti"] = uuid()
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// ParseClaimFlag reads a --claim k=v: the value as JSON when it is an array or an
// object (amr=["authenticated"], https://aws.amazon.com/tags={…}), else as a string.
func ParseClaimFlag(s string) (string, any, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return "", nil, fmt.Errorf("--claim %q: want NAME=VALUE", s)
	}
	if t := strings.TrimSpace(v); strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
		var j any
		if err := json.Unmarshal([]byte(t), &j); err != nil {
			return "", nil, fmt.Errorf("--claim %s: the value starts like JSON but is not: %v", k, err)
		}
		return k, j, nil
	}
	return k, v, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
