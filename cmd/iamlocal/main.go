// Command iamlocal is an AWS-compatible identity and cross-account access service.
package main

import (
	"os"

	"github.com/iamlocal/iamlocal/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
