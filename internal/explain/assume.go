package explain

import (
	"net/netip"
	"strings"

	"github.com/iamlocal/iamlocal/internal/policy"
)

// assume returns a copy of req in which a failing condition's key is set so that the
// condition holds, when the request lacks the key and a value can be chosen from the
// condition: the value an Equals operator asks for, a Like pattern without its
// wildcards, the address of an IpAddress range. It is how the graph shows what a
// request must carry (an ExternalId, a source IP…) and how the doctor looks past one
// condition to the next.
func assume(req *policy.Request, ci policy.ConditionInfo) (*policy.Request, bool) {
	key := strings.ToLower(ci.Key)
	if _, present := req.Lookup(key); present || len(ci.Values) == 0 {
		return nil, false
	}
	op := strings.TrimPrefix(ci.Operator, "ForAnyValue:")
	if strings.HasPrefix(op, "ForAllValues:") || strings.HasSuffix(op, "IfExists") {
		return nil, false // an absent key already satisfies these
	}
	v := ci.Values[0]
	if strings.Contains(v, "${") {
		return nil, false
	}
	switch op {
	case "StringEquals", "StringEqualsIgnoreCase", "ArnEquals", "Bool", "NumericEquals", "DateEquals", "BinaryEquals",
		"NumericLessThanEquals", "NumericGreaterThanEquals", "DateLessThanEquals", "DateGreaterThanEquals":
	case "StringLike", "ArnLike":
		v = likeValue(v)
	case "IpAddress":
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, err := netip.ParseAddr(v)
			if err != nil {
				return nil, false
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		v = p.Masked().Addr().String()
	default:
		return nil, false
	}
	r := cloneRequest(req)
	r.Context.Set(ci.Key, v)
	return r, true
}

// likeValue turns a Like pattern into a value it matches.
func likeValue(p string) string {
	return strings.NewReplacer("*", "", "?", "x").Replace(p)
}
