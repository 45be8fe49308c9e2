package policycheck

import (
	"sort"
	"strings"
	"sync"

	"github.com/iamlocal/iamlocal/internal/awsdata"
	"github.com/iamlocal/iamlocal/internal/policy"
)

// keyDef is what AWS's data says of a condition key: the services that define it,
// its data types (String, ARN, Numeric, Date, Bool, IPAddress), and whether it is
// multivalued.
type keyDef struct {
	services []string
	types    []string
	multi    bool
	global   bool
	written  string // as AWS writes it
}

// keyIndex is every service's condition keys, exact keys by their lower-case name
// and templates (aws:RequestTag/${TagKey}, s3:ExistingObjectTag/<key>,
// token.actions.githubusercontent.com/${SubPath}:sub) as lower-case globs.
type keyIndex struct {
	exact     map[string]*keyDef
	templates []keyTemplate
}

type keyTemplate struct {
	glob string
	def  *keyDef
}

var index = sync.OnceValue(buildIndex)

func buildIndex() *keyIndex {
	ix := &keyIndex{exact: map[string]*keyDef{}}
	byTemplate := map[string]*keyDef{}
	for _, svc := range awsdata.ServicePrefixes() {
		for key, typ := range awsdata.ConditionKeys(svc) {
			base, multi := strings.CutPrefix(typ, "ArrayOf")
			lower := strings.ToLower(key)
			var def *keyDef
			if g, ok := templateGlob(lower); ok {
				if def = byTemplate[g]; def == nil {
					def = &keyDef{written: key}
					byTemplate[g] = def
					ix.templates = append(ix.templates, keyTemplate{g, def})
				}
			} else if def = ix.exact[lower]; def == nil {
				def = &keyDef{written: key}
				ix.exact[lower] = def
			}
			def.services = appendNew(def.services, svc)
			def.types = appendNew(def.types, base)
			def.multi = def.multi || multi
		}
	}
	sort.Slice(ix.templates, func(i, j int) bool { return ix.templates[i].glob < ix.templates[j].glob })
	return ix
}

// templateGlob turns a key template's placeholders into "*": ${TagKey}, <key>, and
// a final tag-key (secretsmanager:ResourceTag/tag-key).
func templateGlob(key string) (string, bool) {
	if k, ok := strings.CutSuffix(key, "/tag-key"); ok {
		key = k + "/${tag-key}"
	}
	if !strings.Contains(key, "${") && !strings.Contains(key, "<") {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		switch {
		case strings.HasPrefix(key[i:], "${"):
			if j := strings.IndexByte(key[i:], '}'); j > 0 {
				b.WriteByte('*')
				i += j
				continue
			}
		case key[i] == '<':
			if j := strings.IndexByte(key[i:], '>'); j > 0 {
				b.WriteByte('*')
				i += j
				continue
			}
		}
		b.WriteByte(key[i])
	}
	return b.String(), true
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// lookupKey finds a condition key, without regard to case: a global key first, then
// the keys services define, exact or by template.
func lookupKey(key string) (*keyDef, bool) {
	if g, ok := awsdata.GlobalConditionKey(key); ok {
		return &keyDef{types: g.Types, multi: g.Multi, global: true, written: g.Key}, true
	}
	ix := index()
	lower := strings.ToLower(key)
	if d, ok := ix.exact[lower]; ok {
		return d, true
	}
	for _, t := range ix.templates {
		if awsdata.Glob(t.glob, lower) {
			return t.def, true
		}
	}
	return nil, false
}

// condition checks one condition key under its operator.
func (c *statementCheck) condition(cond policy.OutlineCondition) {
	key := cond.Key.Value
	prefix, _, ok := strings.Cut(key, ":")
	if !ok || prefix == "" {
		c.add(Error, CodeInvalidConditionKeyFormat, cond.Key, "The condition key format is not valid. Use the format service:keyname.")
		return
	}
	def, known := lookupKey(key)
	switch {
	case known && def.global && strings.EqualFold(key, "aws:ARN"):
		c.add(Warning, CodeDeprecatedGlobalKey, cond.Key, "We recommend that you update aws:ARN to use the newer condition keys aws:PrincipalArn or aws:SourceArn.")
	case known:
	case strings.EqualFold(prefix, "aws"):
		c.add(Error, CodeInvalidGlobalConditionKey, cond.Key, "The condition key %s does not exist. Use a valid condition key.", key)
		return
	case strings.ContainsAny(prefix, "./"):
		// A key of an identity provider (token.actions.githubusercontent.com:sub,
		// oidc.eks.eu-west-1.amazonaws.com/id/…:aud): its keys are the provider's.
		return
	default:
		if name, retired := awsdata.RetiredService(prefix); retired {
			c.add(Warning, CodeInvalidService, cond.Key, "The service %s does not exist: AWS has retired %s.", prefix, name)
			return
		}
		if _, isService := awsdata.Service(prefix); isService {
			c.add(Error, CodeInvalidServiceConditionKey, cond.Key, "The condition key %s does not exist in the service %s. Use a valid condition key.", key, strings.ToLower(prefix))
		} else {
			c.add(Error, CodeInvalidService, cond.Key, "The service %s does not exist. Use a valid service name.", prefix)
		}
		return
	}
	if !def.global && c.services != nil && len(c.services) > 0 && !anyIn(def.services, c.services) {
		c.add(Warning, CodeKeyNotForActions, cond.Key,
			"The condition key %s is defined by %s, not by the service of any action of the statement (%s): requests to those actions do not carry it.",
			key, strings.Join(def.services, ", "), strings.Join(sortedKeys(c.services), ", "))
	}
	c.operatorType(cond, def)
}

func anyIn(list []string, set map[string]bool) bool {
	for _, s := range list {
		if set[s] {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// operatorFits says which key data types an operator type compares well. A String
// operator on an ARN key works (AWS only recommends the ARN operators), so it is not
// reported; an ARN operator on a String key is not either, as the reference types
// some keys holding ARNs as String.
var operatorFits = map[string][]string{
	"String":    {"String", "ARN"},
	"Arn":       {"ARN", "String"},
	"Numeric":   {"Numeric"},
	"Date":      {"Date"},
	"Bool":      {"Bool"},
	"IpAddress": {"IPAddress"},
}

// operatorFor names the operator type AWS would have a key compared with.
var operatorFor = map[string]string{
	"String": "String", "ARN": "Arn", "Numeric": "Numeric", "Date": "Date", "Bool": "Bool", "IPAddress": "IpAddress",
}

// operatorType checks the operator against the key's data type, and a ForAllValues
// qualifier against a single-valued key.
func (c *statementCheck) operatorType(cond policy.OutlineCondition, def *keyDef) {
	family, set, _, ok := policy.OperatorInfo(cond.Operator.Value)
	if !ok || len(def.types) == 0 {
		return
	}
	if fits, checked := operatorFits[family]; checked {
		match := false
		for _, t := range def.types {
			for _, f := range fits {
				match = match || t == f
			}
		}
		if !match {
			want := operatorFor[def.types[0]]
			if want == "" {
				want = def.types[0]
			}
			c.add(Warning, CodeTypeMismatch, cond.Key, "Use the operator type %s instead of operator %s for the condition key %s.", want, cond.Operator.Value, cond.Key.Value)
		}
	}
	if set == "ForAllValues" && !def.multi {
		c.add(SecurityWarning, CodeForAllValuesSingleValued, cond.Key,
			"Using ForAllValues qualifier with the single-valued condition key %s can be overly permissive. We recommend that you remove ForAllValues:.", cond.Key.Value)
	}
}
