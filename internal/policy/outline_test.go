package policy

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The outline places every value: its JSON path and its line and column.
func TestOutlinePlaces(t *testing.T) {
	doc := `{"Version": "2012-10-17",
 "Statement": [
  {"Sid": "A", "Effect": "Allow",
   "Action": ["s3:GetObject", "s3:PutObject"],
   "Resource": "arn:aws:s3:::b/${aws:username}/*",
   "Condition": {"StringEquals": {"aws:PrincipalTag/team": ["blue", "${aws:PrincipalTag/x}"]}}},
  {"Effect": "Deny", "NotAction": "iam:*", "NotResource": ["*"], "Foo": 1}]}`
	o, err := OutlineDocument([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	place := func(l Located) {
		got = append(got, fmt.Sprintf("%d:%d %s %s", l.Pos.Line, l.Pos.Column, l.Path, l.Value))
	}
	for _, st := range o.Statements {
		got = append(got, fmt.Sprintf("%d:%d %s %s not=%v/%v", st.Pos.Line, st.Pos.Column, st.Path, st.Sid, st.NotAction, st.NotResource))
		for _, a := range st.Actions {
			place(a)
		}
		for _, r := range st.Resources {
			place(r)
		}
		for _, c := range st.Conditions {
			place(c.Operator)
			place(c.Key)
			for _, v := range c.Values {
				place(v)
			}
		}
	}
	want := []string{
		"3:3 Statement[0] A not=false/false",
		"4:15 Statement[0].Action[0] s3:GetObject",
		"4:31 Statement[0].Action[1] s3:PutObject",
		"5:16 Statement[0].Resource arn:aws:s3:::b/${aws:username}/*",
		"6:18 Statement[0].Condition.StringEquals StringEquals",
		"6:35 Statement[0].Condition.StringEquals.aws:PrincipalTag/team aws:PrincipalTag/team",
		"6:61 Statement[0].Condition.StringEquals.aws:PrincipalTag/team[0] blue",
		"6:69 Statement[0].Condition.StringEquals.aws:PrincipalTag/team[1] ${aws:PrincipalTag/x}",
		"7:3 Statement[1]  not=true/true",
		"7:35 Statement[1].NotAction iam:*",
		"7:60 Statement[1].NotResource[0] *",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if p := o.Pos(&Error{Statement: 1, Element: "Foo"}); p != (Position{7, 66}) {
		t.Errorf("Pos of Statement[1].Foo = %v", p)
	}
	if p := o.Pos(&Error{Statement: -1, Element: "Version"}); p != (Position{1, 2}) {
		t.Errorf("Pos of Version = %v", p)
	}
	keys := []string{"aws:username", "aws:PrincipalTag/team", "aws:PrincipalTag/x"}
	if diff := cmp.Diff(keys, o.ContextKeys()); diff != "" {
		t.Errorf("ContextKeys (-want +got):\n%s", diff)
	}
}

func TestVariablesAndOperators(t *testing.T) {
	got := Variables("a/${aws:username}/${*}/${aws:PrincipalTag/team, 'none'}/${?}${$}/${ aws:userid }/${broken")
	if diff := cmp.Diff([]string{"aws:username", "aws:PrincipalTag/team", "aws:userid"}, got); diff != "" {
		t.Errorf("Variables (-want +got):\n%s", diff)
	}
	for name, want := range map[string]string{
		"StringEquals": "String  false", "ForAllValues:StringLikeIfExists": "String ForAllValues true",
		"dategreaterthan": "Date  false", "ForAnyValue:ArnLike": "Arn ForAnyValue false", "Null": "Null  false",
	} {
		family, set, ifExists, ok := OperatorInfo(name)
		if got := fmt.Sprintf("%s %s %v", family, set, ifExists); !ok || got != want {
			t.Errorf("OperatorInfo(%s) = %s %v, want %s", name, got, ok, want)
		}
	}
	if _, _, _, ok := OperatorInfo("NullIfExists"); ok {
		t.Error("NullIfExists is an operator")
	}
}
