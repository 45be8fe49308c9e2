package apply

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamlocal/iamlocal/internal/awsdata"
)

// resources makes account a's IAM entities and buckets the file's: OIDC providers and
// customer managed policies first (roles trust the ones, users, groups and roles
// attach the others), then users, groups (whose members are users), roles and buckets.
func (r *runner) resources(ctx context.Context, a *account) error {
	for _, p := range a.res.OIDCProviders {
		if err := r.oidcProvider(ctx, a, p); err != nil { // oidc.go
			return err
		}
	}
	for _, p := range a.res.SAMLProviders {
		if err := r.samlProvider(ctx, a, p); err != nil { // saml.go
			return err
		}
	}
	for _, mp := range a.res.Policies {
		if err := r.managedPolicy(ctx, a, mp); err != nil {
			return err
		}
	}
	for _, u := range a.res.Users {
		if err := r.user(ctx, a, u); err != nil {
			return err
		}
	}
	for _, g := range a.res.Groups {
		if err := r.group(ctx, a, g); err != nil {
			return err
		}
	}
	for _, ro := range a.res.Roles {
		if err := r.role(ctx, a, ro); err != nil {
			return err
		}
	}
	for _, b := range a.res.Buckets {
		if err := r.bucket(ctx, a, b); err != nil {
			return err
		}
	}
	return nil
}

// policyArn resolves a managed policy reference: an ARN as written, a policy the
// file declares in the same account, or else an AWS managed policy, whose path AWS's
// catalogue knows (AWSLambdaBasicExecutionRole is under /service-role/).
func (r *runner) policyArn(a *account, ref string) string {
	v := r.expand(ref, a)
	if strings.HasPrefix(v, "arn:") {
		return v
	}
	for _, mp := range a.res.Policies {
		if mp.Name == v {
			return r.customerArn(a, mp)
		}
	}
	if p, ok := awsdata.ManagedPolicy(v); ok {
		v = strings.TrimPrefix(p.Arn, awsdata.ManagedArnPrefix)
	}
	return fmt.Sprintf("arn:%s:iam::aws:policy/%s", r.partition, v)
}

func (r *runner) customerArn(a *account, mp *ManagedPolicy) string {
	return fmt.Sprintf("arn:%s:iam::%s:policy%s%s", r.partition, a.id, orRoot(mp.Path), mp.Name)
}

// policyLabel is how a managed policy is named in a change: the part after policy/.
func policyLabel(arn string) string {
	if _, after, ok := strings.Cut(arn, ":policy/"); ok {
		return after
	}
	return arn
}

func orRoot(path string) string {
	if path == "" {
		return "/"
	}
	return path
}

// decodeDoc undoes the URL encoding IAM gives policy documents in its answers.
func decodeDoc(s *string) string {
	v := aws.ToString(s)
	if d, err := url.QueryUnescape(v); err == nil {
		return d
	}
	return v
}

func (r *runner) managedPolicy(ctx context.Context, a *account, mp *ManagedPolicy) error {
	arn := r.customerArn(a, mp)
	doc, err := r.render(mp.Document, a)
	if err != nil {
		return err
	}
	ch := Change{Account: a.name, Kind: "policy", Name: mp.Name}
	var cur *iamtypes.Policy
	if a.exists {
		out, err := a.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		switch {
		case errorCode(err) == "NoSuchEntity":
		case err != nil:
			return r.fail(mp.Pos, "read policy "+mp.Name, err)
		default:
			cur = out.Policy
		}
	}
	if cur == nil {
		ch.Op = "create"
		err := r.change(ch, func() error {
			in := &iam.CreatePolicyInput{PolicyName: aws.String(mp.Name), Path: aws.String(orRoot(mp.Path)), PolicyDocument: aws.String(doc)}
			if mp.Description != "" {
				in.Description = aws.String(mp.Description)
			}
			_, err := a.iam.CreatePolicy(ctx, in)
			return err
		})
		if err != nil {
			return r.fail(mp.Pos, "create policy "+mp.Name, err)
		}
		return nil
	}
	if aws.ToString(cur.Description) != mp.Description {
		r.o.Note(fmt.Sprintf("%s:%d: %s: policy %s keeps its description %q: IAM sets a managed policy's description only when it is created",
			r.w.File, mp.Pos.Line, mp.Pos.Path, mp.Name, aws.ToString(cur.Description)))
	}
	v, err := a.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: cur.DefaultVersionId})
	if err != nil {
		return r.fail(mp.Pos, "read policy "+mp.Name, err)
	}
	if sameDoc(decodeDoc(v.PolicyVersion.Document), doc) {
		return nil
	}
	ch.Op, ch.Detail = "update", "new default version"
	err = r.changeWith(&ch, func() error {
		// IAM keeps five versions: make room by deleting the oldest that is not the default.
		vs, err := a.iam.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
		if err != nil {
			return err
		}
		if len(vs.Versions) >= 5 {
			var oldest *iamtypes.PolicyVersion
			for i := range vs.Versions {
				v := &vs.Versions[i]
				if !v.IsDefaultVersion && (oldest == nil || aws.ToTime(v.CreateDate).Before(aws.ToTime(oldest.CreateDate))) {
					oldest = v
				}
			}
			if oldest != nil {
				if _, err := a.iam.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: oldest.VersionId}); err != nil {
					return err
				}
				ch.Detail += " (version " + aws.ToString(oldest.VersionId) + " deleted: IAM keeps five)"
			}
		}
		_, err = a.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc), SetAsDefault: true})
		return err
	})
	if err != nil {
		return r.fail(mp.Pos, "update policy "+mp.Name, err)
	}
	return nil
}

// entityAPI is the part of IAM's API that users, groups and roles share.
type entityAPI struct {
	kind, name   string
	listInline   func(ctx context.Context) ([]string, error)
	getInline    func(ctx context.Context, policy string) (string, error)
	putInline    func(ctx context.Context, policy, doc string) error
	deleteInline func(ctx context.Context, policy string) error
	listAttached func(ctx context.Context) ([]string, error)
	attach       func(ctx context.Context, arn string) error
	detach       func(ctx context.Context, arn string) error
}

func userAPI(c *iam.Client, name string) *entityAPI {
	n := aws.String(name)
	return &entityAPI{kind: "user", name: name,
		listInline: func(ctx context.Context) ([]string, error) {
			var out []string
			err := drain(ctx, iam.NewListUserPoliciesPaginator(c, &iam.ListUserPoliciesInput{UserName: n}), func(page *iam.ListUserPoliciesOutput) {
				out = append(out, page.PolicyNames...)
			})
			return out, err
		},
		getInline: func(ctx context.Context, policy string) (string, error) {
			out, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: n, PolicyName: aws.String(policy)})
			if err != nil {
				return "", err
			}
			return decodeDoc(out.PolicyDocument), nil
		},
		putInline: func(ctx context.Context, policy, doc string) error {
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: n, PolicyName: aws.String(policy), PolicyDocument: aws.String(doc)})
			return err
		},
		deleteInline: func(ctx context.Context, policy string) error {
			_, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: n, PolicyName: aws.String(policy)})
			return err
		},
		listAttached: func(ctx context.Context) ([]string, error) {
			var out []string
			err := drain(ctx, iam.NewListAttachedUserPoliciesPaginator(c, &iam.ListAttachedUserPoliciesInput{UserName: n}), func(page *iam.ListAttachedUserPoliciesOutput) {
				for _, ap := range page.AttachedPolicies {
					out = append(out, aws.ToString(ap.PolicyArn))
				}
			})
			return out, err
		},
		attach: func(ctx context.Context, arn string) error {
			_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: n, PolicyArn: aws.String(arn)})
			return err
		},
		detach: func(ctx context.Context, arn string) error {
			_, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: n, PolicyArn: aws.String(arn)})
			return err
		},
	}
}

func groupAPI(c *iam.Client, name string) *entityAPI {
	n := aws.String(name)
	return &entityAPI{kind: "group", name: name,
		listInline: func(ctx context.Context) ([]string, error) {
			var out []string
			err := drain(ctx, iam.NewListGroupPoliciesPaginator(c, &iam.ListGroupPoliciesInput{GroupName: n}), func(page *iam.ListGroupPoliciesOutput) {
				out = append(out, page.PolicyNames...)
			})
			return out, err
		},
		getInline: func(ctx context.Context, policy string) (string, error) {
			out, err := c.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: n, PolicyName: aws.String(policy)})
			if err != nil {
				return "", err
			}
			return decodeDoc(out.PolicyDocument), nil
		},
		putInline: func(ctx context.Context, policy, doc string) error {
			_, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: n, PolicyName: aws.String(policy), PolicyDocument: aws.String(doc)})
			return err
		},
		deleteInline: func(ctx context.Context, policy string) error {
			_, err := c.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: n, PolicyName: aws.String(policy)})
			return err
		},
		listAttached: func(ctx context.Context) ([]string, error) {
			var out []string
			err := drain(ctx, iam.NewListAttachedGroupPoliciesPaginator(c, &iam.ListAttachedGroupPoliciesInput{GroupName: n}), func(page *iam.ListAttachedGroupPoliciesOutput) {
				for _, ap := range page.AttachedPolicies {
					out = append(out, aws.ToString(ap.PolicyArn))
				}
			})
			return out, err
		},
		attach: func(ctx context.Context, arn string) error {
			_, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: n, PolicyArn: aws.String(arn)})
			return err
		},
		detach: func(ctx context.Context, arn string) error {
			_, err := c.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: n, PolicyArn: aws.String(arn)})
			return err
		},
	}
}

func roleAPI(c *iam.Client, name string) *entityAPI {
	n := aws.String(name)
	return &entityAPI{kind: "role", name: name,
		listInline: func(ctx context.Context) ([]string, error) {
			var out []string
			err := drain(ctx, iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: n}), func(page *iam.ListRolePoliciesOutput) {
				out = append(out, page.PolicyNames...)
			})
			return out, err
		},
		getInline: func(ctx context.Context, policy string) (string, error) {
			out, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: n, PolicyName: aws.String(policy)})
			if err != nil {
				return "", err
			}
			return decodeDoc(out.PolicyDocument), nil
		},
		putInline: func(ctx context.Context, policy, doc string) error {
			_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: n, PolicyName: aws.String(policy), PolicyDocument: aws.String(doc)})
			return err
		},
		deleteInline: func(ctx context.Context, policy string) error {
			_, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: n, PolicyName: aws.String(policy)})
			return err
		},
		listAttached: func(ctx context.Context) ([]string, error) {
			var out []string
			err := drain(ctx, iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: n}), func(page *iam.ListAttachedRolePoliciesOutput) {
				for _, ap := range page.AttachedPolicies {
					out = append(out, aws.ToString(ap.PolicyArn))
				}
			})
			return out, err
		},
		attach: func(ctx context.Context, arn string) error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: n, PolicyArn: aws.String(arn)})
			return err
		},
		detach: func(ctx context.Context, arn string) error {
			_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: n, PolicyArn: aws.String(arn)})
			return err
		},
	}
}

// policies makes an entity's inline policies and attached managed policies the
// file's: missing ones are put or attached, different ones replaced, and those the
// file does not list deleted or detached. existed is false for an entity created in
// this run (nothing to read).
func (r *runner) policies(ctx context.Context, a *account, api *entityAPI, e *Entity, p Pos, existed bool) error {
	ch := func(op, detail string) Change {
		return Change{Op: op, Account: a.name, Kind: api.kind, Name: api.name, Detail: detail}
	}
	var haveInline []string
	if existed {
		var err error
		if haveInline, err = api.listInline(ctx); err != nil {
			return r.fail(p, fmt.Sprintf("list the inline policies of %s %s", api.kind, api.name), err)
		}
	}
	has := map[string]bool{}
	for _, n := range haveInline {
		has[n] = true
	}
	for _, nd := range e.InlinePolicies {
		doc, err := r.render(nd.Doc, a)
		if err != nil {
			return err
		}
		op := "create"
		if has[nd.Name] {
			cur, err := api.getInline(ctx, nd.Name)
			if err != nil {
				return r.fail(nd.Doc.Pos, fmt.Sprintf("read inline policy %s of %s %s", nd.Name, api.kind, api.name), err)
			}
			if sameDoc(cur, doc) {
				continue
			}
			op = "update"
		}
		err = r.change(ch(op, "inline policy "+nd.Name), func() error { return api.putInline(ctx, nd.Name, doc) })
		if err != nil {
			return r.fail(nd.Doc.Pos, fmt.Sprintf("put inline policy %s on %s %s", nd.Name, api.kind, api.name), err)
		}
	}
	want := map[string]bool{}
	for _, nd := range e.InlinePolicies {
		want[nd.Name] = true
	}
	for _, n := range haveInline {
		if want[n] {
			continue
		}
		err := r.change(ch("delete", "inline policy "+n), func() error { return api.deleteInline(ctx, n) })
		if err != nil {
			return r.fail(p, fmt.Sprintf("delete inline policy %s of %s %s", n, api.kind, api.name), err)
		}
	}

	var haveAttached []string
	if existed {
		var err error
		if haveAttached, err = api.listAttached(ctx); err != nil {
			return r.fail(p, fmt.Sprintf("list the managed policies of %s %s", api.kind, api.name), err)
		}
	}
	wantArns := map[string]bool{}
	for _, ref := range e.ManagedPolicies {
		wantArns[r.policyArn(a, ref.Value)] = true
	}
	attached := map[string]bool{}
	// Detach first: IAM allows ten attached policies, so a swap at the limit
	// needs the room.
	for _, arn := range haveAttached {
		attached[arn] = true
		if wantArns[arn] {
			continue
		}
		err := r.change(ch("delete", "detach "+policyLabel(arn)), func() error { return api.detach(ctx, arn) })
		if err != nil {
			return r.fail(p, fmt.Sprintf("detach %s from %s %s", arn, api.kind, api.name), err)
		}
	}
	for _, ref := range e.ManagedPolicies {
		arn := r.policyArn(a, ref.Value)
		if attached[arn] {
			continue
		}
		err := r.change(ch("create", "attach "+policyLabel(arn)), func() error { return api.attach(ctx, arn) })
		if err != nil {
			return r.fail(ref.Pos, fmt.Sprintf("attach %s to %s %s", arn, api.kind, api.name), err)
		}
	}
	return nil
}

// boundary sets, replaces or removes a permissions boundary.
func (r *runner) boundary(a *account, kind, name, have, want string, p Pos, put, del func() error) error {
	if have == want {
		return nil
	}
	c := Change{Op: "update", Account: a.name, Kind: kind, Name: name, Detail: "permissions boundary " + policyLabel(want)}
	do := put
	switch {
	case want == "":
		c.Op, c.Detail, do = "delete", "permissions boundary "+policyLabel(have), del
	case have == "":
		c.Op = "create"
	}
	if err := r.change(c, do); err != nil {
		return r.fail(p, fmt.Sprintf("set the permissions boundary of %s %s", kind, name), err)
	}
	return nil
}

func (r *runner) user(ctx context.Context, a *account, u *User) error {
	path := orRoot(u.Path)
	var boundary string
	if u.PermissionsBoundary.Value != "" {
		boundary = r.policyArn(a, u.PermissionsBoundary.Value)
	}
	var cur *iamtypes.User
	if a.exists {
		out, err := a.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(u.Name)})
		switch {
		case errorCode(err) == "NoSuchEntity":
		case err != nil:
			return r.fail(u.Pos, "read user "+u.Name, err)
		default:
			cur = out.User
		}
	}
	existed := cur != nil
	if !existed {
		c := Change{Op: "create", Account: a.name, Kind: "user", Name: u.Name}
		if boundary != "" {
			c.Detail = "permissions boundary " + policyLabel(boundary)
		}
		err := r.change(c, func() error {
			in := &iam.CreateUserInput{UserName: aws.String(u.Name), Path: aws.String(path)}
			if boundary != "" {
				in.PermissionsBoundary = aws.String(boundary)
			}
			_, err := a.iam.CreateUser(ctx, in)
			return err
		})
		if err != nil {
			return r.fail(u.Pos, "create user "+u.Name, err)
		}
	} else {
		if aws.ToString(cur.Path) != path {
			err := r.change(Change{Op: "update", Account: a.name, Kind: "user", Name: u.Name, Detail: "path " + path}, func() error {
				_, err := a.iam.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String(u.Name), NewPath: aws.String(path)})
				return err
			})
			if err != nil {
				return r.fail(u.Pos, "update user "+u.Name, err)
			}
		}
		var have string
		if cur.PermissionsBoundary != nil {
			have = aws.ToString(cur.PermissionsBoundary.PermissionsBoundaryArn)
		}
		err := r.boundary(a, "user", u.Name, have, boundary, u.Pos,
			func() error {
				_, err := a.iam.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String(u.Name), PermissionsBoundary: aws.String(boundary)})
				return err
			},
			func() error {
				_, err := a.iam.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String(u.Name)})
				return err
			})
		if err != nil {
			return err
		}
	}
	if err := r.policies(ctx, a, userAPI(a.iam, u.Name), &u.Entity, u.Pos, existed); err != nil {
		return err
	}
	if u.AccessKey.wanted() {
		return r.accessKey(ctx, a, u, existed)
	}
	return nil
}

// accessKey gives a user an access key when it has none, and writes the new key to
// the credentials file: the secret is shown only once, so only keys created in this
// run can be written.
func (r *runner) accessKey(ctx context.Context, a *account, u *User, existed bool) error {
	profile := u.profile(a.name)
	if existed {
		out, err := a.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(u.Name)})
		if err != nil {
			return r.fail(u.AccessKey.Pos, "list the access keys of user "+u.Name, err)
		}
		if len(out.AccessKeyMetadata) > 0 {
			written := readProfileKey(r.credFile, profile)
			for _, k := range out.AccessKeyMetadata {
				if aws.ToString(k.AccessKeyId) == written {
					return nil
				}
			}
			r.o.Note(fmt.Sprintf("%s:%d: %s: user %s already has access key %s, whose secret AWS showed only when it was created, so it is not in %s [%s]: delete the key (aws iam delete-access-key) and apply again for a new one",
				r.w.File, u.AccessKey.Pos.Line, u.AccessKey.Pos.Path, u.Name, aws.ToString(out.AccessKeyMetadata[0].AccessKeyId), r.credFile, profile))
			return nil
		}
	}
	c := Change{Op: "create", Account: a.name, Kind: "user", Name: u.Name, Detail: fmt.Sprintf("access key (written to %s [%s])", r.credFile, profile)}
	err := r.change(c, func() error {
		out, err := a.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(u.Name)})
		if err != nil {
			return err
		}
		k := out.AccessKey
		if err := writeProfile(r.credFile, profile, aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey)); err != nil {
			return fmt.Errorf("access key %s was created but could not be written (delete it and apply again): %w", aws.ToString(k.AccessKeyId), err)
		}
		r.res.Keys = append(r.res.Keys, Key{Account: a.name, User: u.Name, Profile: profile, AccessKeyID: aws.ToString(k.AccessKeyId)})
		return nil
	})
	if err != nil {
		return r.fail(u.AccessKey.Pos, "create an access key for user "+u.Name, err)
	}
	return nil
}

func (r *runner) group(ctx context.Context, a *account, g *Group) error {
	path := orRoot(g.Path)
	var cur *iamtypes.Group
	var members []string
	if a.exists {
		p := iam.NewGetGroupPaginator(a.iam, &iam.GetGroupInput{GroupName: aws.String(g.Name)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if errorCode(err) == "NoSuchEntity" {
				break
			}
			if err != nil {
				return r.fail(g.Pos, "read group "+g.Name, err)
			}
			cur = page.Group
			for _, u := range page.Users {
				members = append(members, aws.ToString(u.UserName))
			}
		}
	}
	existed := cur != nil
	if !existed {
		err := r.change(Change{Op: "create", Account: a.name, Kind: "group", Name: g.Name}, func() error {
			_, err := a.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(g.Name), Path: aws.String(path)})
			return err
		})
		if err != nil {
			return r.fail(g.Pos, "create group "+g.Name, err)
		}
	} else if have := aws.ToString(cur.Path); have != path {
		return r.fail(g.Pos.at(".path", 0), "group "+g.Name, fmt.Errorf("it exists with path %s, and apply does not move groups: delete it, or write path: %s", have, have))
	}
	if err := r.policies(ctx, a, groupAPI(a.iam, g.Name), &g.Entity, g.Pos, existed); err != nil {
		return err
	}
	has := map[string]bool{}
	for _, m := range members {
		has[m] = true
	}
	want := map[string]bool{}
	for _, m := range g.Members {
		want[m.Value] = true
		if has[m.Value] {
			continue
		}
		err := r.change(Change{Op: "create", Account: a.name, Kind: "group", Name: g.Name, Detail: "add member " + m.Value}, func() error {
			_, err := a.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(g.Name), UserName: aws.String(m.Value)})
			return err
		})
		if err != nil {
			return r.fail(m.Pos, fmt.Sprintf("add user %s to group %s", m.Value, g.Name), err)
		}
	}
	for _, m := range members {
		if want[m] {
			continue
		}
		err := r.change(Change{Op: "delete", Account: a.name, Kind: "group", Name: g.Name, Detail: "remove member " + m}, func() error {
			_, err := a.iam.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String(g.Name), UserName: aws.String(m)})
			return err
		})
		if err != nil {
			return r.fail(g.Pos, fmt.Sprintf("remove user %s from group %s", m, g.Name), err)
		}
	}
	return nil
}

func (r *runner) role(ctx context.Context, a *account, ro *Role) error {
	path := orRoot(ro.Path)
	trust, err := r.render(ro.TrustPolicy, a)
	if err != nil {
		return err
	}
	maxSession := int32(ro.MaxSessionDuration)
	if maxSession == 0 {
		maxSession = 3600
	}
	var boundary string
	if ro.PermissionsBoundary.Value != "" {
		boundary = r.policyArn(a, ro.PermissionsBoundary.Value)
	}
	var cur *iamtypes.Role
	if a.exists {
		out, err := a.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(ro.Name)})
		switch {
		case errorCode(err) == "NoSuchEntity":
		case err != nil:
			return r.fail(ro.Pos, "read role "+ro.Name, err)
		default:
			cur = out.Role
		}
	}
	existed := cur != nil
	if !existed {
		c := Change{Op: "create", Account: a.name, Kind: "role", Name: ro.Name}
		if boundary != "" {
			c.Detail = "permissions boundary " + policyLabel(boundary)
		}
		err := r.change(c, func() error {
			in := &iam.CreateRoleInput{RoleName: aws.String(ro.Name), Path: aws.String(path), AssumeRolePolicyDocument: aws.String(trust),
				MaxSessionDuration: aws.Int32(maxSession)}
			if ro.Description != "" {
				in.Description = aws.String(ro.Description)
			}
			if boundary != "" {
				in.PermissionsBoundary = aws.String(boundary)
			}
			_, err := a.iam.CreateRole(ctx, in)
			return err
		})
		if err != nil {
			return r.fail(ro.Pos, "create role "+ro.Name, err)
		}
	} else {
		if have := aws.ToString(cur.Path); have != path {
			return r.fail(ro.Pos.at(".path", 0), "role "+ro.Name, fmt.Errorf("it exists with path %s, and IAM cannot move a role: delete it, or write path: %s", have, have))
		}
		if !sameDoc(decodeDoc(cur.AssumeRolePolicyDocument), trust) {
			err := r.change(Change{Op: "update", Account: a.name, Kind: "role", Name: ro.Name, Detail: "trust policy"}, func() error {
				_, err := a.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(ro.Name), PolicyDocument: aws.String(trust)})
				return err
			})
			if err != nil {
				return r.fail(ro.TrustPolicy.Pos, "update the trust policy of role "+ro.Name, err)
			}
		}
		var what []string
		if aws.ToString(cur.Description) != ro.Description {
			what = append(what, "description")
		}
		if aws.ToInt32(cur.MaxSessionDuration) != maxSession {
			what = append(what, fmt.Sprintf("max session duration %ds", maxSession))
		}
		if len(what) > 0 {
			err := r.change(Change{Op: "update", Account: a.name, Kind: "role", Name: ro.Name, Detail: strings.Join(what, ", ")}, func() error {
				_, err := a.iam.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String(ro.Name), Description: aws.String(ro.Description), MaxSessionDuration: aws.Int32(maxSession)})
				return err
			})
			if err != nil {
				return r.fail(ro.Pos, "update role "+ro.Name, err)
			}
		}
		var have string
		if cur.PermissionsBoundary != nil {
			have = aws.ToString(cur.PermissionsBoundary.PermissionsBoundaryArn)
		}
		err := r.boundary(a, "role", ro.Name, have, boundary, ro.Pos,
			func() error {
				_, err := a.iam.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String(ro.Name), PermissionsBoundary: aws.String(boundary)})
				return err
			},
			func() error {
				_, err := a.iam.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String(ro.Name)})
				return err
			})
		if err != nil {
			return err
		}
	}
	return r.policies(ctx, a, roleAPI(a.iam, ro.Name), &ro.Entity, ro.Pos, existed)
}

// pager is what aws-sdk-go-v2's IAM paginators share.
type pager[O any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*iam.Options)) (O, error)
}

// drain hands every page of a paginator to take.
func drain[O any](ctx context.Context, p pager[O], take func(O)) error {
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		take(page)
	}
	return nil
}
