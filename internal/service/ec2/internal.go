package ec2

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/session"
	"github.com/iamlocal/iamlocal/internal/store"
)

// instanceCredentialLifetime is how long instance-role credentials last, as EC2's do.
const instanceCredentialLifetime = time.Hour

// ServeInternal answers iamlocal's own loopback API for the instance metadata service
// (`iamlocal imds`): an instance's metadata and its role credentials. The contract is
// in docs/imds.md. The front door lets only loopback clients reach it.
//
//	GET  /_iamlocal/ec2/instances/{id}              the instance, as JSON
//	POST /_iamlocal/ec2/instances/{id}/credentials  its instance profile role's credentials
//	POST /_iamlocal/roles/credentials?roleArn=ARN&service=ec2.amazonaws.com[&sessionName=S]
//	                                                a role's credentials without an instance
//
// Credentials are issued only when the role's trust policy allows the service
// principal sts:AssumeRole, decided by the engine like any other request.
func ServeInternal(env *service.Env, w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == "/_iamlocal/roles/credentials":
		if !method(w, r, http.MethodPost) {
			return
		}
		roleCredentials(env, w, r)
	case strings.HasPrefix(path, "/_iamlocal/ec2/instances/"):
		id, sub, _ := strings.Cut(strings.TrimPrefix(path, "/_iamlocal/ec2/instances/"), "/")
		switch sub {
		case "":
			if method(w, r, http.MethodGet) {
				instanceMetadata(env, w, r, id)
			}
		case "credentials":
			if method(w, r, http.MethodPost) {
				instanceCredentials(env, w, r, id)
			}
		default:
			jsonError(w, http.StatusNotFound, "NotFound", "No such resource: %s", path)
		}
	default:
		jsonError(w, http.StatusNotFound, "NotFound", "No such resource: %s", path)
	}
}

func method(w http.ResponseWriter, r *http.Request, want string) bool {
	if r.Method == want {
		return true
	}
	w.Header().Set("Allow", want)
	jsonError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "%s takes %s, not %s", r.URL.Path, want, r.Method)
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"Code":"InternalFailure","Message":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(data)
}

// apiError is an answer of the internal API other than success.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newAPIError(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func jsonError(w http.ResponseWriter, status int, code, format string, args ...any) {
	writeJSON(w, status, newAPIError(status, code, format, args...))
}

// fail writes err: an apiError as it is, anything else as an internal failure
// without details.
func fail(w http.ResponseWriter, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		writeJSON(w, ae.Status, ae)
		return
	}
	jsonError(w, http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error")
}

// instanceDoc is what the internal API says of an instance.
type instanceDoc struct {
	InstanceID              string            `json:"InstanceId"`
	AccountID               string            `json:"AccountId"`
	Region                  string            `json:"Region"`
	AvailabilityZone        string            `json:"AvailabilityZone"`
	AvailabilityZoneID      string            `json:"AvailabilityZoneId"`
	InstanceType            string            `json:"InstanceType"`
	ImageID                 string            `json:"ImageId"`
	Architecture            string            `json:"Architecture"`
	PrivateIPAddress        string            `json:"PrivateIpAddress"`
	PrivateDNSName          string            `json:"PrivateDnsName"`
	MacAddress              string            `json:"MacAddress"`
	VpcID                   string            `json:"VpcId"`
	SubnetID                string            `json:"SubnetId"`
	SecurityGroups          []string          `json:"SecurityGroups"`
	SecurityGroupIDs        []string          `json:"SecurityGroupIds"`
	ReservationID           string            `json:"ReservationId"`
	AmiLaunchIndex          int               `json:"AmiLaunchIndex"`
	LaunchTime              string            `json:"LaunchTime"`
	State                   string            `json:"State"`
	HttpTokens              string            `json:"HttpTokens"`
	HttpEndpoint            string            `json:"HttpEndpoint"`
	HttpPutResponseHopLimit int               `json:"HttpPutResponseHopLimit"`
	HttpProtocolIpv6        string            `json:"HttpProtocolIpv6"`
	InstanceMetadataTags    string            `json:"InstanceMetadataTags"`
	Tags                    map[string]string `json:"Tags"`
	InstanceProfileArn      string            `json:"InstanceProfileArn"`
	InstanceProfileID       string            `json:"InstanceProfileId"`
	RoleName                string            `json:"RoleName"`
}

// readInstance reads any account's instance by id.
func readInstance(tx store.Tx, id string) (*instance, error) {
	if checkInstanceID(id) != nil {
		return nil, newAPIError(http.StatusNotFound, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	in := &instance{}
	ok, err := getJSON(tx, kindInstance, id, in)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, newAPIError(http.StatusNotFound, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	return in, nil
}

// instanceRole finds the role of an instance's profile; nil when it has none.
func instanceRole(env *service.Env, tx store.Tx, in *instance) (*directory.RoleTrust, error) {
	if in.Profile == nil {
		return nil, nil
	}
	arn := in.Profile.Arn
	var prof directory.InstanceProfile
	ok, err := getJSON(tx, directory.KindInstanceProfile, directory.NameKey(in.Account, arn[strings.LastIndexByte(arn, '/')+1:]), &prof)
	if err != nil || !ok || prof.Arn != arn || len(prof.Roles) == 0 {
		return nil, err
	}
	return env.Resolver.Role(tx, in.Account, prof.Roles[0])
}

func instanceMetadata(env *service.Env, w http.ResponseWriter, r *http.Request, id string) {
	var doc *instanceDoc
	err := env.Store.Read(r.Context(), func(tx store.Tx) error {
		in, err := readInstance(tx, id)
		if err != nil {
			return err
		}
		rt, err := instanceRole(env, tx, in)
		if err != nil {
			return err
		}
		doc = &instanceDoc{InstanceID: in.ID, AccountID: in.Account, Region: in.Region, AvailabilityZone: in.AvailabilityZone,
			AvailabilityZoneID: zoneID(in.Region, in.AvailabilityZone), InstanceType: in.InstanceType, ImageID: in.ImageID,
			Architecture: in.Architecture, PrivateIPAddress: in.PrivateIP, PrivateDNSName: in.privateDNS(),
			MacAddress: macAddress(in.ID), VpcID: in.VpcID, SubnetID: in.SubnetID, SecurityGroups: []string{"default"},
			SecurityGroupIDs: []string{in.SecurityGroupID}, ReservationID: in.ReservationID, AmiLaunchIndex: in.LaunchIndex,
			LaunchTime: in.LaunchTime.UTC().Format(time.RFC3339), State: in.State, HttpTokens: in.HttpTokens,
			HttpEndpoint: in.HttpEndpoint, HttpPutResponseHopLimit: in.HttpPutHopLimit, HttpProtocolIpv6: in.HttpProtocolIpv6,
			InstanceMetadataTags: in.InstanceMetadataTags, Tags: map[string]string{}}
		for _, t := range in.Tags {
			doc.Tags[t.Key] = t.Value
		}
		if in.Profile != nil {
			doc.InstanceProfileArn, doc.InstanceProfileID = in.Profile.Arn, in.Profile.PID
		}
		if rt != nil {
			doc.RoleName = rt.Role.Name
		}
		return nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func zoneID(r, zone string) string {
	for _, z := range zones(r) {
		if z.ZoneName == zone {
			return z.ZoneID
		}
	}
	return ""
}

// macAddress is the instance's (stable) primary network interface MAC address.
func macAddress(id string) string {
	h := stableHex(10, "mac", id)
	return "0e:" + h[0:2] + ":" + h[2:4] + ":" + h[4:6] + ":" + h[6:8] + ":" + h[8:10]
}

// credentialsDoc is the credentials document EC2's metadata service serves.
type credentialsDoc struct {
	Code            string `json:"Code"`
	LastUpdated     string `json:"LastUpdated"`
	Type            string `json:"Type"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
	RoleArn         string `json:"RoleArn"`
}

func instanceCredentials(env *service.Env, w http.ResponseWriter, r *http.Request, id string) {
	var doc *credentialsDoc
	err := env.Store.Read(r.Context(), func(tx store.Tx) error {
		in, err := readInstance(tx, id)
		if err != nil {
			return err
		}
		if in.State != stateRunning && in.State != statePending {
			return newAPIError(http.StatusConflict, "IncorrectInstanceState", "The instance '%s' is %s: only a running instance has credentials", in.ID, in.State)
		}
		rt, err := instanceRole(env, tx, in)
		if err != nil {
			return err
		}
		if rt == nil {
			return newAPIError(http.StatusNotFound, "NoRoleForInstance", "The instance '%s' has no instance profile with a role", in.ID)
		}
		doc, err = issueCredentials(env, rt, "ec2.amazonaws.com", in.ID, in.ID)
		return err
	})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func roleCredentials(env *service.Env, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	roleArn, svc, name := q.Get("roleArn"), q.Get("service"), q.Get("sessionName")
	if roleArn == "" {
		jsonError(w, http.StatusBadRequest, "MissingParameter", "The request must contain the parameter roleArn")
		return
	}
	if svc == "" {
		svc = "ec2.amazonaws.com"
	}
	if c, err := policy.ParseCaller(svc); err != nil || c.Kind != policy.ServicePrincipal {
		jsonError(w, http.StatusBadRequest, "InvalidParameterValue", "The service %q is not a service principal such as ec2.amazonaws.com", svc)
		return
	}
	if name == "" {
		name = "iamlocal-" + svc[:strings.IndexByte(svc, '.')]
	}
	if !sessionNameRE.MatchString(name) {
		jsonError(w, http.StatusBadRequest, "InvalidParameterValue", `The session name %q must be 2 to 64 characters of [\w+=,.@-]`, name)
		return
	}
	parts := strings.SplitN(roleArn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || len(parts[4]) != 12 || !strings.HasPrefix(parts[5], "role/") {
		jsonError(w, http.StatusBadRequest, "InvalidParameterValue", "%q is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)", roleArn)
		return
	}
	roleName := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
	var doc *credentialsDoc
	err := env.Store.Read(r.Context(), func(tx store.Tx) error {
		rt, err := env.Resolver.Role(tx, parts[4], roleName)
		if err != nil {
			return err
		}
		if rt == nil || rt.Role.Arn != roleArn {
			return newAPIError(http.StatusNotFound, "NoSuchEntity", "The role with name %s cannot be found.", roleName)
		}
		doc, err = issueCredentials(env, rt, svc, name, "")
		return err
	})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// issueCredentials asks the engine whether the role's trust policy lets the service
// assume it and, if so, seals a one-hour role session named sessionName.
func issueCredentials(env *service.Env, rt *directory.RoleTrust, svc, sessionName, instanceID string) (*credentialsDoc, error) {
	now := time.Now().UTC()
	role := &rt.Role
	ctx := policy.Context{}
	ctx.Set("aws:CurrentTime", now.Format(time.RFC3339))
	ctx.Set("aws:EpochTime", fmt.Sprint(now.Unix()))
	ctx.Set("aws:PrincipalServiceName", svc)
	ctx.Set("sts:RoleSessionName", sessionName)
	req := &policy.Request{Caller: policy.Caller{Kind: policy.ServicePrincipal, Arn: svc, Name: svc},
		Action: "sts:AssumeRole", Resource: role.Arn, ResourceAccount: role.Account, Context: ctx}
	req.Prepare()
	in := &authz.Input{Resource: rt.Trust, ResourceKind: authz.TrustPolicy}
	d := &authz.Decision{}
	authz.Decide(req, in, d)
	if !d.Allowed() {
		return nil, newAPIError(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s%s",
			svc, role.Arn, d.Reason("sts:AssumeRole"))
	}
	cl := &session.Claims{
		AccessKeyID: directory.NewAccessKeyID("ASIA", role.Account), Secret: directory.NewSecret(),
		Account: role.Account, Type: "AssumedRole",
		Arn:    fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", role.Account, role.Name, sessionName),
		UserID: role.ID + ":" + sessionName, PrincipalID: role.ID, RoleArn: role.Arn, RoleName: role.Name, SessionName: sessionName,
		ViaInstance: instanceID, IssuedAt: now, Expires: now.Add(instanceCredentialLifetime),
	}
	token, err := env.Ring.Seal(cl)
	if err != nil {
		return nil, err
	}
	return &credentialsDoc{Code: "Success", LastUpdated: now.Format(time.RFC3339), Type: "AWS-HMAC",
		AccessKeyID: cl.AccessKeyID, SecretAccessKey: cl.Secret, Token: token,
		Expiration: cl.Expires.Format(time.RFC3339), RoleArn: role.Arn}, nil
}
