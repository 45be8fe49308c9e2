package wire

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Validation collects the constraint violations of a request, for AWS's message
// "N validation errors detected: Value '…' at '…' failed to satisfy constraint: …".
type Validation []string

// Check records a violation when ok is false.
func (v *Validation) Check(ok bool, value, member, constraint string) {
	if !ok {
		*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, member, constraint))
	}
}

// Length checks a string's length in characters, naming the bound it breaks.
func (v *Validation) Length(value, member string, min, max int) {
	n := utf8.RuneCountInString(value)
	if n < min {
		v.Check(false, value, member, fmt.Sprintf("have length greater than or equal to %d", min))
	}
	if n > max {
		v.Check(false, value, member, fmt.Sprintf("have length less than or equal to %d", max))
	}
}

// Null records a missing required member.
func (v *Validation) Null(member string) {
	*v = append(*v, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", member))
}

// Err is the ValidationError naming every violation, or nil.
func (v Validation) Err() error {
	if len(v) == 0 {
		return nil
	}
	noun := "error"
	if len(v) > 1 {
		noun = "errors"
	}
	return ValidationError("%d validation %s detected: %s", len(v), noun, strings.Join(v, "; "))
}
