package imds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Instance is an instance as the server's internal API describes it
// (GET /_iamlocal/ec2/instances/{id}, docs/imds.md). The fields after RoleName are
// sent by iamlocal's server beyond the documented minimum; each is optional.
type Instance struct {
	InstanceId              string
	AccountId               string
	Region                  string
	AvailabilityZone        string
	InstanceType            string
	ImageId                 string
	PrivateIpAddress        string
	LaunchTime              string
	State                   string
	HttpTokens              string
	HttpEndpoint            string
	HttpPutResponseHopLimit int
	InstanceProfileArn      string
	RoleName                string

	// InstanceProfileId is derived from InstanceProfileArn when absent.
	InstanceProfileId    string
	AvailabilityZoneId   string
	Architecture         string
	PrivateDnsName       string
	MacAddress           string
	VpcId                string
	SubnetId             string
	SecurityGroups       []string
	SecurityGroupIds     []string
	ReservationId        string
	AmiLaunchIndex       int
	InstanceMetadataTags string
	Tags                 map[string]string
}

// Credentials are a role's temporary credentials as the internal API issues them.
type Credentials struct {
	Code            string
	LastUpdated     time.Time
	Type            string
	AccessKeyId     string
	SecretAccessKey string
	Token           string
	Expiration      time.Time
	RoleArn         string
}

// LogValue keeps the secret and the token out of logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("AccessKeyId", c.AccessKeyId), slog.String("RoleArn", c.RoleArn),
		slog.Time("Expiration", c.Expiration))
}

// String keeps the secret and the token out of formatted output.
func (c Credentials) String() string {
	return fmt.Sprintf("{AccessKeyId:%s RoleArn:%s Expiration:%s}", c.AccessKeyId, c.RoleArn, c.Expiration.Format(time.RFC3339))
}

// APIError is an error answer of the internal API: {"Code": …, "Message": …}.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s (HTTP %d)", e.Code, e.Status)
	}
	return fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Message, e.Status)
}

// Backend is what the metadata service needs from the iamlocal server.
type Backend interface {
	Instance(ctx context.Context, instanceID string) (*Instance, error)
	InstanceCredentials(ctx context.Context, instanceID string) (*Credentials, error)
	// RoleCredentials: sessionName may be empty (the server then picks one).
	RoleCredentials(ctx context.Context, roleArn, service, sessionName string) (*Credentials, error)
}

// Client talks to the server's internal loopback API.
type Client struct {
	// Endpoint is the server's base URL, e.g. http://127.0.0.1:4577.
	Endpoint string
	// Token is the internal API's secret, sent as "Authorization: Bearer TOKEN"
	// (ReadToken reads it from the server's data directory).
	Token string
	// HTTP is the client to use; nil means a client with a 10 s timeout.
	HTTP *http.Client
}

// TokenFile is the file in the server's data directory (serve --data) that holds the
// internal API's secret; the server makes it on its first start.
const TokenFile = "internal-api-token"

// ReadToken reads the internal API's secret from the server's data directory.
func ReadToken(dataDir string) (string, error) {
	path := filepath.Join(dataDir, TokenFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the internal API's token: %w (is iamlocal serve using --data %s?)", err, dataDir)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return "", fmt.Errorf("the internal API's token file %s is empty (is iamlocal serve using --data %s?)", path, dataDir)
	}
	return tok, nil
}

var defaultHTTP = &http.Client{Timeout: 10 * time.Second}

// maxAPIBody bounds what is read from the internal API.
const maxAPIBody = 1 << 20

// Ping checks that the server answers (GET /_iamlocal/health).
func (c *Client) Ping(ctx context.Context) error {
	var health struct{ Status string }
	if err := c.do(ctx, http.MethodGet, "/_iamlocal/health", &health); err != nil {
		return err
	}
	if health.Status != "ok" {
		return fmt.Errorf("iamlocal server: health %q", health.Status)
	}
	return nil
}

// Instance returns the instance's metadata.
func (c *Client) Instance(ctx context.Context, instanceID string) (*Instance, error) {
	var inst Instance
	if err := c.do(ctx, http.MethodGet, "/_iamlocal/ec2/instances/"+url.PathEscape(instanceID), &inst); err != nil {
		return nil, err
	}
	return &inst, nil
}

// InstanceCredentials returns fresh credentials of the instance profile's role.
func (c *Client) InstanceCredentials(ctx context.Context, instanceID string) (*Credentials, error) {
	var cr Credentials
	if err := c.do(ctx, http.MethodPost, "/_iamlocal/ec2/instances/"+url.PathEscape(instanceID)+"/credentials", &cr); err != nil {
		return nil, err
	}
	return &cr, checkCredentials(&cr)
}

// RoleCredentials returns fresh credentials of a role that trusts the service
// principal, for a session named sessionName (optional; iamlocal's server accepts
// sessionName beyond the documented contract).
func (c *Client) RoleCredentials(ctx context.Context, roleArn, service, sessionName string) (*Credentials, error) {
	q := url.Values{"roleArn": {roleArn}, "service": {service}}
	if sessionName != "" {
		q.Set("sessionName", sessionName)
	}
	var cr Credentials
	if err := c.do(ctx, http.MethodPost, "/_iamlocal/roles/credentials?"+q.Encode(), &cr); err != nil {
		return nil, err
	}
	return &cr, checkCredentials(&cr)
}

func checkCredentials(cr *Credentials) error {
	if cr.AccessKeyId == "" || cr.SecretAccessKey == "" || cr.Expiration.IsZero() {
		return errors.New("internal API: credentials without AccessKeyId, SecretAccessKey or Expiration")
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Endpoint, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("iamlocal server: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody))
	if err != nil {
		return fmt.Errorf("iamlocal server: reading %s %s: %w", method, req.URL.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		ae := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(bytes.TrimSpace(body), ae) != nil || ae.Code == "" {
			ae.Code = strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "")
			ae.Message = strings.TrimSpace(string(body))
			if len(ae.Message) > 200 {
				ae.Message = ae.Message[:200]
			}
		}
		ae.Status = resp.StatusCode
		return ae
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("iamlocal server: %s %s: %w", method, req.URL.Path, err)
	}
	return nil
}
