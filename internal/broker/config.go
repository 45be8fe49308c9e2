// Package broker is iamlocal's client side: it loads AWS configuration the way the AWS
// CLI does (profiles, the standard credential chain, the endpoint from
// --endpoint-url, AWS_ENDPOINT_URL or the profile) and talks to iamlocal or to AWS
// itself with aws-sdk-go-v2.
package broker

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Options select a profile and an endpoint; empty fields mean the SDK's defaults.
type Options struct {
	Profile  string
	Endpoint string // --endpoint-url; the SDK also reads AWS_ENDPOINT_URL and endpoint_url
	Region   string
}

// Load returns the AWS configuration for opts.
func Load(ctx context.Context, opts Options) (aws.Config, error) {
	var fns []func(*config.LoadOptions) error
	if opts.Profile != "" {
		fns = append(fns, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		fns = append(fns, config.WithRegion(opts.Region))
	}
	if opts.Endpoint != "" {
		// Given at load time, the endpoint also reaches the STS client of a profile's
		// role_arn/source_profile chain.
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
