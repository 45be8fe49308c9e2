// Package ec2 is a thin Amazon EC2 plane over EC2's Query dialect (Version
// 2016-11-15): images, instances, tags, instance profiles and VPC endpoints, every
// call authorized by the engine, denials answered with encoded authorization messages.
package ec2

import "github.com/iamlocal/iamlocal/internal/service"

// Version is the EC2 API version the CLI and SDKs send.
const Version = "2016-11-15"

// Actions is the EC2 action table; each file of this package adds its actions.
var Actions = service.Table{}

func register(actions ...*service.Action) { Actions.Add(actions...) }

var _ = register
