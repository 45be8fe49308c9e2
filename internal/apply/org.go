package apply

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// organization makes sure the caller's organization exists, with all features and the
// policy types the file uses enabled.
func (r *runner) organization(ctx context.Context) error {
	p := Pos{Line: 1}
	out, err := r.org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	switch {
	case errorCode(err) == "AWSOrganizationsNotInUseException":
		err = r.change(Change{Op: "create", Kind: "organization", Detail: "all features"}, func() error {
			_, err := r.org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll})
			return err
		})
		if err != nil {
			return r.fail(p, "create the organization", err)
		}
		if r.o.DryRun {
			r.orgID, r.rootID = placeholder("organization"), placeholder("root")
			return r.policyTypes(ctx)
		}
		if out, err = r.org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil {
			return r.fail(p, "describe the organization", err)
		}
	case err != nil:
		return r.fail(p, "describe the organization", err)
	}
	o := out.Organization
	r.orgID = aws.ToString(o.Id)
	if m := aws.ToString(o.MasterAccountId); m != r.caller {
		return r.fail(p, "organization "+r.orgID, fmt.Errorf("it is managed by account %s, not by the caller's account %s: run apply with the management account's credentials", m, r.caller))
	}
	if o.FeatureSet != orgtypes.OrganizationFeatureSetAll && len(r.w.SCPs)+len(r.w.RCPs) > 0 {
		return r.fail(p, "organization "+r.orgID, fmt.Errorf("it has only consolidated billing: SCPs and RCPs need all features enabled"))
	}
	roots, err := r.org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		return r.fail(p, "list the organization's roots", err)
	}
	if len(roots.Roots) == 0 {
		return r.fail(p, "organization "+r.orgID, fmt.Errorf("it has no root"))
	}
	root := roots.Roots[0]
	r.rootID = aws.ToString(root.Id)
	for _, t := range root.PolicyTypes {
		if t.Status == orgtypes.PolicyTypeStatusEnabled {
			r.enabled[string(t.Type)] = true
		}
	}
	return r.policyTypes(ctx)
}

// policyTypes enables SCPs and RCPs when the file declares some.
func (r *runner) policyTypes(ctx context.Context) error {
	for _, t := range []struct {
		typ  string
		list []*OrgPolicy
		p    Pos
	}{{"SERVICE_CONTROL_POLICY", r.w.SCPs, Pos{Path: "scps"}}, {"RESOURCE_CONTROL_POLICY", r.w.RCPs, Pos{Path: "rcps"}}} {
		if len(t.list) == 0 || r.enabled[t.typ] {
			continue
		}
		t.p.Line = t.list[0].Pos.Line
		err := r.change(Change{Op: "update", Kind: "organization", Detail: "enable policy type " + t.typ}, func() error {
			_, err := r.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(r.rootID), PolicyType: orgtypes.PolicyType(t.typ)})
			return err
		})
		if err != nil {
			return r.fail(t.p, "enable "+t.typ, err)
		}
		r.enabled[t.typ] = true
	}
	return nil
}

// ous creates the OUs the file declares that do not exist yet.
func (r *runner) ous(ctx context.Context) error {
	var walk func(parentID string, parentKnown bool, list []*OU) error
	walk = func(parentID string, parentKnown bool, list []*OU) error {
		existing := map[string]string{}
		if parentKnown {
			p := organizations.NewListOrganizationalUnitsForParentPaginator(r.org, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parentID)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return r.fail(list[0].Pos, "list the OUs under "+parentID, err)
				}
				for _, ou := range page.OrganizationalUnits {
					existing[aws.ToString(ou.Name)] = aws.ToString(ou.Id)
				}
			}
		}
		for _, ou := range list {
			id, known := existing[ou.Name]
			if !known {
				id = placeholder("ou " + ou.path)
				err := r.change(Change{Op: "create", Kind: "ou", Name: ou.path}, func() error {
					out, err := r.org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parentID), Name: aws.String(ou.Name)})
					if err == nil {
						id, known = aws.ToString(out.OrganizationalUnit.Id), true
					}
					return err
				})
				if err != nil {
					return r.fail(ou.Pos, "create OU "+ou.path, err)
				}
			}
			r.ouIDs[ou.path] = id
			if err := walk(id, known, ou.Children); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(r.rootID, !strings.HasPrefix(r.rootID, "<"), r.w.OUs)
}

// memberAccounts finds or creates the accounts the file declares and puts each under
// its OU.
func (r *runner) memberAccounts(ctx context.Context) error {
	if len(r.w.Accounts) == 0 {
		return nil
	}
	var all []orgtypes.Account
	if !strings.HasPrefix(r.orgID, "<") {
		p := organizations.NewListAccountsPaginator(r.org, &organizations.ListAccountsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return r.fail(r.w.Accounts[0].Pos, "list the organization's accounts", err)
			}
			all = append(all, page.Accounts...)
		}
	}
	for _, decl := range r.w.Accounts {
		a := &account{name: decl.Name, roleName: decl.Role, res: &decl.Resources, pos: decl.Pos}
		if a.roleName == "" {
			a.roleName = defaultRole
		}
		r.accounts[decl.Name] = a
		var found *orgtypes.Account
		for i := range all {
			if strings.EqualFold(aws.ToString(all[i].Email), decl.Email) {
				found = &all[i]
				break
			}
		}
		if found == nil {
			for i := range all {
				if aws.ToString(all[i].Name) == decl.Name {
					found = &all[i]
					break
				}
			}
		}
		if found != nil {
			a.id, a.exists = aws.ToString(found.Id), true
			if a.id == r.caller {
				return r.fail(decl.Pos, "account "+decl.Name, fmt.Errorf("that is the management account (%s): declare its resources under management:", a.id))
			}
			if name, email := aws.ToString(found.Name), aws.ToString(found.Email); name != decl.Name || !strings.EqualFold(email, decl.Email) {
				return r.fail(decl.Pos, "account "+decl.Name, fmt.Errorf("account %s is named %q with email %s, and apply cannot change either: make the file say the same", a.id, name, email))
			}
		} else if err := r.createAccount(ctx, decl, a); err != nil {
			return err
		}
		if err := r.place(ctx, decl, a); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) createAccount(ctx context.Context, decl *Account, a *account) error {
	a.id = placeholder("account " + decl.Name)
	c := Change{Op: "create", Kind: "account", Name: decl.Name, Detail: decl.Email}
	err := r.changeWith(&c, func() error {
		in := &organizations.CreateAccountInput{AccountName: aws.String(decl.Name), Email: aws.String(decl.Email)}
		if decl.Role != "" {
			in.RoleName = aws.String(decl.Role)
		}
		out, err := r.org.CreateAccount(ctx, in)
		if err != nil {
			return err
		}
		st := out.CreateAccountStatus
		wait := r.o.Poll
		for st.State == orgtypes.CreateAccountStateInProgress {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			wait = min(wait*2, 10*time.Second)
			d, err := r.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: st.Id})
			if err != nil {
				return err
			}
			st = d.CreateAccountStatus
		}
		if st.State != orgtypes.CreateAccountStateSucceeded {
			return fmt.Errorf("account creation %s: %s", st.State, st.FailureReason)
		}
		a.id, a.exists, a.fresh = aws.ToString(st.AccountId), true, true
		c.Detail += " → " + a.id
		return nil
	})
	if err != nil {
		return r.fail(decl.Pos, "create account "+decl.Name, err)
	}
	return nil
}

// place moves an account under the OU the file names (the root when it names none).
func (r *runner) place(ctx context.Context, decl *Account, a *account) error {
	want, wantLabel := r.rootID, "root"
	if decl.OU.Value != "" {
		path := strings.Trim(decl.OU.Value, "/")
		want, wantLabel = r.ouIDs[path], "ou "+path
	}
	have, haveLabel := r.rootID, "root"
	if a.exists {
		out, err := r.org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(a.id)})
		if err != nil {
			return r.fail(decl.Pos, "find the parent of account "+decl.Name, err)
		}
		if len(out.Parents) > 0 {
			have = aws.ToString(out.Parents[0].Id)
			haveLabel = r.ouLabel(have)
		}
	}
	if have == want {
		return nil
	}
	p := decl.Pos
	if decl.OU.Value != "" {
		p = decl.OU.Pos
	}
	err := r.change(Change{Op: "update", Kind: "account", Name: decl.Name, Detail: "move from " + haveLabel + " to " + wantLabel}, func() error {
		_, err := r.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(a.id), SourceParentId: aws.String(have), DestinationParentId: aws.String(want)})
		return err
	})
	if err != nil {
		return r.fail(p, "move account "+decl.Name, err)
	}
	return nil
}

// ouLabel names a parent for people.
func (r *runner) ouLabel(id string) string {
	if id == r.rootID {
		return "root"
	}
	for path, oid := range r.ouIDs {
		if oid == id {
			return "ou " + path
		}
	}
	return "ou " + id
}

// attachment is a policy to attach to, or detach from, a target.
type attachment struct {
	kind, policy, policyID string
	target, label          string
	pos                    Pos
}

// orgPolicies creates or updates the file's SCPs (or RCPs) and makes their targets
// the file's: the attachments are made first and the detachments last, so that a
// target never loses its last policy of a type on the way.
func (r *runner) orgPolicies(ctx context.Context, list []*OrgPolicy, typ, kind string) error {
	if len(list) == 0 {
		return nil
	}
	existing := map[string]orgtypes.PolicySummary{}
	if strings.HasPrefix(r.orgID, "<") {
		// A dry run for an organization that does not exist yet: only AWS's own
		// policies would be there, attached to nothing the file names yet.
		for name, k := range awsManagedOrgPolicies {
			if k == strings.ToUpper(kind) {
				existing[name] = orgtypes.PolicySummary{Id: aws.String(placeholder(name)), Name: aws.String(name), AwsManaged: true}
			}
		}
	}
	p := organizations.NewListPoliciesPaginator(r.org, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyType(typ)})
	for !strings.HasPrefix(r.orgID, "<") && p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return r.fail(list[0].Pos, "list the "+kind+"s", err)
		}
		for _, s := range page.Policies {
			existing[aws.ToString(s.Name)] = s
		}
	}
	var attach, detach []attachment
	for _, op := range list {
		s, exists := existing[op.Name]
		id := aws.ToString(s.Id)
		switch {
		case !exists && op.Document == nil:
			return r.fail(op.Pos, kind+" "+op.Name, fmt.Errorf("no such AWS managed policy"))
		case !exists:
			content, err := r.render(op.Document, nil)
			if err != nil {
				return err
			}
			id = placeholder(kind + " " + op.Name)
			err = r.change(Change{Op: "create", Kind: kind, Name: op.Name}, func() error {
				out, err := r.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String(op.Name), Type: orgtypes.PolicyType(typ),
					Content: aws.String(content), Description: aws.String(op.Description)})
				if err == nil {
					id = aws.ToString(out.Policy.PolicySummary.Id)
				}
				return err
			})
			if err != nil {
				return r.fail(op.Pos, "create "+kind+" "+op.Name, err)
			}
		case !s.AwsManaged:
			if err := r.updateOrgPolicy(ctx, op, id, kind); err != nil {
				return err
			}
		}
		want := map[string]attachment{}
		if t := op.Targets; t != nil {
			if t.Root {
				want[r.rootID] = attachment{target: r.rootID, label: "root", pos: t.Pos.at(".root", 0)}
			}
			for _, ref := range t.OUs {
				tid := ref.Value
				if id, ok := r.ouIDs[strings.Trim(ref.Value, "/")]; ok {
					tid = id
				}
				want[tid] = attachment{target: tid, label: "ou " + ref.Value, pos: ref.Pos}
			}
			for _, ref := range t.Accounts {
				tid := ref.Value
				if ref.Value == managementName {
					tid = r.caller
				} else if a, ok := r.accounts[ref.Value]; ok {
					tid = a.id
				}
				want[tid] = attachment{target: tid, label: "account " + ref.Value, pos: ref.Pos}
			}
		}
		have := map[string]string{}
		if exists && !strings.HasPrefix(id, "<") {
			tp := organizations.NewListTargetsForPolicyPaginator(r.org, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(id)})
			for tp.HasMorePages() {
				page, err := tp.NextPage(ctx)
				if err != nil {
					return r.fail(op.Pos, "list the targets of "+kind+" "+op.Name, err)
				}
				for _, t := range page.Targets {
					have[aws.ToString(t.TargetId)] = targetLabel(t)
				}
			}
		}
		for _, w := range want {
			if _, ok := have[w.target]; !ok {
				w.kind, w.policy, w.policyID = kind, op.Name, id
				attach = append(attach, w)
			}
		}
		for tid, label := range have {
			if _, ok := want[tid]; !ok {
				detach = append(detach, attachment{kind: kind, policy: op.Name, policyID: id, target: tid, label: label, pos: op.Pos})
			}
		}
	}
	sortAttachments(attach)
	sortAttachments(detach)
	for _, at := range attach {
		err := r.change(Change{Op: "create", Kind: at.kind, Name: at.policy, Detail: "attach to " + at.label}, func() error {
			_, err := r.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(at.policyID), TargetId: aws.String(at.target)})
			return err
		})
		if err != nil {
			return r.fail(at.pos, "attach "+at.kind+" "+at.policy+" to "+at.label, err)
		}
	}
	for _, at := range detach {
		err := r.change(Change{Op: "delete", Kind: at.kind, Name: at.policy, Detail: "detach from " + at.label}, func() error {
			_, err := r.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(at.policyID), TargetId: aws.String(at.target)})
			return err
		})
		if err != nil {
			return r.fail(at.pos, "detach "+at.kind+" "+at.policy+" from "+at.label, err)
		}
	}
	return nil
}

func (r *runner) updateOrgPolicy(ctx context.Context, op *OrgPolicy, id, kind string) error {
	out, err := r.org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
	if err != nil {
		return r.fail(op.Pos, "describe "+kind+" "+op.Name, err)
	}
	content, err := r.render(op.Document, nil)
	if err != nil {
		return err
	}
	in := &organizations.UpdatePolicyInput{PolicyId: aws.String(id)}
	var what []string
	if !sameDoc(aws.ToString(out.Policy.Content), content) {
		in.Content = aws.String(content)
		what = append(what, "document")
	}
	if aws.ToString(out.Policy.PolicySummary.Description) != op.Description {
		in.Description = aws.String(op.Description)
		what = append(what, "description")
	}
	if len(what) == 0 {
		return nil
	}
	err = r.change(Change{Op: "update", Kind: kind, Name: op.Name, Detail: strings.Join(what, ", ")}, func() error {
		_, err := r.org.UpdatePolicy(ctx, in)
		return err
	})
	if err != nil {
		return r.fail(op.Pos, "update "+kind+" "+op.Name, err)
	}
	return nil
}

func targetLabel(t orgtypes.PolicyTargetSummary) string {
	name := aws.ToString(t.Name)
	switch t.Type {
	case orgtypes.TargetTypeRoot:
		return "root"
	case orgtypes.TargetTypeOrganizationalUnit:
		return "ou " + name
	}
	return "account " + name
}

func sortAttachments(list []attachment) {
	sortBy(list, func(a attachment) string { return a.policy + "\x00" + a.label })
}
