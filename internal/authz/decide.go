package authz

import "github.com/iamlocal/iamlocal/internal/policy"

// verdict is what one layer said about a request.
type verdict struct {
	allow bool                  // some Allow statement applied
	deny  bool                  // some Deny statement applied
	best  policy.PrincipalMatch // resource-side: the strongest way an Allow named the caller
}

// Decide evaluates req against the layers in in and writes the outcome to d.
// req must have been prepared (policy.Request.Prepare). Decide allocates nothing once
// d's slices have grown to size.
func Decide(req *policy.Request, in *Input, d *Decision) {
	d.Outcome, d.BlockedBy, d.Matched, d.Protected = ImplicitDeny, 0, d.Matched[:0], ""
	req.ResetMissing()
	c := &req.Caller
	c.HasBoundary = in.Boundary != nil

	principalSide := c.Kind != policy.Anonymous && c.Kind != policy.ServicePrincipal && c.Kind != policy.WebIdentity
	scpApplies := in.SCPs != nil && principalSide && !in.ManagementAccount && !in.ServiceLinkedRole
	rcpApplies := in.RCPs != nil && !in.ResourceManagement && !in.ServiceLinkedRole &&
		c.Kind != policy.ServicePrincipal && rcpCovers(req.Action)

	var denied Layers
	if NeedsNoPermission(req) {
		d.Outcome, d.Missing = Allowed, req.MissingKeys()
		return
	}
	scpOK := !scpApplies || d.levels(req, SCP, in.SCPs, &denied)
	rcpOK := !rcpApplies || d.levels(req, RCP, in.RCPs, &denied)
	rbp := d.layer(req, Resource, 0, 0, in.Resource, &denied)
	var id, pb, sp verdict
	if principalSide {
		for i, p := range in.Identity {
			id.merge(d.layer(req, Identity, 0, i, p, &denied))
		}
		pb = d.layer(req, PermissionsBoundary, 0, 0, in.Boundary, &denied)
		for i, p := range in.Session {
			sp.merge(d.layer(req, Session, 0, i, p, &denied))
		}
	}
	ep := d.layer(req, Endpoint, 0, 0, in.Endpoint, &denied)
	d.Missing = req.MissingKeys()

	if denied != 0 {
		d.Outcome, d.BlockedBy = ExplicitDeny, denied
		return
	}

	var blocked Layers
	if !scpOK {
		blocked.add(SCP)
	}
	if !rcpOK {
		blocked.add(RCP)
	}
	if in.Endpoint != nil && !ep.allow {
		blocked.add(Endpoint)
	}

	// The principal's own side: identity ∩ boundary ∩ session policies. The root user
	// has every permission of its account.
	var own Layers
	if c.Kind != policy.RootUser {
		if !id.allow {
			own.add(Identity)
		}
		if in.Boundary != nil && !pb.allow {
			own.add(PermissionsBoundary)
		}
		// A federated user's session always has a session policy; without one it has
		// no permissions (STS GetFederationToken).
		if (len(in.Session) > 0 || c.Kind == policy.FederatedUser) && !sp.allow {
			own.add(Session)
		}
	}
	// Boundary and session policies alone, which still limit a grant to the role ARN.
	limits := own &^ (1 << Identity)

	kind := in.ResourceKind
	if kind == AutoKind {
		kind = ResourcePolicy
		if IsTrustRequest(req.Action, req.Resource) {
			kind = TrustPolicy
		}
	}
	rbpGrants := rbp.best == policy.Direct || (rbp.best == policy.ByRole && limits == 0)

	switch {
	case !principalSide: // anonymous and service callers: only the resource can grant
		if !rbp.allow || rbp.best != policy.Direct {
			blocked.add(Resource)
		}
	case req.ResourceAccount == "" || c.Account == req.ResourceAccount:
		switch {
		case rbpGrants:
		case kind == ResourcePolicy:
			blocked |= own
		case !rbp.allow: // trust and key policies must allow the caller themselves
			blocked.add(Resource)
		default:
			blocked |= own
		}
	default: // cross-account: both sides must allow
		blocked |= own
		if !rbp.allow {
			blocked.add(Resource)
		}
	}

	if blocked == 0 {
		d.Outcome = Allowed
	}
	d.BlockedBy = blocked
}

// NeedsNoPermission reports a request that AWS allows whatever the policies say:
// sts:GetCallerIdentity by a signed caller, "No permissions are required to perform
// this operation. If an administrator attaches a policy to your identity that
// explicitly denies access to the sts:GetCallerIdentity action, you can still perform
// this operation" (STS API Reference, GetCallerIdentity).
func NeedsNoPermission(req *policy.Request) bool {
	return req.ActionIs("sts:getcalleridentity") && req.Caller.Kind != policy.Anonymous
}

func (v *verdict) merge(o verdict) {
	v.allow = v.allow || o.allow
	v.deny = v.deny || o.deny
	if o.best > v.best {
		v.best = o.best
	}
}

// levels evaluates SCP or RCP levels: each must allow. Denies are noted in denied.
func (d *Decision) levels(req *policy.Request, l Layer, levels [][]*policy.Policy, denied *Layers) bool {
	ok := true
	for lv, pols := range levels {
		allow := false
		for i, p := range pols {
			if d.layer(req, l, lv, i, p, denied).allow {
				allow = true
			}
		}
		ok = ok && allow
	}
	return ok
}

// layer evaluates one policy, recording the statements that applied.
func (d *Decision) layer(req *policy.Request, l Layer, level, index int, p *policy.Policy, denied *Layers) verdict {
	var v verdict
	if p == nil {
		return v
	}
	for i := range p.Statements {
		st := &p.Statements[i]
		ok, pm := st.Applies(req)
		if !ok {
			continue
		}
		d.Matched = append(d.Matched, Matched{Layer: l, Level: level, Policy: index, Statement: i, Sid: st.Sid, Effect: st.Effect, Principal: pm})
		if st.Effect == policy.Deny {
			v.deny = true
			denied.add(l)
			continue
		}
		v.allow = true
		if pm > v.best {
			v.best = pm
		}
	}
	return v
}
