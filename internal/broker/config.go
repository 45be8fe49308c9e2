// Package broker is iamlocal's client side: it loads AWS configuration the way the AWS
// CLI does (profiles, the standard credential chain, the endpoint from
// --endpoint-url, AWS_ENDPOINT_URL or the profile) and talks to iamlocal or to AWS
// itself with aws-sdk-go-v2.
package broker

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Options select a profile and an endpoint; empty fields mean the SDK's defaults.
type Options struct {
	Profile  string
	Endpoint string // --endpoint-url; the SDK also reads AWS_ENDPOINT_URL and endpoint_url
	Region   string
	// MFAToken answers the MFA code of a profile with mfa_serial (role_arn +
	// source_profile + mfa_serial, as the AWS CLI reads them); nil prompts on standard
	// error and reads standard input, as the AWS CLI does.
	MFAToken func() (string, error)
}

// Load returns the AWS configuration for opts.
func Load(ctx context.Context, opts Options) (aws.Config, error) {
	var fns []func(*config.LoadOptions) error
	token := opts.MFAToken
	if token == nil {
		token = promptMFA
	}
	fns = append(fns, config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) {
		if o.TokenProvider == nil {
			o.TokenProvider = token
		}
		if opts.Endpoint != "" {
			// The SDK resolves the endpoint after the credentials: the STS client of a
			// profile's role_arn/source_profile chain gets it here.
			o.Client = endpointClient{o.Client, opts.Endpoint}
		}
	}))
	if opts.Profile != "" {
		fns = append(fns, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		fns = append(fns, config.WithRegion(opts.Region))
	}
	if opts.Endpoint != "" {
		fns = append(fns, config.WithBaseEndpoint(opts.Endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, fns...)
	if err != nil {
		return aws.Config{}, err
	}
	if cfg.Region == "" {
		// IAM, STS and Organizations are global; a region is still needed to sign, and
		// by the STS client of a profile's role chain, so load again with one.
		cfg, err = config.LoadDefaultConfig(ctx, append(fns, config.WithRegion("us-east-1"))...)
		if err != nil {
			return aws.Config{}, err
		}
	}
	if opts.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(opts.Endpoint)
	}
	return cfg, nil
}

// promptMFA asks for the MFA code of a profile's mfa_serial on standard error and
// reads it from standard input, so that `iamlocal mfa code … | iamlocal exec --profile`
// works as a person typing it does.
func promptMFA() (string, error) {
	fmt.Fprint(os.Stderr, "Enter MFA code: ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading the MFA code: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// endpointClient sends a role profile's AssumeRole calls to an endpoint.
type endpointClient struct {
	stscreds.AssumeRoleAPIClient
	endpoint string
}

func (c endpointClient) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	return c.AssumeRoleAPIClient.AssumeRole(ctx, in, append(optFns, func(o *sts.Options) { o.BaseEndpoint = aws.String(c.endpoint) })...)
}
