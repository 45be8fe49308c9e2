package authz

import "fmt"

// reasonOrder is the layer AWS's message names when several blocked a request.
var reasonOrder = []Layer{AWSOwned, SCP, RCP, Endpoint, Resource, Identity, PermissionsBoundary, Session}

var layerPhrases = [...]string{
	SCP:                 "a service control policy",
	RCP:                 "a resource control policy",
	Resource:            "a resource-based policy",
	Identity:            "an identity-based policy",
	PermissionsBoundary: "a permissions boundary",
	Session:             "a session policy",
	Endpoint:            "a VPC endpoint policy",
	AWSOwned:            "a resource only AWS can change",
}

var layerNoAllow = [...]string{
	Resource:            "no resource-based policy",
	Identity:            "no identity-based policy",
	PermissionsBoundary: "no permissions boundary",
	Session:             "no session policy",
	Endpoint:            "no VPC endpoint policy",
	AWSOwned:            "",
}

// Phrase names the layer as AWS's messages do ("an identity-based policy").
func (l Layer) Phrase() string { return layerPhrases[l] }

// Reason completes AWS's AccessDenied message "User: … is not authorized to perform:
// ACTION on resource: …" with why, as AWS's enhanced messages do: " with an explicit
// deny in a service control policy" or " because no identity-based policy allows the
// ACTION action". It is empty for an allowed request.
func (d *Decision) Reason(action string) string {
	if d.Outcome == Allowed {
		return ""
	}
	for _, l := range reasonOrder {
		if !d.BlockedBy.Has(l) {
			continue
		}
		if l == AWSOwned {
			return " because only AWS can change that resource"
		}
		// AWS words an SCP or RCP that does not allow as an explicit deny.
		if d.Outcome == ExplicitDeny || l == SCP || l == RCP {
			return " with an explicit deny in " + l.Phrase()
		}
		return fmt.Sprintf(" because %s allows the %s action", layerNoAllow[l], action)
	}
	return fmt.Sprintf(" because no identity-based policy allows the %s action", action)
}
