package explain

import (
	"fmt"
	"io"
	"strings"
)

// Graph formats.
var GraphFormats = []string{"text", "dot", "mermaid", "json"}

func (g *Graph) accountName(id string) string {
	for _, a := range g.Accounts {
		if a.ID == id && a.Name != "" {
			return a.Name
		}
	}
	return ""
}

func (g *Graph) accountList() string {
	var parts []string
	for _, a := range g.Accounts {
		if a.Name != "" {
			parts = append(parts, fmt.Sprintf("%s (%s)", a.ID, a.Name))
		} else {
			parts = append(parts, a.ID)
		}
	}
	return strings.Join(parts, ", ")
}

func edgeSuffix(e Edge, p Painter) string {
	var parts []string
	if len(e.Conditions) > 0 {
		parts = append(parts, p.Yellow("if "+strings.Join(e.Conditions, " and ")))
	}
	if e.Naming != "" {
		parts = append(parts, p.Dim("("+e.Naming+")"))
	}
	if len(parts) == 0 {
		return ""
	}
	return "  " + strings.Join(parts, "  ")
}

// WriteGraphText prints the graph: for each principal, the roles it may assume; with
// a target, each principal's chain to it.
func WriteGraphText(w io.Writer, g *Graph, p Painter) {
	fmt.Fprintf(w, "accounts: %s\n", g.accountList())
	if g.Target != "" {
		fmt.Fprintf(w, "who can reach %s:\n", p.Bold(g.Target))
		if len(g.Paths) == 0 {
			fmt.Fprintln(w, "  no one")
		}
		for _, path := range g.Paths {
			fmt.Fprintf(w, "  %s\n", p.Bold(path[0].From))
			for _, e := range path {
				fmt.Fprintf(w, "    → %s%s\n", e.To, edgeSuffix(e, p))
			}
			if len(path) > 1 {
				fmt.Fprintf(w, "    %s\n", p.Dim(fmt.Sprintf("(a chain of %d roles: each session after the first lasts at most 1 hour)", len(path))))
			}
		}
	} else {
		if len(g.Edges) == 0 {
			fmt.Fprintln(w, "no principal may assume any role")
		}
		from := ""
		for _, e := range g.Edges {
			if e.From != from {
				from = e.From
				label := e.From
				if n, ok := g.Node(e.From); ok && n.External {
					label += p.Dim(" (outside the accounts read: its own policies decide)")
				}
				fmt.Fprintln(w, p.Bold(label))
			}
			fmt.Fprintf(w, "  → %s%s\n", e.To, edgeSuffix(e, p))
		}
	}
	for _, warning := range g.Warnings {
		fmt.Fprintf(w, "%s %s\n", p.Yellow("warning:"), warning)
	}
}

// label is a node's name for diagrams: its kind and name, then its account.
func (g *Graph) label(n Node) string {
	s := n.Kind + " " + n.Name
	switch {
	case n.Kind == NodeAnyone:
		s = "anyone (*)"
	case n.Kind == NodeService || n.Kind == NodeFederated || n.Kind == NodeAccount:
	case n.Account != "":
		acct := n.Account
		if name := g.accountName(n.Account); name != "" {
			acct += " " + name
		}
		s += "\n" + acct
	}
	if n.External {
		s += "\n(external)"
	}
	return s
}

// diagramNodes are the nodes an edge touches (and the target).
func (g *Graph) diagramNodes() []Node {
	used := map[string]bool{g.Target: g.Target != ""}
	for _, e := range g.Edges {
		used[e.From], used[e.To] = true, true
	}
	var out []Node
	for _, n := range g.Nodes {
		if used[n.ID] {
			out = append(out, n)
		}
	}
	return out
}

func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// WriteDot prints the graph in Graphviz's DOT language.
func WriteDot(w io.Writer, g *Graph) {
	fmt.Fprintln(w, "digraph iamlocal {")
	fmt.Fprintln(w, "  rankdir=LR;")
	fmt.Fprintln(w, `  node [fontname="Helvetica", fontsize=10];`)
	fmt.Fprintln(w, `  edge [fontname="Helvetica", fontsize=9];`)
	for _, n := range g.diagramNodes() {
		attrs := []string{"label=" + dotQuote(g.label(n))}
		if n.Kind == NodeRole {
			attrs = append(attrs, "shape=ellipse")
		} else {
			attrs = append(attrs, "shape=box")
		}
		if n.External {
			attrs = append(attrs, "style=dashed")
		}
		if n.ID == g.Target {
			attrs = append(attrs, "penwidth=2")
		}
		fmt.Fprintf(w, "  %s [%s];\n", dotQuote(n.ID), strings.Join(attrs, ", "))
	}
	for _, e := range g.Edges {
		attr := ""
		if len(e.Conditions) > 0 {
			attr = " [label=" + dotQuote(strings.Join(e.Conditions, "\n")) + "]"
		}
		fmt.Fprintf(w, "  %s -> %s%s;\n", dotQuote(e.From), dotQuote(e.To), attr)
	}
	fmt.Fprintln(w, "}")
}

func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "\n", "<br/>")
	return r.Replace(s)
}

// WriteMermaid prints the graph as a Mermaid flowchart.
func WriteMermaid(w io.Writer, g *Graph) {
	fmt.Fprintln(w, "flowchart LR")
	ids := map[string]string{}
	for i, n := range g.diagramNodes() {
		id := fmt.Sprintf("n%d", i)
		ids[n.ID] = id
		open, close := `["`, `"]`
		if n.Kind == NodeRole {
			open, close = `(["`, `"])`
		}
		fmt.Fprintf(w, "  %s%s%s%s\n", id, open, mermaidText(g.label(n)), close)
	}
	for _, e := range g.Edges {
		if len(e.Conditions) > 0 {
			fmt.Fprintf(w, "  %s -->|\"%s\"| %s\n", ids[e.From], mermaidText(strings.Join(e.Conditions, "\n")), ids[e.To])
		} else {
			fmt.Fprintf(w, "  %s --> %s\n", ids[e.From], ids[e.To])
		}
	}
	for _, n := range g.diagramNodes() {
		if n.External {
			fmt.Fprintf(w, "  style %s stroke-dasharray: 5 5\n", ids[n.ID])
		}
	}
}
