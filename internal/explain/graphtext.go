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
	if labels := e.Labels(); len(labels) > 0 {
		parts = append(parts, p.Yellow("if "+strings.Join(labels, " and ")))
	}
	switch {
	case e.Statement != "":
		parts = append(parts, p.Dim("(trust statement "+e.Statement+")"))
	case e.Naming != "":
		parts = append(parts, p.Dim("("+e.Naming+")"))
	}
	if len(parts) == 0 {
		return ""
	}
	return "  " + strings.Join(parts, "  ")
}

// displayID is how text names a node: a provider by its ARN (or built-in name).
func displayID(id string) string { return strings.TrimPrefix(id, "federated:") }

// providerNote says what an identity provider node is.
func providerNote(n Node) string {
	ip := n.Provider
	if ip == nil {
		return "identity provider"
	}
	switch {
	case ip.Unregistered:
		return fmt.Sprintf("not registered in account %s: STS refuses its users", n.Account)
	case ip.BuiltIn:
		return "built into AWS: no IAM provider"
	}
	s := "OIDC provider"
	if ip.Type == ProviderSAML {
		s = "SAML provider"
	}
	if len(ip.ClientIDs) > 0 {
		s += ", client ids " + strings.Join(ip.ClientIDs, ", ")
	}
	if n.External {
		s += ", of an account not read"
	}
	return s
}

// WriteGraphText prints the graph: for each principal, the roles it may assume, then
// each identity provider with the roles its users may reach; with a target, each
// principal's chain to it.
func WriteGraphText(w io.Writer, g *Graph, p Painter) {
	fmt.Fprintf(w, "accounts: %s\n", g.accountList())
	if g.Target != "" {
		fmt.Fprintf(w, "who can reach %s:\n", p.Bold(g.Target))
		if len(g.Paths) == 0 {
			fmt.Fprintln(w, "  no one")
		}
		for _, path := range g.Paths {
			fmt.Fprintf(w, "  %s\n", p.Bold(displayID(path[0].From)))
			for _, e := range path {
				fmt.Fprintf(w, "    → %s%s\n", e.To, edgeSuffix(e, p))
			}
			if len(path) > 1 {
				fmt.Fprintf(w, "    %s\n", p.Dim(fmt.Sprintf("(a chain of %d roles: each session after the first lasts at most 1 hour)", len(path))))
			}
		}
	} else {
		var providers []Node
		for _, n := range g.Nodes {
			if n.Kind == NodeFederated {
				providers = append(providers, n)
			}
		}
		from := ""
		principalEdges := 0
		for _, e := range g.Edges {
			if n, ok := g.Node(e.From); ok && n.Kind == NodeFederated {
				continue
			}
			principalEdges++
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
		if principalEdges == 0 {
			fmt.Fprintln(w, "no principal may assume any role")
		}
		if len(providers) > 0 {
			fmt.Fprintln(w, "identity providers:")
		}
		for _, n := range providers {
			fmt.Fprintf(w, "  %s  %s\n", p.Bold(displayID(n.ID)), p.Dim("("+providerNote(n)+")"))
			edges := 0
			for _, e := range g.Edges {
				if e.From == n.ID {
					edges++
					fmt.Fprintf(w, "    → %s%s\n", e.To, edgeSuffix(e, p))
				}
			}
			if edges == 0 {
				fmt.Fprintln(w, "    no role lets its users in")
			}
		}
	}
	for _, warning := range g.Warnings {
		fmt.Fprintf(w, "%s %s\n", p.Yellow("warning:"), warning)
	}
}

// label is a node's name for diagrams: its kind and name, then its account.
func (g *Graph) label(n Node) string {
	s := n.Kind + " " + n.Name
	if n.Kind == NodeFederated {
		s = "OIDC provider " + n.Name
		switch ip := n.Provider; {
		case ip == nil:
			s = "identity provider " + n.Name
		case ip.BuiltIn:
			s = "built-in provider " + n.Name
		case ip.Type == ProviderSAML:
			s = "SAML provider " + n.Name
		}
		if n.Provider != nil && n.Provider.Unregistered {
			s += "\n(not registered)"
		}
	}
	switch {
	case n.Kind == NodeAnyone:
		s = "anyone (*)"
	case n.Kind == NodeService || n.Kind == NodeAccount || (n.Kind == NodeFederated && n.Account == ""):
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

// diagramNodes are the nodes an edge touches, the target, and (without a target)
// every identity provider.
func (g *Graph) diagramNodes() []Node {
	used := map[string]bool{g.Target: g.Target != ""}
	if g.Target == "" {
		for _, n := range g.Nodes {
			used[n.ID] = used[n.ID] || n.Kind == NodeFederated
		}
	}
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
		switch n.Kind {
		case NodeRole:
			attrs = append(attrs, "shape=ellipse")
		case NodeFederated:
			attrs = append(attrs, "shape=hexagon")
		default:
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
		if labels := e.Labels(); len(labels) > 0 {
			attr = " [label=" + dotQuote(strings.Join(labels, "\n")) + "]"
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
		switch n.Kind {
		case NodeRole:
			open, close = `(["`, `"])`
		case NodeFederated:
			open, close = `{{"`, `"}}`
		}
		fmt.Fprintf(w, "  %s%s%s%s\n", id, open, mermaidText(g.label(n)), close)
	}
	for _, e := range g.Edges {
		if labels := e.Labels(); len(labels) > 0 {
			fmt.Fprintf(w, "  %s -->|\"%s\"| %s\n", ids[e.From], mermaidText(strings.Join(labels, "\n")), ids[e.To])
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
