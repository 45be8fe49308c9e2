package imds

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ECSConfig configures a container-credentials endpoint.
type ECSConfig struct {
	Backend Backend
	RoleArn string
	// Path is where credentials are served; empty means /v2/credentials/<random id>.
	Path string
	// AuthToken is the value the Authorization header must carry; empty means a
	// random one.
	AuthToken     string
	RefreshBefore time.Duration
	Now           func() time.Time
	Log           *slog.Logger
}

// ECS serves a role's credentials as ECS's container-credentials endpoint does: the
// AWS SDKs and CLI read AWS_CONTAINER_CREDENTIALS_FULL_URI and send
// AWS_CONTAINER_AUTHORIZATION_TOKEN as the Authorization header.
type ECS struct {
	path, token string
	roleArn     string
	account     string
	creds       *credCache
	log         *slog.Logger
}

// NewECS checks the role ARN and draws the path and token when not given.
func NewECS(cfg ECSConfig) (*ECS, error) {
	if cfg.Backend == nil {
		return nil, errors.New("imds: no backend")
	}
	_, account, _, err := ParseRoleArn(cfg.RoleArn)
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = DefaultRefreshBefore
	}
	if cfg.Path == "" {
		cfg.Path = "/v2/credentials/" + randomID()
	}
	if cfg.AuthToken == "" {
		b := make([]byte, 32)
		rand.Read(b)
		cfg.AuthToken = base64.RawURLEncoding.EncodeToString(b)
	}
	// The session is named after the endpoint's id (ECS names it after the task).
	session := strings.ReplaceAll(cfg.Path[strings.LastIndexByte(cfg.Path, '/')+1:], "-", "")
	if !validSessionName(session) {
		session = ""
	}
	fetch := func(ctx context.Context) (*Credentials, error) {
		return cfg.Backend.RoleCredentials(ctx, cfg.RoleArn, ECSService, session)
	}
	return &ECS{path: cfg.Path, token: cfg.AuthToken, roleArn: cfg.RoleArn, account: account,
		creds: newCredCache(fetch, cfg.Now, cfg.RefreshBefore, cfg.Log), log: cfg.Log}, nil
}

// Path is the credentials path (to append to the listener's URL).
func (e *ECS) Path() string { return e.path }

// AuthToken is the Authorization header value requests must carry.
func (e *ECS) AuthToken() string { return e.token }

// validSessionName: 2 to 64 characters of [\w+=,.@-], as STS wants.
func validSessionName(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_+=,.@-", c)) {
			return false
		}
	}
	return true
}

// randomID is a random UUID (version 4), the shape of ECS's credential ids.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexd[c>>4], hexd[c&0xf])
	}
	return string(out)
}

// ServeHTTP answers GET <path> with the role's credentials.
func (e *ECS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != e.path {
		ecsError(w, http.StatusNotFound, "NotFound", "no credentials at this path")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		ecsError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "use GET")
		return
	}
	auth := r.Header.Values("Authorization")
	if len(auth) != 1 || subtle.ConstantTimeCompare([]byte(auth[0]), []byte(e.token)) != 1 {
		ecsError(w, http.StatusUnauthorized, "AccessDenied", "the Authorization header does not carry this endpoint's token (AWS_CONTAINER_AUTHORIZATION_TOKEN)")
		return
	}
	c, err := e.creds.get(r.Context(), e.roleArn)
	if err != nil {
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Status < 500:
			e.log.Warn("no credentials for the role", "role", e.roleArn, "err", err)
			ecsError(w, ae.Status, ae.Code, ae.Message)
		default:
			e.log.Error("cannot obtain credentials", "role", e.roleArn, "err", err)
			ecsError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the iamlocal server did not answer")
		}
		return
	}
	roleArn := c.RoleArn
	if roleArn == "" {
		roleArn = e.roleArn
	}
	body, _ := json.Marshal(struct {
		RoleArn         string
		AccessKeyId     string
		SecretAccessKey string
		Token           string
		Expiration      string
		AccountId       string
	}{roleArn, c.AccessKeyId, c.SecretAccessKey, c.Token, awsTime(c.Expiration), e.account})
	writeJSON(w, http.StatusOK, body)
}

func ecsError(w http.ResponseWriter, status int, code, msg string) {
	body, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, msg})
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
