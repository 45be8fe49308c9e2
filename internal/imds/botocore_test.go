package imds

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// botocore runs a Python snippet with botocore (the AWS CLI's library) in env, or
// skips the test when Python or botocore is missing.
func botocore(t *testing.T, env map[string]string, script string) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if exec.CommandContext(ctx, py, "-c", "import botocore.session").Run() != nil {
		t.Skip("botocore not installed")
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, py, "-c", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

const botocoreCredentials = `import botocore.session
c = botocore.session.get_session().get_credentials()
f = c.get_frozen_credentials()
print(c.method, f.access_key, f.token)`

func TestBotocoreIMDSv2(t *testing.T) {
	t.Parallel()
	h := newRealHarness(t, func(i *Instance) { i.HttpTokens = "required" })
	out := botocore(t, map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": h.ts.URL}, botocoreCredentials)
	if out != "iam-role ASIAFAKE000000000001 token-1" {
		t.Fatalf("botocore: %q", out)
	}
}

func TestBotocoreECS(t *testing.T) {
	t.Parallel()
	_, e, ts := newECSHarness(t)
	out := botocore(t, map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": ts.URL + e.Path(),
		"AWS_CONTAINER_AUTHORIZATION_TOKEN": e.AuthToken(), "AWS_EC2_METADATA_DISABLED": "true"}, botocoreCredentials)
	if out != "container-role ASIAFAKE000000000001 token-1" {
		t.Fatalf("botocore: %q", out)
	}
}
