package policy

// What a statement says, as written: for explanations and encoded authorization
// messages, never for matching.

// ConditionInfo is one condition key under one operator.
type ConditionInfo struct {
	Operator string
	Key      string
	Values   []string
}

// Actions returns the Action (or NotAction) values and whether they are NotAction.
func (st *Statement) Actions() ([]string, bool) { return raws(st.actions), st.notAction }

// Resources returns the Resource (or NotResource) values and whether they are
// NotResource; nil for a statement without either (trust policies).
func (st *Statement) Resources() ([]string, bool) { return raws(st.resources), st.notResource }

// Conditions returns the statement's conditions.
func (st *Statement) Conditions() []ConditionInfo {
	out := make([]ConditionInfo, len(st.conditions))
	for i, c := range st.conditions {
		out[i] = ConditionInfo{Operator: c.Operator, Key: c.Key, Values: c.raw}
	}
	return out
}

// Principals returns the Principal (or NotPrincipal) entries as "AWS:…", "Service:…",
// "Federated:…" or "*", and whether they are NotPrincipal.
func (st *Statement) Principals() ([]string, bool) {
	ps := st.principal
	if ps == nil {
		return nil, false
	}
	var out []string
	if ps.any {
		out = append(out, "*")
	}
	for _, a := range ps.accounts {
		out = append(out, "AWS:arn:aws:iam::"+a+":root")
	}
	for _, a := range ps.arns {
		out = append(out, "AWS:"+a)
	}
	for _, s := range ps.services {
		out = append(out, "Service:"+s)
	}
	for _, f := range ps.federated {
		out = append(out, "Federated:"+f)
	}
	for _, c := range ps.canonical {
		out = append(out, "CanonicalUser:"+c)
	}
	return out, st.notPrincipal
}

func raws(ps []pattern) []string {
	if ps == nil {
		return nil
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.raw
	}
	return out
}
