package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// AssumeOptions are the AssumeRole parameters of `iamlocal exec` and friends.
type AssumeOptions struct {
	RoleArns       []string // assumed in order: each with the previous one's credentials
	ExternalID     string
	SessionName    string
	Duration       time.Duration
	SourceIdentity string
	Policy         string // session policy document
}

// Credentials are temporary credentials with their expiry.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// Assume assumes each role in turn, starting from cfg's credentials, and returns the
// last session's credentials. The ExternalId, policy and source identity go with
// every hop; AWS keeps the source identity through the chain anyway.
func Assume(ctx context.Context, cfg aws.Config, o AssumeOptions) (*Credentials, error) {
	if len(o.RoleArns) == 0 {
		return nil, fmt.Errorf("no role to assume")
	}
	name := o.SessionName
	if name == "" {
		name = fmt.Sprintf("iamlocal-%d", time.Now().Unix())
	}
	var out *Credentials
	for i, arn := range o.RoleArns {
		in := &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String(name)}
		if o.ExternalID != "" {
			in.ExternalId = aws.String(o.ExternalID)
		}
		if o.Duration > 0 {
			in.DurationSeconds = aws.Int32(int32(o.Duration / time.Second))
		}
		if o.SourceIdentity != "" {
			in.SourceIdentity = aws.String(o.SourceIdentity)
		}
		if o.Policy != "" {
			in.Policy = aws.String(o.Policy)
		}
		res, err := sts.NewFromConfig(cfg).AssumeRole(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("assume %s (hop %d of %d): %w", arn, i+1, len(o.RoleArns), err)
		}
		c := res.Credentials
		out = &Credentials{aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken), aws.ToTime(c.Expiration)}
		cfg = cfg.Copy()
		cfg.Credentials = credentials.NewStaticCredentialsProvider(out.AccessKeyID, out.SecretAccessKey, out.SessionToken)
	}
	return out, nil
}

// Current returns the credentials cfg resolves to (a profile's own role chain included).
func Current(ctx context.Context, cfg aws.Config) (*Credentials, error) {
	c, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	return &Credentials{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, c.Expires}, nil
}

// Env returns the environment variables that hand the credentials to a program.
func (c *Credentials) Env() []string {
	env := []string{"AWS_ACCESS_KEY_ID=" + c.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey}
	if c.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+c.SessionToken)
	}
	if !c.Expiration.IsZero() {
		env = append(env, "AWS_CREDENTIAL_EXPIRATION="+c.Expiration.UTC().Format(time.RFC3339))
	}
	return env
}

// CallerAccount returns the account of cfg's credentials (sts:GetCallerIdentity).
func CallerAccount(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Account), nil
}
