package iam_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func tag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

// TestTagEveryKind runs Tag, List…Tags and Untag on each kind of taggable resource
// beyond users and roles.
func TestTagEveryKind(t *testing.T) {
	e := start(t)
	p := e.policy("tagged", allowAll)
	ok(e.root.CreateInstanceProfile(e.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip")}))(t)
	cert, key := testCert(t, "tags.example.com")
	ok(e.root.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("sc"), CertificateBody: &cert, PrivateKey: &key}))(t)
	kinds := []struct {
		name   string
		tag    func([]types.Tag) error
		untag  func([]string) error
		list   func() ([]types.Tag, error)
		absent func() error
	}{
		{"policy",
			func(tags []types.Tag) error {
				_, err := e.root.TagPolicy(e.ctx, &iam.TagPolicyInput{PolicyArn: p.Arn, Tags: tags})
				return err
			},
			func(keys []string) error {
				_, err := e.root.UntagPolicy(e.ctx, &iam.UntagPolicyInput{PolicyArn: p.Arn, TagKeys: keys})
				return err
			},
			func() ([]types.Tag, error) {
				out, err := e.root.ListPolicyTags(e.ctx, &iam.ListPolicyTagsInput{PolicyArn: p.Arn})
				if err != nil {
					return nil, err
				}
				return out.Tags, nil
			},
			func() error {
				_, err := e.root.ListPolicyTags(e.ctx, &iam.ListPolicyTagsInput{PolicyArn: aws.String("arn:aws:iam::111111111111:policy/none")})
				wantErr(t, err, "NoSuchEntity", 404, "Policy arn:aws:iam::111111111111:policy/none was not found.")
				return nil
			}},
		{"instance profile",
			func(tags []types.Tag) error {
				_, err := e.root.TagInstanceProfile(e.ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("ip"), Tags: tags})
				return err
			},
			func(keys []string) error {
				_, err := e.root.UntagInstanceProfile(e.ctx, &iam.UntagInstanceProfileInput{InstanceProfileName: aws.String("ip"), TagKeys: keys})
				return err
			},
			func() ([]types.Tag, error) {
				out, err := e.root.ListInstanceProfileTags(e.ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("ip")})
				if err != nil {
					return nil, err
				}
				return out.Tags, nil
			},
			func() error {
				_, err := e.root.ListInstanceProfileTags(e.ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("none")})
				wantErr(t, err, "NoSuchEntity", 404, "Instance Profile none cannot be found.")
				return nil
			}},
		{"server certificate",
			func(tags []types.Tag) error {
				_, err := e.root.TagServerCertificate(e.ctx, &iam.TagServerCertificateInput{ServerCertificateName: aws.String("sc"), Tags: tags})
				return err
			},
			func(keys []string) error {
				_, err := e.root.UntagServerCertificate(e.ctx, &iam.UntagServerCertificateInput{ServerCertificateName: aws.String("sc"), TagKeys: keys})
				return err
			},
			func() ([]types.Tag, error) {
				out, err := e.root.ListServerCertificateTags(e.ctx, &iam.ListServerCertificateTagsInput{ServerCertificateName: aws.String("sc")})
				if err != nil {
					return nil, err
				}
				return out.Tags, nil
			},
			func() error {
				_, err := e.root.ListServerCertificateTags(e.ctx, &iam.ListServerCertificateTagsInput{ServerCertificateName: aws.String("none")})
				wantErr(t, err, "NoSuchEntity", 404, "The Server Certificate with name none cannot be found.")
				return nil
			}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			ok(0, k.tag([]types.Tag{tag("team", "red"), tag("env", "dev")}))(t)
			ok(0, k.tag([]types.Tag{tag("TEAM", "blue")}))(t)
			tags := ok(k.list())(t)
			if len(tags) != 2 || aws.ToString(tags[0].Key) != "TEAM" || aws.ToString(tags[0].Value) != "blue" {
				t.Fatalf("tags: %+v", tags)
			}
			ok(0, k.untag([]string{"team"}))(t)
			if tags := ok(k.list())(t); len(tags) != 1 || aws.ToString(tags[0].Key) != "env" {
				t.Fatalf("after untag: %+v", tags)
			}
			k.absent()
		})
	}
	// AWS managed policies belong to AWS: they cannot be tagged, but their (empty)
	// tags can be listed.
	_, err := e.root.TagPolicy(e.ctx, &iam.TagPolicyInput{PolicyArn: aws.String(readOnly), Tags: []types.Tag{tag("a", "b")}})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:root is not authorized to perform: iam:TagPolicy on resource: policy "+readOnly)
	if tags := ok(e.root.ListPolicyTags(e.ctx, &iam.ListPolicyTagsInput{PolicyArn: aws.String(readOnly)}))(t).Tags; len(tags) != 0 {
		t.Fatalf("AWS managed policy tags: %+v", tags)
	}
	// The policy's tags are its resource tags in conditions.
	signer, _ := e.signer("reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListPolicyTags","Resource":"*",`+
		`"Condition":{"StringEquals":{"aws:ResourceTag/env":"dev"}}}]}`)
	ok(signer.ListPolicyTags(e.ctx, &iam.ListPolicyTagsInput{PolicyArn: p.Arn}))(t)
	other := e.policy("untagged", allowAll)
	_, err = signer.ListPolicyTags(e.ctx, &iam.ListPolicyTagsInput{PolicyArn: other.Arn})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/reader is not authorized to perform: iam:ListPolicyTags…")
	// So are a server certificate's, for its own actions.
	certReader, _ := e.signer("certs", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetServerCertificate","Resource":"*",`+
		`"Condition":{"StringEquals":{"iam:ResourceTag/env":"dev"}}}]}`)
	ok(certReader.GetServerCertificate(e.ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("sc")}))(t)
	ok(e.root.UntagServerCertificate(e.ctx, &iam.UntagServerCertificateInput{ServerCertificateName: aws.String("sc"), TagKeys: []string{"env"}}))(t)
	_, err = certReader.GetServerCertificate(e.ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("sc")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/certs is not authorized to perform: iam:GetServerCertificate on resource: arn:aws:iam::111111111111:server-certificate/sc…")
}

// TestTagValidation pins IAM's tag constraints: botocore's tagListType (at most
// 50), tagKeyType and tagValueType (lengths and patterns). IAM words these without
// the value (as LocalStack's IAM provider, checked against AWS, words them).
func TestTagValidation(t *testing.T) {
	e := start(t)
	e.user("u")
	tagUser := func(tags ...types.Tag) error {
		_, err := e.root.TagUser(e.ctx, &iam.TagUserInput{UserName: aws.String("u"), Tags: tags})
		return err
	}
	var many []types.Tag
	for i := range 51 {
		many = append(many, tag(fmt.Sprint("k", i), "v"))
	}
	wantErr(t, tagUser(many...), "ValidationError", 400,
		"1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	_, err := e.root.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("v"), Tags: many})
	wantErr(t, err, "ValidationError", 400,
		"1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	wantErr(t, tagUser(tag("bad#key", "v")), "ValidationError", 400,
		`1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
	wantErr(t, tagUser(tag("ok", "v"), tag("k", "bad*value")), "ValidationError", 400,
		`1 validation error detected: Value at 'tags.2.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
	wantErr(t, tagUser(tag(strings.Repeat("k", 129), strings.Repeat("v", 257))), "ValidationError", 400,
		"2 validation errors detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128; "+
			"Value at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
	// AWS reserves the aws: prefix, in any case.
	wantErr(t, tagUser(tag("AWS:team", "x")), "InvalidInput", 400, "Tag keys beginning with aws: are reserved for system use.")
	// Letters, spaces and numbers of any script pass.
	ok(0, tagUser(tag("Équipe née 2 ü", "valeur é:/=+-@")))(t)
	_, err = e.root.UntagUser(e.ctx, &iam.UntagUserInput{UserName: aws.String("u"), TagKeys: []string{"bad#key"}})
	wantErr(t, err, "ValidationError", 400, `1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: `+
		`[Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+, Member must not be null]`)
}

func TestUpdateGroup(t *testing.T) {
	e := start(t)
	e.group("devs")
	e.group("ops")
	e.user("ann")
	pol := e.policy("p", allowAll)
	ok(e.root.AddUserToGroup(e.ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("ann")}))(t)
	ok(e.root.AttachGroupPolicy(e.ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: pol.Arn}))(t)
	ok(e.root.PutGroupPolicy(e.ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("in"), PolicyDocument: aws.String(allowAll)}))(t)

	_, err := e.root.UpdateGroup(e.ctx, &iam.UpdateGroupInput{GroupName: aws.String("devs"), NewGroupName: aws.String("OPS")})
	wantErr(t, err, "EntityAlreadyExists", 409, "Group with name OPS already exists.")
	_, err = e.root.UpdateGroup(e.ctx, &iam.UpdateGroupInput{GroupName: aws.String("nope"), NewGroupName: aws.String("x")})
	wantErr(t, err, "NoSuchEntity", 404, "The group with name nope cannot be found.")

	ok(e.root.UpdateGroup(e.ctx, &iam.UpdateGroupInput{GroupName: aws.String("devs"), NewGroupName: aws.String("engineers"), NewPath: aws.String("/eng/")}))(t)
	g := ok(e.root.GetGroup(e.ctx, &iam.GetGroupInput{GroupName: aws.String("engineers")}))(t)
	if aws.ToString(g.Group.Arn) != "arn:aws:iam::111111111111:group/eng/engineers" || len(g.Users) != 1 || aws.ToString(g.Users[0].UserName) != "ann" {
		t.Fatalf("renamed group: %+v", g)
	}
	groups := ok(e.root.ListGroupsForUser(e.ctx, &iam.ListGroupsForUserInput{UserName: aws.String("ann")}))(t).Groups
	if len(groups) != 1 || aws.ToString(groups[0].GroupName) != "engineers" {
		t.Fatalf("user's groups: %+v", groups)
	}
	attached := ok(e.root.ListAttachedGroupPolicies(e.ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("engineers")}))(t).AttachedPolicies
	ents := ok(e.root.ListEntitiesForPolicy(e.ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: pol.Arn}))(t)
	inline := ok(e.root.ListGroupPolicies(e.ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String("engineers")}))(t).PolicyNames
	if len(attached) != 1 || len(ents.PolicyGroups) != 1 || aws.ToString(ents.PolicyGroups[0].GroupName) != "engineers" || len(inline) != 1 {
		t.Fatalf("policies after rename: %+v %+v %v", attached, ents.PolicyGroups, inline)
	}
	ok(e.root.RemoveUserFromGroup(e.ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("engineers"), UserName: aws.String("ann")}))(t)

	// The new name needs iam:UpdateGroup too.
	signer, _ := e.signer("admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:UpdateGroup","Resource":"arn:aws:iam::111111111111:group/ops"}]}`)
	_, err = signer.UpdateGroup(e.ctx, &iam.UpdateGroupInput{GroupName: aws.String("ops"), NewGroupName: aws.String("sre")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/admin is not authorized to perform: iam:UpdateGroup on resource: arn:aws:iam::111111111111:group/sre…")
}

func TestGetUserRoot(t *testing.T) {
	e := start(t)
	u := ok(e.root.GetUser(e.ctx, &iam.GetUserInput{}))(t).User
	if aws.ToString(u.UserId) != account || aws.ToString(u.Arn) != "arn:aws:iam::111111111111:root" || u.UserName != nil || u.CreateDate == nil {
		t.Fatalf("root user: %+v", u)
	}
}
