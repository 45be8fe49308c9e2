package imds_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	sdkimds "github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/imds"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

const (
	trustEC2     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	trustECS     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	trustAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`
)

// world is a real iamlocal server with root clients.
type world struct {
	t   *testing.T
	s   *servertest.Server
	iam *iam.Client
	ec2 *ec2.Client
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (w *world) role(name, trust string) string {
	r := must[*iam.CreateRoleOutput](w.t)(w.iam.CreateRole(w.t.Context(), &iam.CreateRoleInput{RoleName: aws.String(name),
		AssumeRolePolicyDocument: aws.String(trust)}))
	return aws.ToString(r.Role.Arn)
}

// launch creates a role and a profile holding it (unless profile is empty) and
// runs an instance with them.
func (w *world) launch(profile, trust string, meta *types.InstanceMetadataOptionsRequest) string {
	ctx := w.t.Context()
	in := &ec2.RunInstancesInput{ImageId: aws.String(w.image()), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), MetadataOptions: meta}
	if profile != "" {
		w.role(profile+"-role", trust)
		must[*iam.CreateInstanceProfileOutput](w.t)(w.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(profile)}))
		must[*iam.AddRoleToInstanceProfileOutput](w.t)(w.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{
			InstanceProfileName: aws.String(profile), RoleName: aws.String(profile + "-role")}))
		in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String(profile)}
	}
	out := must[*ec2.RunInstancesOutput](w.t)(w.ec2.RunInstances(ctx, in))
	return aws.ToString(out.Instances[0].InstanceId)
}

// image is an image of the built-in catalogue that allows IMDSv1 by default.
func (w *world) image() string {
	out := must[*ec2.DescribeImagesOutput](w.t)(w.ec2.DescribeImages(w.t.Context(), &ec2.DescribeImagesInput{Owners: []string{"amazon"}}))
	for _, img := range out.Images {
		if img.ImdsSupport == "" && img.Architecture == types.ArchitectureValuesX8664 {
			return aws.ToString(img.ImageId)
		}
	}
	if len(out.Images) == 0 {
		w.t.Fatal("no catalogue images")
	}
	return aws.ToString(out.Images[0].ImageId)
}

// serve runs a metadata server for the instance (or role) on a loopback listener.
func (w *world) serve(cfg imds.Config) (*imds.Server, string) {
	cfg.Backend = apiClient(w.t, w.s)
	srv, err := imds.New(w.t.Context(), cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ConnContext = imds.ConnContext
	ts.Start()
	w.t.Cleanup(ts.Close)
	return srv, ts.URL
}

// apiClient is the internal API's client as `iamlocal imds --data` makes it: with the
// secret read from the server's data directory.
func apiClient(t *testing.T, s *servertest.Server) *imds.Client {
	t.Helper()
	tok, err := imds.ReadToken(s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	return &imds.Client{Endpoint: s.URL, Token: tok}
}

func (w *world) whoami(c aws.Credentials) *sts.GetCallerIdentityOutput {
	return must[*sts.GetCallerIdentityOutput](w.t)(w.s.STS(servertest.Creds{ID: c.AccessKeyID, Secret: c.SecretAccessKey, Token: c.SessionToken}).
		GetCallerIdentity(w.t.Context(), &sts.GetCallerIdentityInput{}))
}

func get(t *testing.T, method, url string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEndToEndInstance(t *testing.T) {
	s := servertest.Start(t, "")
	w := &world{t: t, s: s, iam: s.IAM(servertest.Root), ec2: s.EC2(servertest.Root)}
	ctx := t.Context()
	id := w.launch("web", trustEC2, &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateRequired,
		HttpPutResponseHopLimit: aws.Int32(2)})
	srv, base := w.serve(imds.Config{InstanceID: id})
	if inst := srv.Instance(); inst.HttpTokens != "required" || inst.HttpPutResponseHopLimit != 2 || inst.RoleName != "web-role" {
		t.Fatalf("instance %+v", inst)
	}

	// The SDK's credential provider over IMDSv2, and the credentials work on the server.
	client := sdkimds.New(sdkimds.Options{Endpoint: base})
	creds := must[aws.Credentials](t)(ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = client }).Retrieve(ctx))
	who := w.whoami(creds)
	if aws.ToString(who.Arn) != "arn:aws:sts::"+servertest.Account+":assumed-role/web-role/"+id ||
		!strings.HasPrefix(aws.ToString(who.UserId), "AROA") || !strings.HasSuffix(aws.ToString(who.UserId), ":"+id) {
		t.Fatalf("caller %s %s", aws.ToString(who.Arn), aws.ToString(who.UserId))
	}
	doc := must[sdkimds.GetInstanceIdentityDocumentOutput](t)(deref(client.GetInstanceIdentityDocument(ctx, nil)))
	if doc.InstanceID != id || doc.AccountID != servertest.Account || doc.Region != servertest.DefaultRegion || doc.PrivateIP == "" {
		t.Fatalf("identity document %+v", doc.InstanceIdentityDocument)
	}
	info := must[sdkimds.GetIAMInfoOutput](t)(deref(client.GetIAMInfo(ctx, nil)))
	if !strings.HasSuffix(info.InstanceProfileArn, ":instance-profile/web") || !strings.HasPrefix(info.InstanceProfileID, "AIPA") {
		t.Fatalf("iam/info %+v", info.IAMInfo)
	}
	prof := must[*iam.GetInstanceProfileOutput](t)(w.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web")}))
	if info.InstanceProfileID != aws.ToString(prof.InstanceProfile.InstanceProfileId) {
		t.Errorf("iam/info InstanceProfileId %s, IAM says %s", info.InstanceProfileID, aws.ToString(prof.InstanceProfile.InstanceProfileId))
	}
	if status, _ := get(t, "GET", base+"/latest/meta-data/instance-id", nil); status != 401 {
		t.Fatalf("IMDSv1 with HttpTokens=required: %d", status)
	}

	// ModifyInstanceMetadataOptions takes effect at the next refresh.
	must[*ec2.ModifyInstanceMetadataOptionsOutput](t)(w.ec2.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId: aws.String(id), HttpTokens: types.HttpTokensStateOptional}))
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if status, body := get(t, "GET", base+"/latest/meta-data/instance-id", nil); status != 200 || body != id {
		t.Fatalf("IMDSv1 with HttpTokens=optional: %d %q", status, body)
	}
	must[*ec2.ModifyInstanceMetadataOptionsOutput](t)(w.ec2.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId: aws.String(id), HttpEndpoint: types.InstanceMetadataEndpointStateDisabled}))
	srv.Refresh(ctx)
	if status, _ := get(t, "PUT", base+"/latest/api/token", map[string]string{imds.TokenTTLHeader: "60"}); status != 403 {
		t.Fatalf("token with HttpEndpoint=disabled: %d", status)
	}
	must[*ec2.ModifyInstanceMetadataOptionsOutput](t)(w.ec2.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId: aws.String(id), HttpEndpoint: types.InstanceMetadataEndpointStateEnabled}))
	srv.Refresh(ctx)

	// A stopped instance has no credentials (the cached ones are served while valid,
	// so use a fresh metadata server).
	must[*ec2.StopInstancesOutput](t)(w.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}))
	_, base2 := w.serve(imds.Config{InstanceID: id})
	if status, _ := get(t, "GET", base2+"/latest/meta-data/iam/security-credentials/web-role", nil); status != 404 {
		t.Fatalf("credentials of a stopped instance: %d", status)
	}

	// A role that does not trust EC2: the SDK reports AWS's code.
	other := w.launch("app", trustAccount, nil)
	_, base3 := w.serve(imds.Config{InstanceID: other})
	_, err := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = sdkimds.New(sdkimds.Options{Endpoint: base3}) }).Retrieve(ctx)
	if err == nil || !strings.Contains(err.Error(), "AssumeRoleUnauthorizedAccess") {
		t.Fatalf("untrusted role: %v", err)
	}

	// No profile: no iam/.
	bare := w.launch("", "", nil)
	_, base4 := w.serve(imds.Config{InstanceID: bare})
	if status, _ := get(t, "GET", base4+"/latest/meta-data/iam/info", nil); status != 404 {
		t.Fatalf("iam/info without a profile: %d", status)
	}
	if _, err := imds.New(ctx, imds.Config{Backend: apiClient(t, s), InstanceID: "i-0000000000000000f"}); err == nil ||
		!strings.Contains(err.Error(), "InvalidInstanceID.NotFound") {
		t.Fatalf("unknown instance: %v", err)
	}
}

func TestEndToEndRoleAndECS(t *testing.T) {
	s := servertest.Start(t, "")
	w := &world{t: t, s: s, iam: s.IAM(servertest.Root), ec2: s.EC2(servertest.Root)}
	ctx := t.Context()
	ec2Role := w.role("builder", trustEC2)
	ecsRole := w.role("task", trustECS)

	srv, base := w.serve(imds.Config{RoleArn: ec2Role, HTTPTokens: "required"})
	creds := must[aws.Credentials](t)(ec2rolecreds.New(func(o *ec2rolecreds.Options) {
		o.Client = sdkimds.New(sdkimds.Options{Endpoint: base})
	}).Retrieve(ctx))
	who := w.whoami(creds)
	if id := srv.Instance().InstanceId; aws.ToString(who.Arn) != "arn:aws:sts::"+servertest.Account+":assumed-role/builder/"+id {
		t.Fatalf("role mode caller %s (instance %s)", aws.ToString(who.Arn), id)
	}

	e, err := imds.NewECS(imds.ECSConfig{Backend: apiClient(t, s), RoleArn: ecsRole})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	creds = must[aws.Credentials](t)(endpointcreds.New(ts.URL+e.Path(), func(o *endpointcreds.Options) { o.AuthorizationToken = e.AuthToken() }).Retrieve(ctx))
	who = w.whoami(creds)
	if !strings.Contains(aws.ToString(who.Arn), ":assumed-role/task/") {
		t.Fatalf("ECS caller %s", aws.ToString(who.Arn))
	}

	// The EC2 role does not trust ECS: the server's refusal is passed on.
	e2, _ := imds.NewECS(imds.ECSConfig{Backend: apiClient(t, s), RoleArn: ec2Role})
	ts2 := httptest.NewServer(e2)
	t.Cleanup(ts2.Close)
	status, body := get(t, "GET", ts2.URL+e2.Path(), map[string]string{"Authorization": e2.AuthToken()})
	var m map[string]string
	json.Unmarshal([]byte(body), &m)
	if status != 403 || m["code"] != "AccessDenied" || !strings.Contains(m["message"], "ecs-tasks.amazonaws.com") {
		t.Fatalf("ECS with an EC2-only role: %d %s", status, body)
	}
}

func deref[T any](v *T, err error) (T, error) {
	if v == nil {
		var zero T
		return zero, err
	}
	return *v, err
}

// The internal API gives nothing without the secret of the server's data directory.
func TestEndToEndNeedsToken(t *testing.T) {
	s := servertest.Start(t, "")
	w := &world{t: t, s: s, iam: s.IAM(servertest.Root), ec2: s.EC2(servertest.Root)}
	ec2Role := w.role("builder", trustEC2)
	id := w.launch("web", trustEC2, nil)
	for name, c := range map[string]*imds.Client{
		"no token":    {Endpoint: s.URL},
		"wrong token": {Endpoint: s.URL, Token: strings.Repeat("0", 64)},
	} {
		_, err := c.RoleCredentials(t.Context(), ec2Role, "ec2.amazonaws.com", "")
		var ae *imds.APIError
		if !errors.As(err, &ae) || ae.Status != 403 || ae.Code != "AccessDenied" {
			t.Errorf("%s: role credentials: %v", name, err)
		}
		_, err = c.InstanceCredentials(t.Context(), id)
		if !errors.As(err, &ae) || ae.Status != 403 {
			t.Errorf("%s: instance credentials: %v", name, err)
		}
		if _, err := c.Instance(t.Context(), id); !errors.As(err, &ae) || ae.Status != 403 {
			t.Errorf("%s: instance: %v", name, err)
		}
	}
	if _, err := apiClient(t, s).InstanceCredentials(t.Context(), id); err != nil {
		t.Fatalf("with the secret: %v", err)
	}
	if _, err := imds.ReadToken(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is iamlocal serve using --data") {
		t.Fatalf("no token file: %v", err)
	}
}
