package apply

import (
	"fmt"
	"strings"
)

// Pos is where a value sits in the file: its line and its field path, such as
// accounts[1].roles[0].trustPolicy.
type Pos struct {
	Line int
	Path string
}

// Error is a fault in the file (or found while acting on it), named by file, line
// and field: "world.yaml:14: accounts[1].email: required".
type Error struct {
	File string
	Pos
	Msg string
	Err error // the cause, if any (an AWS API error, a policy parse error)
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errors are all the faults found in a file, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// errs collects faults while reading a file.
type errs struct {
	file string
	list Errors
}

func (c *errs) add(p Pos, format string, args ...any) {
	c.list = append(c.list, &Error{File: c.file, Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (c *errs) err() error {
	if len(c.list) == 0 {
		return nil
	}
	return c.list
}

// at is a Pos at a sub-path of p, on the same line unless line is given.
func (p Pos) at(sub string, line int) Pos {
	if line == 0 {
		line = p.Line
	}
	if p.Path == "" {
		return Pos{line, strings.TrimPrefix(sub, ".")}
	}
	return Pos{line, p.Path + sub}
}
