package organizations_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

func TestOrganizationalUnits(t *testing.T) {
	f := newOrg(t)
	out, err := f.org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: &f.root, Name: aws.String("Prod"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
	if err != nil {
		t.Fatal(err)
	}
	prod := aws.ToString(out.OrganizationalUnit.Id)
	suffix := strings.TrimPrefix(f.root, "r-")
	if !regexp.MustCompile(`^ou-`+suffix+`-[a-z0-9]{8}$`).MatchString(prod) ||
		aws.ToString(out.OrganizationalUnit.Arn) != "arn:aws:organizations::111111111111:ou/"+f.id+"/"+prod ||
		aws.ToString(out.OrganizationalUnit.Path) != f.id+"/"+f.root+"/"+prod+"/" {
		t.Fatalf("CreateOrganizationalUnit: %+v", out.OrganizationalUnit)
	}

	_, err = f.org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: &f.root, Name: aws.String("Prod")})
	wantCode(t, "duplicate OU", err, "DuplicateOrganizationalUnitException")
	_, err = f.org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String("ou-zzzz-zzzzzzzz"), Name: aws.String("x")})
	wantCode(t, "unknown parent", err, "ParentNotFoundException")
	_, err = f.org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: &f.root, Name: aws.String(strings.Repeat("n", 129))})
	wantReason(t, "long name", err, "InvalidInputException", "MAX_LENGTH_EXCEEDED")

	// The same name under another parent is fine; five levels, not six.
	parent := prod
	for depth := 2; depth <= 5; depth++ {
		parent = f.createOU(t, parent, "Prod")
	}
	_, err = f.org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: &parent, Name: aws.String("six")})
	wantReason(t, "sixth level", err, "ConstraintViolationException", "OU_DEPTH_LIMIT_EXCEEDED")
	deepest, err := f.org.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: &parent})
	if err != nil || strings.Count(aws.ToString(deepest.OrganizationalUnit.Path), "/ou-") != 5 {
		t.Fatalf("DescribeOrganizationalUnit deepest: %v %+v", err, deepest)
	}

	dev := f.createOU(t, f.root, "Dev")
	up, err := f.org.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: &dev, Name: aws.String("Development")})
	if err != nil || aws.ToString(up.OrganizationalUnit.Name) != "Development" {
		t.Fatalf("UpdateOrganizationalUnit: %v %+v", err, up)
	}
	_, err = f.org.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: &dev, Name: aws.String("Prod")})
	wantCode(t, "rename onto a sibling", err, "DuplicateOrganizationalUnitException")
	_, err = f.org.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: aws.String("ou-zzzz-zzzzzzzz"), Name: aws.String("x")})
	wantCode(t, "rename unknown", err, "OrganizationalUnitNotFoundException")
	_, err = f.org.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String("ou-zzzz-zzzzzzzz")})
	wantCode(t, "describe unknown", err, "OrganizationalUnitNotFoundException")
	_, err = f.org.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String("r-1234")})
	wantReason(t, "describe a root id", err, "InvalidInputException", "INVALID_PATTERN")

	list, err := f.org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: &f.root})
	if err != nil || len(list.OrganizationalUnits) != 2 {
		t.Fatalf("ListOrganizationalUnitsForParent: %v %+v", err, list)
	}
	_, err = f.org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String("ou-zzzz-zzzzzzzz")})
	wantCode(t, "list under unknown parent", err, "ParentNotFoundException")

	kids, err := f.org.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: &f.root, ChildType: types.ChildTypeOrganizationalUnit})
	if err != nil || len(kids.Children) != 2 || kids.Children[0].Type != types.ChildTypeOrganizationalUnit {
		t.Fatalf("ListChildren OUs: %v %+v", err, kids)
	}
	_, err = f.org.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: &f.root, ChildType: "POLICY"})
	wantReason(t, "ListChildren bad type", err, "InvalidInputException", "INVALID_ENUM")
	_, err = f.org.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String("r-zzzz"), ChildType: types.ChildTypeAccount})
	wantCode(t, "ListChildren unknown root", err, "ParentNotFoundException")

	parents, err := f.org.ListParents(ctx, &organizations.ListParentsInput{ChildId: &prod})
	if err != nil || len(parents.Parents) != 1 || aws.ToString(parents.Parents[0].Id) != f.root || parents.Parents[0].Type != types.ParentTypeRoot {
		t.Fatalf("ListParents: %v %+v", err, parents)
	}
	_, err = f.org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("ou-zzzz-zzzzzzzz")})
	wantCode(t, "ListParents unknown OU", err, "ChildNotFoundException")
	_, err = f.org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("999999999999")})
	wantCode(t, "ListParents unknown account", err, "ChildNotFoundException")

	// An OU with a child OU or an account cannot be deleted.
	_, err = f.org.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: &prod})
	wantCode(t, "delete OU with children", err, "OrganizationalUnitNotEmptyException")
	acct := f.createAccount(t, "devacct")
	if _, err := f.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: &acct, SourceParentId: &f.root, DestinationParentId: &dev}); err != nil {
		t.Fatal(err)
	}
	_, err = f.org.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: &dev})
	wantCode(t, "delete OU with an account", err, "OrganizationalUnitNotEmptyException")
	if _, err := f.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: &acct, SourceParentId: &dev, DestinationParentId: &f.root}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.org.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: &dev}); err != nil {
		t.Fatal(err)
	}
	_, err = f.org.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: &dev})
	wantCode(t, "delete twice", err, "OrganizationalUnitNotFoundException")
}

func TestOUPagination(t *testing.T) {
	f := newOrg(t)
	for i := range 5 {
		f.createOU(t, f.root, fmt.Sprintf("ou%d", i))
	}
	p := organizations.NewListOrganizationalUnitsForParentPaginator(f.org, &organizations.ListOrganizationalUnitsForParentInput{ParentId: &f.root, MaxResults: aws.Int32(2)})
	seen := map[string]bool{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ou := range page.OrganizationalUnits {
			seen[aws.ToString(ou.Name)] = true
		}
	}
	if len(seen) != 5 {
		t.Fatalf("paginated OUs: %v", seen)
	}
	c := organizations.NewListChildrenPaginator(f.org, &organizations.ListChildrenInput{ParentId: &f.root, ChildType: types.ChildTypeOrganizationalUnit, MaxResults: aws.Int32(3)})
	n := 0
	for c.HasMorePages() {
		page, err := c.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Children)
	}
	if n != 5 {
		t.Fatalf("paginated children: %d", n)
	}
}
