package evalinput

import (
	"fmt"
	"io"
	"strings"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/reasons"
)

// WriteCase explains a case's decision, its warnings, or the error that kept it from
// being read.
func WriteCase(w io.Writer, c *Case) {
	if c.Err != nil {
		fmt.Fprintf(w, "error: %v\n", c.Err)
		return
	}
	WriteText(w, c, c.Decide())
	for _, wn := range c.Warnings {
		where := fmt.Sprintf("%s policy %d", wn.Layer, wn.Policy)
		if wn.Level != nil {
			where = fmt.Sprintf("%s level %d policy %d", wn.Layer, *wn.Level, wn.Policy)
		}
		if wn.Statement != nil {
			where += fmt.Sprintf(" statement %d", *wn.Statement)
		}
		if wn.Code != "" {
			fmt.Fprintf(w, "  warning:  %s: %s %s: %s (AWS's data)\n", where, wn.Type, wn.Code, wn.Message)
			continue
		}
		fmt.Fprintf(w, "  warning:  %s: %s (its door would refuse this document)\n", where, wn.Message)
	}
}

// WriteText explains a decision for a person: what was asked, the outcome, which
// layers decided and why, and the statements that applied.
func WriteText(w io.Writer, c *Case, d *authz.Decision) {
	r, in := &c.Request, &c.Input
	fmt.Fprintf(w, "%s  %s  on %s\n", r.Caller.Arn, r.Action, r.Resource)
	fmt.Fprintf(w, "  decision: %s\n", d.Outcome)
	for _, l := range d.BlockedBy.List() {
		fmt.Fprintf(w, "  because:  %s\n", reasons.Blocked(l, d, r, in))
		if d.Outcome == authz.ImplicitDeny {
			for _, n := range reasons.NearMisses(l, r, in) {
				fmt.Fprintf(w, "            %s\n", n)
			}
		}
	}
	if d.Outcome == authz.Allowed {
		fmt.Fprintf(w, "  because:  %s\n", reasons.Allowed(d, r))
	}
	for _, m := range d.Matched {
		fmt.Fprintf(w, "  %-5s     %s\n", m.Effect, reasons.DescribeMatch(m, in))
	}
	if len(d.Missing) > 0 {
		fmt.Fprintf(w, "  missing context keys: %s\n", strings.Join(d.Missing, ", "))
	}
}
