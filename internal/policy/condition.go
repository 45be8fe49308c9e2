package policy

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// condition is one key of one operator in a Condition block, compiled.
type condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Key      string // as written
	key      string // lower-cased
	op       *operator
	set      setQualifier
	ifExists bool
	raw      []string // the values as written

	pats  []pattern      // String*, Arn*
	nums  []float64      // Numeric*
	times []int64        // Date*, Unix nanoseconds
	nets  []netip.Prefix // IpAddress
	strs  []string       // Bool (lower case), Binary, Null
	never bool           // a condition a door would refuse, decided leniently: it never holds
}

type setQualifier uint8

const (
	single setQualifier = iota
	forAllValues
	forAnyValue
)

type family uint8

const (
	fString family = iota
	fNumeric
	fDate
	fBool
	fBinary
	fIP
	fArn
	fNull
)

type comparison uint8

const (
	eq comparison = iota
	lt
	le
	gt
	ge
)

// operator describes a condition operator by its positive form: a negated operator
// (StringNotEquals) matches when its positive form (StringEquals) does not.
type operator struct {
	family  family
	cmp     comparison
	negated bool
	like    bool // wildcards in values
	fold    bool // case-insensitive
}

var operators = map[string]*operator{
	"StringEquals":              {family: fString},
	"StringNotEquals":           {family: fString, negated: true},
	"StringEqualsIgnoreCase":    {family: fString, fold: true},
	"StringNotEqualsIgnoreCase": {family: fString, fold: true, negated: true},
	"StringLike":                {family: fString, like: true},
	"StringNotLike":             {family: fString, like: true, negated: true},
	"NumericEquals":             {family: fNumeric},
	"NumericNotEquals":          {family: fNumeric, negated: true},
	"NumericLessThan":           {family: fNumeric, cmp: lt},
	"NumericLessThanEquals":     {family: fNumeric, cmp: le},
	"NumericGreaterThan":        {family: fNumeric, cmp: gt},
	"NumericGreaterThanEquals":  {family: fNumeric, cmp: ge},
	"DateEquals":                {family: fDate},
	"DateNotEquals":             {family: fDate, negated: true},
	"DateLessThan":              {family: fDate, cmp: lt},
	"DateLessThanEquals":        {family: fDate, cmp: le},
	"DateGreaterThan":           {family: fDate, cmp: gt},
	"DateGreaterThanEquals":     {family: fDate, cmp: ge},
	"Bool":                      {family: fBool},
	"BinaryEquals":              {family: fBinary},
	"IpAddress":                 {family: fIP},
	"NotIpAddress":              {family: fIP, negated: true},
	"ArnEquals":                 {family: fArn, like: true},
	"ArnLike":                   {family: fArn, like: true},
	"ArnNotEquals":              {family: fArn, like: true, negated: true},
	"ArnNotLike":                {family: fArn, like: true, negated: true},
	"Null":                      {family: fNull},
}

// operatorsFolded finds operators by their lower-case names: AWS matches operator
// names without regard to case (a policy with "stringequals" is accepted and works).
var operatorsFolded = func() map[string]*operator {
	m := make(map[string]*operator, len(operators))
	for name, op := range operators {
		m[strings.ToLower(name)] = op
	}
	return m
}()

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its parts.
func parseOperator(name string) (*operator, setQualifier, bool, error) {
	base, set := strings.ToLower(name), single
	if q, rest, ok := strings.Cut(base, ":"); ok {
		switch q {
		case "forallvalues":
			set = forAllValues
		case "foranyvalue":
			set = forAnyValue
		default:
			return nil, 0, false, &operatorError{name, " (the set operators are ForAllValues and ForAnyValue)"}
		}
		base = rest
	}
	if op, ok := operatorsFolded[base]; ok {
		return op, set, false, nil
	}
	if b, ok := strings.CutSuffix(base, "ifexists"); ok {
		if op, ok := operatorsFolded[b]; ok && op.family != fNull {
			return op, set, true, nil
		}
	}
	return nil, 0, false, &operatorError{name, ""}
}

// operatorError is a condition operator IAM does not know: a syntax error at the door.
type operatorError struct{ name, hint string }

func (e *operatorError) Error() string { return "Invalid Condition type : " + e.name + e.hint }

// compileCondition compiles the values of one key under one operator.
func compileCondition(opName, key string, values []string, vars bool) (condition, error) {
	op, set, ifExists, err := parseOperator(opName)
	if err != nil {
		return condition{}, err
	}
	c := condition{Operator: opName, Key: key, key: strings.ToLower(key), op: op, set: set, ifExists: ifExists, raw: values}
	for _, v := range values {
		if err := c.addValue(v, vars); err != nil {
			return condition{}, fmt.Errorf("%s: %s: %v", opName, key, err)
		}
	}
	return c, nil
}

func (c *condition) addValue(v string, vars bool) error {
	switch c.op.family {
	case fString, fArn:
		c.pats = append(c.pats, compilePattern(v, compileOptions{wildcards: c.op.like, variables: vars, lower: c.op.fold}))
	case fNumeric:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		c.nums = append(c.nums, n)
	case fDate:
		if isDigits(strings.TrimPrefix(v, "-")) {
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return errLegacyParsing
			}
		}
		t, ok := parseDate(v)
		if !ok {
			return fmt.Errorf("%q is not a date (ISO 8601 such as 2026-01-31T12:00:00Z, or epoch seconds)", v)
		}
		c.times = append(c.times, t)
	case fIP:
		p, err := parseCIDR(v)
		if err != nil {
			return fmt.Errorf("%q is not an IP address or CIDR block", v)
		}
		c.nets = append(c.nets, p)
	case fBool:
		c.strs = append(c.strs, strings.ToLower(v))
	case fBinary:
		if _, err := base64.StdEncoding.DecodeString(v); err != nil {
			return fmt.Errorf("%q is not base64", v)
		}
		c.strs = append(c.strs, v)
	case fNull:
		l := strings.ToLower(v)
		if l != "true" && l != "false" {
			return fmt.Errorf("%q: Null takes \"true\" (key absent) or \"false\" (key present)", v)
		}
		c.strs = append(c.strs, l)
	}
	return nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func parseCIDR(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// dateLayouts are the ISO 8601 forms AWS accepts in date conditions.
// AWS accepts loose ISO 8601: a space for the T, the basic (compact) form, a zone as
// +hh, +hhmm or +hh:mm, and no zone at all (UTC). A string of digits alone is epoch
// seconds.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02T15",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04",
	"20060102T150405Z0700",
	"20060102T150405Z07:00",
	"20060102T150405",
	"20060102T1504Z0700",
	"2006-01-02",
	"2006-01",
}

// errLegacyParsing is IAM's answer to a date number it cannot hold (past int64).
var errLegacyParsing = errors.New("The policy failed legacy parsing")

// parseDate reads an ISO 8601 date or epoch seconds into Unix nanoseconds.
func parseDate(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	if digits := strings.TrimPrefix(s, "-"); digits != "" && digits[0] >= '0' && digits[0] <= '9' && !strings.ContainsAny(digits, "-:Tt") {
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, false
		}
		return clampSeconds(n), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixNano(), true
		}
	}
	return parseLooseDate(s)
}

// clampSeconds turns seconds into nanoseconds; nanoseconds hold dates from 1678 to
// 2262, and dates outside compare as the nearest of them.
func clampSeconds(n float64) int64 {
	if n >= math.MaxInt64/1e9 {
		return math.MaxInt64
	}
	if n <= math.MinInt64/1e9 {
		return math.MinInt64
	}
	return int64(n * 1e9)
}

// parseLooseDate reads the looser ISO 8601 forms IAM's date parser accepts (AWS's
// answers in testdata/doors: "01T", "2016-12-13t2:00:00.593194+23"):
//
//	[year[-month[-day]]] [T|t [hour[:minute[:second[(.|,)fraction]]]] [Z|±hh[[:]mm]]]
//
// with a year of 1 to 9 digits, fields of 1 or 2 digits, a fraction of 1 to 9
// digits and a zone hour of exactly 2; a time without a date is on 1970-01-01. What
// IAM refuses ("234-13", a zone "+1", a fraction of 10 digits) fails here too.
func parseLooseDate(s string) (int64, bool) {
	i := 0
	num := func(min, max int) (int, bool) {
		j, n := i, 0
		for j < len(s) && j-i < max && s[j] >= '0' && s[j] <= '9' {
			n = n*10 + int(s[j]-'0')
			j++
		}
		if j-i < min {
			return 0, false
		}
		i = j
		return n, true
	}
	next := func(cs string) bool {
		if i < len(s) && strings.IndexByte(cs, s[i]) >= 0 {
			i++
			return true
		}
		return false
	}
	year, month, day := 1970, 1, 1
	if !(i < len(s) && (s[i] == 'T' || s[i] == 't')) {
		var ok bool
		if year, ok = num(1, 9); !ok {
			return 0, false
		}
		if next("-") {
			if month, ok = num(1, 2); !ok || month < 1 || month > 12 {
				return 0, false
			}
			if next("-") {
				if day, ok = num(1, 2); !ok || day < 1 || day > daysIn(year, month) {
					return 0, false
				}
			}
		}
	}
	var hour, minute, sec, nanos, offset int
	if next("Tt") {
		var ok bool
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if hour, _ = num(1, 2); hour > 23 {
				return 0, false
			}
			if next(":") {
				if minute, ok = num(1, 2); !ok || minute > 59 {
					return 0, false
				}
				if next(":") {
					if sec, ok = num(1, 2); !ok || sec > 59 {
						return 0, false
					}
					if next(".,") {
						start := i
						if nanos, ok = num(1, 9); !ok {
							return 0, false
						}
						for k := i - start; k < 9; k++ {
							nanos *= 10
						}
					}
				}
			}
		}
		switch {
		case next("Zz"):
		case i < len(s) && (s[i] == '+' || s[i] == '-'):
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			i++
			h, ok := num(2, 2)
			if !ok || h > 23 {
				return 0, false
			}
			m := 0
			next(":")
			if i < len(s) {
				if m, ok = num(2, 2); !ok || m > 59 {
					return 0, false
				}
			}
			offset = sign * (h*3600 + m*60)
		}
	}
	if i != len(s) {
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	secs := t.Unix() - int64(offset)
	if n := clampSeconds(float64(secs)); n != math.MaxInt64 && n != math.MinInt64 {
		return n + int64(nanos), true
	}
	return clampSeconds(float64(secs)), true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// eval decides the condition for a request.
func (c *condition) eval(r *Request) bool {
	if c.never {
		return false
	}
	values, present := r.Lookup(c.key)
	present = present && len(values) > 0
	if c.op.family == fNull {
		for _, want := range c.strs {
			if (want == "true") != present {
				return true
			}
		}
		return false
	}
	if !present {
		r.noteMissing(c.Key)
		switch {
		case c.ifExists || c.set == forAllValues:
			return true
		case c.set == forAnyValue:
			return false
		default:
			return c.op.negated
		}
	}
	switch c.set {
	case forAllValues: // every request value satisfies the operator
		for _, v := range values {
			if c.matchesAny(v, r) == c.op.negated {
				return false
			}
		}
		return true
	case forAnyValue: // some request value satisfies the operator
		for _, v := range values {
			if c.matchesAny(v, r) != c.op.negated {
				return true
			}
		}
		return false
	default: // positive: some value matches; negated: none does
		for _, v := range values {
			if c.matchesAny(v, r) {
				return !c.op.negated
			}
		}
		return c.op.negated
	}
}

// matchesAny reports whether the request value v matches one of the policy's values
// under the positive form of the operator.
func (c *condition) matchesAny(v string, r *Request) bool {
	switch c.op.family {
	case fString:
		mode := 0
		if c.op.fold {
			mode = foldCase
		}
		for i := range c.pats {
			if c.pats[i].match(v, mode, r) {
				return true
			}
		}
	case fArn:
		if arnResourceStart(v) < 0 {
			return false
		}
		for i := range c.pats {
			if c.pats[i].match(v, arnParts, r) {
				return true
			}
		}
	case fNumeric:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		for _, want := range c.nums {
			if compare(n, want, c.op.cmp) {
				return true
			}
		}
	case fDate:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		for _, want := range c.times {
			if compare(t, want, c.op.cmp) {
				return true
			}
		}
	case fIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range c.nets {
			if p.Contains(a) {
				return true
			}
		}
	case fBool:
		for _, want := range c.strs {
			if strings.EqualFold(v, want) {
				return true
			}
		}
	case fBinary:
		for _, want := range c.strs {
			if v == want {
				return true
			}
		}
	}
	return false
}

func compare[T int64 | float64](got, want T, cmp comparison) bool {
	switch cmp {
	case lt:
		return got < want
	case le:
		return got <= want
	case gt:
		return got > want
	case ge:
		return got >= want
	}
	return got == want
}
