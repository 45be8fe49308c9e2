package apply

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// bucket creates a bucket the account does not own yet and makes its policy the
// file's (no policy in the file: the bucket has none).
func (r *runner) bucket(ctx context.Context, a *account, b *Bucket) error {
	name := r.expand(b.Name, a)
	var want string
	if b.Policy != nil {
		var err error
		if want, err = r.render(b.Policy, a); err != nil {
			return err
		}
	}
	owned := false
	if a.exists {
		if a.buckets == nil {
			if err := r.listBuckets(ctx, a); err != nil {
				return r.fail(b.Pos, "list the buckets of account "+a.name, err)
			}
		}
		owned = a.buckets[name]
	}
	existed := owned
	if !owned {
		err := r.change(Change{Op: "create", Account: a.name, Kind: "bucket", Name: name}, func() error {
			in := &s3.CreateBucketInput{Bucket: aws.String(name)}
			if region := a.cfg.Region; region != "" && region != "us-east-1" {
				in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
			}
			_, err := a.s3.CreateBucket(ctx, in)
			switch errorCode(err) {
			case "BucketAlreadyOwnedByYou":
				return nil
			case "BucketAlreadyExists":
				return fmt.Errorf("%s (bucket names are global: another account has it; choose another name, e.g. with ${account:self} in it)", apiMessage(err))
			}
			return err
		})
		if err != nil {
			return r.fail(b.Pos, "create bucket "+name, err)
		}
		if a.buckets != nil {
			a.buckets[name] = true
		}
	}
	var have string
	if existed {
		out, err := a.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(name)})
		switch {
		case errorCode(err) == "NoSuchBucketPolicy":
		case err != nil:
			return r.fail(b.Pos, "read the policy of bucket "+name, err)
		default:
			have = aws.ToString(out.Policy)
		}
	}
	switch {
	case want == "" && have == "":
		return nil
	case want == "":
		err := r.change(Change{Op: "delete", Account: a.name, Kind: "bucket", Name: name, Detail: "bucket policy"}, func() error {
			_, err := a.s3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(name)})
			return err
		})
		if err != nil {
			return r.fail(b.Pos, "delete the policy of bucket "+name, err)
		}
	case have == "" || !sameDoc(have, want):
		op := "create"
		if have != "" {
			op = "update"
		}
		err := r.change(Change{Op: op, Account: a.name, Kind: "bucket", Name: name, Detail: "bucket policy"}, func() error {
			_, err := a.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(name), Policy: aws.String(want)})
			return err
		})
		if err != nil {
			return r.fail(b.Policy.Pos, "put the policy of bucket "+name, err)
		}
	}
	return nil
}

func (r *runner) listBuckets(ctx context.Context, a *account) error {
	a.buckets = map[string]bool{}
	in := &s3.ListBucketsInput{}
	for {
		out, err := a.s3.ListBuckets(ctx, in)
		if err != nil {
			return err
		}
		for _, b := range out.Buckets {
			a.buckets[aws.ToString(b.Name)] = true
		}
		if aws.ToString(out.ContinuationToken) == "" {
			return nil
		}
		in.ContinuationToken = out.ContinuationToken
	}
}
