package policy

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// condHolds compiles one condition and evaluates it against ctx.
func condHolds(t *testing.T, op, key string, values []string, ctx Context) bool {
	t.Helper()
	c, err := compileCondition(op, key, values, true)
	if err != nil {
		t.Fatalf("%s %s %v: %v", op, key, values, err)
	}
	r := &Request{Context: ctx}
	r.Prepare()
	return c.eval(r)
}

func TestConditionOperators(t *testing.T) {
	ctx := Context{
		"k":                           {"Value"},
		"n":                           {"10"},
		"d":                           {"2026-01-15T12:00:00Z"},
		"e":                           {"1768478400"}, // 2026-01-15T12:00:00Z
		"ip":                          {"203.0.113.9"},
		"ip6":                         {"2001:db8::1"},
		"b":                           {"TRUE"},
		"bin":                         {"aGVsbG8="},
		"arn":                         {"arn:aws:iam::111111111111:role/team/admin"},
		"multi":                       {"a", "b"},
		"empty":                       {},
		"aws:principaltag/costcenter": {"42"},
	}
	tests := []struct {
		op, key string
		values  []string
		want    bool
	}{
		{"StringEquals", "k", []string{"Value"}, true},
		{"StringEquals", "K", []string{"Value"}, true}, // key names fold
		{"StringEquals", "k", []string{"value"}, false},
		{"StringEqualsIgnoreCase", "k", []string{"VALUE"}, true},
		{"StringNotEqualsIgnoreCase", "k", []string{"VALUE"}, false},
		{"StringNotEquals", "k", []string{"x", "y"}, true},
		{"StringNotEquals", "k", []string{"x", "Value"}, false}, // NOR over values
		{"StringLike", "k", []string{"V*e"}, true},
		{"StringEquals", "k", []string{"V*e"}, false}, // no wildcards in Equals
		{"StringNotLike", "k", []string{"x*"}, true},
		{"StringEquals", "absent", []string{"x"}, false},
		{"StringNotEquals", "absent", []string{"x"}, true},
		{"StringEqualsIfExists", "absent", []string{"x"}, true},
		{"StringEqualsIfExists", "k", []string{"x"}, false},
		{"NumericEquals", "n", []string{"10.0"}, true},
		{"NumericNotEquals", "n", []string{"10"}, false},
		{"NumericLessThan", "n", []string{"10"}, false},
		{"NumericLessThanEquals", "n", []string{"10"}, true},
		{"NumericGreaterThan", "n", []string{"9.5"}, true},
		{"NumericGreaterThanEquals", "n", []string{"11"}, false},
		{"NumericEquals", "k", []string{"1"}, false}, // request value not a number
		{"DateEquals", "d", []string{"2026-01-15T12:00:00Z"}, true},
		{"DateEquals", "d", []string{"1768478400"}, true}, // epoch seconds in the policy
		{"DateEquals", "e", []string{"2026-01-15T13:00:00+01:00"}, true},
		{"DateLessThan", "d", []string{"2026-01-16"}, true},
		{"DateGreaterThan", "d", []string{"2026-01-16"}, false},
		{"DateNotEquals", "d", []string{"2026-01-15T12:00:01Z"}, true},
		{"DateLessThanEquals", "d", []string{"2026-01-15T12:00:00.000Z"}, true},
		{"Bool", "b", []string{"true"}, true},
		{"Bool", "b", []string{"false"}, false},
		{"Bool", "absent", []string{"false"}, false},
		{"BoolIfExists", "absent", []string{"false"}, true},
		{"BinaryEquals", "bin", []string{"aGVsbG8="}, true},
		{"IpAddress", "ip", []string{"203.0.113.0/24"}, true},
		{"IpAddress", "ip", []string{"203.0.113.9"}, true},
		{"IpAddress", "ip", []string{"203.0.114.0/24"}, false},
		{"NotIpAddress", "ip", []string{"203.0.113.0/24"}, false},
		{"NotIpAddress", "absent", []string{"203.0.113.0/24"}, true},
		{"IpAddress", "ip6", []string{"2001:db8::/32"}, true},
		{"IpAddress", "ip6", []string{"203.0.113.0/24"}, false},
		{"ArnLike", "arn", []string{"arn:aws:iam::*:role/team/*"}, true},
		{"ArnEquals", "arn", []string{"arn:aws:iam::111111111111:role/*"}, true},
		{"ArnLike", "arn", []string{"arn:aws:iam:*:role/team/admin"}, false},
		{"ArnNotLike", "arn", []string{"arn:aws:iam::*:role/other"}, true},
		{"ArnLike", "k", []string{"*"}, false},             // a value that is not an ARN matches no ARN operator
		{"ArnLike", "k", []string{"arn:*:*:*:*:*"}, false}, // not an ARN
		{"Null", "absent", []string{"true"}, true},
		{"Null", "k", []string{"true"}, false},
		{"Null", "k", []string{"false"}, true},
		{"Null", "empty", []string{"true"}, true},
		{"StringEquals", "multi", []string{"b"}, true},     // any value matches
		{"StringNotEquals", "multi", []string{"b"}, false}, // none may match
		{"ForAnyValue:StringEquals", "multi", []string{"b", "c"}, true},
		{"ForAnyValue:StringEquals", "multi", []string{"c"}, false},
		{"ForAllValues:StringEquals", "multi", []string{"a", "b", "c"}, true},
		{"ForAllValues:StringEquals", "multi", []string{"a"}, false},
		{"ForAllValues:StringEquals", "absent", []string{"a"}, true},
		{"ForAllValues:StringEquals", "empty", []string{"a"}, true},
		{"ForAnyValue:StringEquals", "absent", []string{"a"}, false},
		{"ForAnyValue:StringEqualsIfExists", "absent", []string{"a"}, true},
		{"ForAnyValue:StringNotEquals", "multi", []string{"a"}, true},
		{"ForAllValues:StringNotEquals", "multi", []string{"a"}, false},
		{"ForAllValues:StringNotLike", "multi", []string{"c*"}, true},
		{"StringEquals", "aws:PrincipalTag/CostCenter", []string{"42"}, true}, // tag keys fold
		{"StringEquals", "k", []string{"${n}"}, false},
		{"StringEquals", "n", []string{"${n}"}, true},
		{"StringNotEquals", "n", []string{"${missing}"}, true}, // unresolved: Not… holds
		{"StringEquals", "n", []string{"${missing}"}, false},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%s=%v", tt.op, tt.key, tt.values)
		if got := condHolds(t, tt.op, tt.key, tt.values, ctx); got != tt.want {
			t.Errorf("%s: got %v, want %v", name, got, tt.want)
		}
	}
}

// TestLooseDates pins the date forms AWS accepts in conditions beyond the usual
// layouts (testdata/doors) and what they mean: "01T" is the year 1, before any
// request time; a time without a zone is UTC; a negative number is epoch seconds.
func TestLooseDates(t *testing.T) {
	tests := []struct {
		in   string
		want int64 // Unix seconds; math.MinInt64 for a date before 1678
	}{
		{"01T", math.MinInt64},
		{"2016-12-13t2:00:00.593194+23", time.Date(2016, 12, 12, 3, 0, 0, 0, time.UTC).Unix()},
		{"2016-12-13T21:20:37.593194+00:00", time.Date(2016, 12, 13, 21, 20, 37, 0, time.UTC).Unix()},
		{"-292275054", -292275054},
		{"2016-12-13T", time.Date(2016, 12, 13, 0, 0, 0, 0, time.UTC).Unix()},
		{"T10:30Z", 10*3600 + 30*60},
	}
	for _, tt := range tests {
		got, ok := parseDate(tt.in)
		if !ok {
			t.Fatalf("%q refused", tt.in)
		}
		if tt.want == math.MinInt64 {
			if got != math.MinInt64 {
				t.Fatalf("%q = %d, want the earliest date", tt.in, got)
			}
			continue
		}
		if got/1e9 != tt.want {
			t.Fatalf("%q = %d s, want %d", tt.in, got/1e9, tt.want)
		}
	}
	for _, bad := range []string{"sdfdsf", "234-13", "2016-12-13t2:00:00.593194+1", "2016-12-13t2:00:00.1999999999+10:59", "2016-02-30", "T25"} {
		if _, ok := parseDate(bad); ok {
			t.Fatalf("%q accepted", bad)
		}
	}
}
