package cli

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// servedServices are the services iamlocal serves. A child gets an endpoint variable
// for each, so that a service-specific variable inherited from the shell (say
// AWS_ENDPOINT_URL_S3 pointing at AWS) cannot send one of them elsewhere.
var servedServices = []string{"STS", "IAM", "S3", "EC2", "ORGANIZATIONS"}

// childEnv is the environment of a command run by exec or each: the parent's, less
// every variable that would shadow the new credentials or send requests elsewhere,
// plus the credentials (vars) and, when an endpoint is configured, that endpoint
// for every client that reads AWS_ENDPOINT_URL[_SERVICE].
func childEnv(parent []string, endpoint string, vars ...string) []string {
	out := make([]string, 0, len(parent)+len(vars)+len(servedServices)+1)
	for _, kv := range parent {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "AWS_ACCESS_KEY_ID", name == "AWS_SECRET_ACCESS_KEY", name == "AWS_SESSION_TOKEN",
			name == "AWS_SECURITY_TOKEN", name == "AWS_CREDENTIAL_EXPIRATION", name == "AWS_PROFILE",
			name == "AWS_DEFAULT_PROFILE":
			continue
		case endpoint != "" && (strings.HasPrefix(name, "AWS_ENDPOINT_URL") || name == "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
			continue
		}
		out = append(out, kv)
	}
	out = append(out, vars...)
	if endpoint != "" {
		out = append(out, "AWS_ENDPOINT_URL="+endpoint)
		for _, s := range servedServices {
			out = append(out, "AWS_ENDPOINT_URL_"+s+"="+endpoint)
		}
	}
	return out
}

var awsCLIVersion = regexp.MustCompile(`aws-cli/(\d+)\.(\d+)\.`)

// endpointWarning says when the child is an AWS CLI that ignores AWS_ENDPOINT_URL
// (v1 before 1.29, v2 before 2.13 — Debian's is 2.9) and was not given
// --endpoint-url: its requests would go to AWS itself. "" when nothing is amiss.
func endpointWarning(ctx context.Context, endpoint string, args []string) string {
	if endpoint == "" || len(args) == 0 || filepath.Base(args[0]) != "aws" ||
		slices.ContainsFunc(args, func(a string) bool { return a == "--endpoint-url" || strings.HasPrefix(a, "--endpoint-url=") }) {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], "--version").CombinedOutput()
	m := awsCLIVersion.FindSubmatch(out)
	if err != nil || m == nil {
		return ""
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))
	if (major == 1 && minor >= 29) || (major == 2 && minor >= 13) || major > 2 {
		return ""
	}
	return fmt.Sprintf("warning: %s ignores AWS_ENDPOINT_URL and would send these requests to AWS itself: add --endpoint-url %s to the command",
		strings.TrimSpace(strings.Fields(string(out))[0]), endpoint)
}

// warnEndpoint prints endpointWarning's warning, once.
func warnEndpoint(ctx context.Context, w io.Writer, endpoint string, args []string) {
	if msg := endpointWarning(ctx, endpoint, args); msg != "" {
		fmt.Fprintln(w, "iamlocal:", msg)
	}
}
