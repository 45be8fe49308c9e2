package explain

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/iamlocal/iamlocal/internal/reasons"
)

// Painter colours text for a terminal; the zero Painter leaves it plain.
type Painter struct{ On bool }

func (p Painter) paint(code, s string) string {
	if !p.On || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Red, Green, Yellow, Dim and Bold colour s when the painter is on.
func (p Painter) Red(s string) string    { return p.paint("31", s) }
func (p Painter) Green(s string) string  { return p.paint("32", s) }
func (p Painter) Yellow(s string) string { return p.paint("33", s) }
func (p Painter) Dim(s string) string    { return p.paint("2", s) }
func (p Painter) Bold(s string) string   { return p.paint("1", s) }

// Outcome colours a decision.
func (p Painter) Outcome(s string) string {
	if s == "allowed" {
		return p.Green(s)
	}
	return p.Red(s)
}

// node is a line of a printed tree with its children.
type node struct {
	label    string
	children []*node
}

func (n *node) add(label string) *node {
	c := &node{label: label}
	n.children = append(n.children, c)
	return c
}

func writeTree(w io.Writer, nodes []*node, prefix string) {
	for i, n := range nodes {
		branch, next := "├─ ", "│  "
		if i == len(nodes)-1 {
			branch, next = "└─ ", "   "
		}
		fmt.Fprintf(w, "%s%s%s\n", prefix, branch, n.label)
		writeTree(w, n.children, prefix+next)
	}
}

// maxWhy bounds the length of a mismatch in text (the JSON keeps all of it).
const maxWhy = 240

func clip(s string) string {
	if len(s) <= maxWhy {
		return s
	}
	return s[:maxWhy] + "…"
}

func (p Painter) verdict(v, note string) string {
	var s string
	switch v {
	case VerdictAllows:
		s = p.Green("allows")
	case VerdictDenies:
		s = p.Red("denies")
	case VerdictNoAllow:
		s = p.Red("does not allow")
	case VerdictNoMatch:
		s = "no statement applies"
	case VerdictAbsent:
		s = p.Dim("none")
	case VerdictNotApplied:
		s = p.Dim("not applied")
	}
	if note != "" {
		s += p.Dim(" (" + note + ")")
	}
	return s
}

var layerLabels = map[string]string{
	"scp": "SCP", "rcp": "RCP", "endpoint": "endpoint", "resource": "resource",
	"identity": "identity", "permissionsBoundary": "boundary", "session": "session",
}

// WriteText prints the tree for a person.
func WriteText(w io.Writer, t *Tree, p Painter) {
	fmt.Fprintf(w, "%s  %s  on %s\n", p.Bold(t.Principal), p.Bold(t.Action), p.Bold(t.Resource))
	fmt.Fprintf(w, "action:   %s\n", actionLine(t.ActionInfo, t.Action))
	fmt.Fprintf(w, "decision: %s\n", p.Outcome(t.Decision))
	for i, r := range t.Reasons {
		head := "because:  "
		if i > 0 {
			head = "          "
		}
		fmt.Fprintf(w, "%s%s\n", head, r)
	}
	var roots []*node
	for _, l := range t.Layers {
		ln := &node{label: fmt.Sprintf("%-8s %s — %s", layerLabels[l.Layer], l.Title, p.verdict(l.Verdict, l.Note))}
		for _, lv := range l.Levels {
			levelLabel := fmt.Sprintf("level %d: %s — %s", lv.Level, targetName(lv.Target), p.verdict(lv.Verdict, ""))
			vn := ln.add(levelLabel)
			for _, pol := range lv.Policies {
				pol.Origin = fmt.Sprintf("%s %s (%s)", layerLabels[l.Layer], pol.Name, pol.ID)
				addPolicy(vn, pol, p)
			}
		}
		for _, pol := range l.Policies {
			addPolicy(ln, pol, p)
		}
		roots = append(roots, ln)
	}
	writeTree(w, roots, "")
	if len(t.Context) > 0 {
		fmt.Fprintln(w, "request context:")
		for _, k := range sortedKeys(t.Context) {
			fmt.Fprintf(w, "  %s = %s\n", k, strings.Join(t.Context[k], ", "))
		}
	}
	if len(t.MissingContextKeys) > 0 {
		fmt.Fprintf(w, "missing context keys: %s %s\n", strings.Join(t.MissingContextKeys, ", "), p.Dim("(give them with --context KEY=VALUE)"))
	}
	for _, n := range t.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, n := range t.Warnings {
		fmt.Fprintf(w, "%s %s\n", p.Yellow("warning:"), n)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func addPolicy(parent *node, pol PolicyNode, p Painter) {
	label := pol.Origin
	if pol.ARN != "" && !strings.Contains(label, pol.ARN) {
		label += "  " + p.Dim(pol.ARN)
	}
	pn := parent.add(label)
	for _, st := range pol.Statements {
		name := reasons.StatementName(st.Index, st.Sid)
		var status string
		switch {
		case st.Applies && st.Effect == "Deny":
			status = p.Red("applies: denies")
		case st.Applies:
			status = p.Green("applies")
		default:
			status = p.Dim("does not apply: " + st.Element + ": " + clip(st.Why))
		}
		if st.Naming != "" {
			status += ", " + st.Naming
		}
		pn.add(fmt.Sprintf("%s  %-5s  %s", name, st.Effect, status))
	}
}

// WriteReport prints a doctor's report: each check with its status, and for a
// failure the fix and the policy to add.
func WriteReport(w io.Writer, r *Report, p Painter) {
	fmt.Fprintf(w, "%s  %s  on %s\n", p.Bold(r.Principal), p.Bold(r.Action), p.Bold(r.Resource))
	fmt.Fprintf(w, "  action: %s\n", actionLine(r.ActionInfo, r.Action))
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range r.Checks {
		var status string
		switch c.Status {
		case StatusOK:
			status = p.Green("ok  ")
		case StatusFail:
			status = p.Red("FAIL")
		case StatusWarn:
			status = p.Yellow("warn")
		default:
			status = p.Dim("skip")
		}
		fmt.Fprintf(w, "  %s  %-*s  %s\n", status, width, c.Name, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(w, "        %s %s\n", p.Bold("fix:"), c.Fix)
		}
		if c.FixPolicy != "" {
			for _, line := range strings.Split(c.FixPolicy, "\n") {
				fmt.Fprintf(w, "          %s\n", line)
			}
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, n := range r.Warnings {
		fmt.Fprintf(w, "%s %s\n", p.Yellow("warning:"), n)
	}
}
