// Command sdkcaller is aws-sdk-go-v2 as an unmodified program sees it: it loads the
// default configuration from the environment (credential chain, region,
// AWS_ENDPOINT_URL) and prints the caller's ARN. The end-to-end scripts run it with
// exactly the environment that iamlocal prints for a client.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdkcaller:", err)
		os.Exit(1)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdkcaller:", err)
		os.Exit(1)
	}
	fmt.Println(*out.Arn)
}
