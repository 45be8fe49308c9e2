package policy

import (
	"strings"
	"unicode/utf8"
)

// A pattern is policy text compiled once: literal runs, the wildcards `*` and `?`,
// and policy variables resolved per request. Matching walks the tokens directly, so
// it neither builds strings nor allocates.
type pattern struct {
	raw    string
	toks   []token
	shape  shape
	lit    string // the literal for shapeExact, the prefix for shapePrefix
	hasVar bool
}

type shape uint8

const (
	shapeGeneral shape = iota
	shapeAny           // "*"
	shapeExact         // no wildcard, no variable
	shapePrefix        // literal followed by one trailing "*"
)

type token struct {
	kind tokKind
	lit  string // tLit text; tVar default value
	key  string // tVar: the context key, lower-cased
	name string // tVar: the context key as written
	def  bool   // tVar has a default
}

type tokKind uint8

const (
	tLit tokKind = iota
	tStar
	tQuest
	tVar
)

// compileOptions say how to read policy text into a pattern.
type compileOptions struct {
	wildcards bool // `*` and `?` are wildcards (else literal)
	variables bool // `${…}` are policy variables (Version 2012-10-17)
	varsFrom  int  // variables are recognised only from this byte offset on
	lower     bool // fold literals to lower case (case-insensitive matching)
}

func compilePattern(s string, o compileOptions) pattern {
	p := pattern{raw: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			text := lit.String()
			if o.lower {
				text = strings.ToLower(text)
			}
			p.toks = append(p.toks, token{kind: tLit, lit: text})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case o.wildcards && c == '*':
			flush()
			if n := len(p.toks); n == 0 || p.toks[n-1].kind != tStar { // `**` is `*`
				p.toks = append(p.toks, token{kind: tStar})
			}
			i++
		case o.wildcards && c == '?':
			flush()
			p.toks = append(p.toks, token{kind: tQuest})
			i++
		case o.variables && i >= o.varsFrom && c == '$' && strings.HasPrefix(s[i:], "${"):
			v, n, ok := parseVariable(s[i:])
			if !ok {
				lit.WriteByte(c)
				i++
				continue
			}
			if v.kind == tLit { // an escape: ${*} ${?} ${$}
				lit.WriteString(v.lit)
			} else {
				flush()
				p.toks = append(p.toks, v)
				p.hasVar = true
			}
			i += n
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	p.classify()
	return p
}

func (p *pattern) classify() {
	t := p.toks
	switch {
	case len(t) == 1 && t[0].kind == tStar:
		p.shape = shapeAny
	case len(t) == 0:
		p.shape, p.lit = shapeExact, ""
	case len(t) == 1 && t[0].kind == tLit:
		p.shape, p.lit = shapeExact, t[0].lit
	case len(t) == 2 && t[0].kind == tLit && t[1].kind == tStar:
		p.shape, p.lit = shapePrefix, t[0].lit
	default:
		p.shape = shapeGeneral
	}
}

// parseVariable reads `${key}`, `${key, 'default'}` or an escape at the start of s.
// It returns the token, the bytes consumed, and false when s holds no well-formed
// variable (the text is then literal).
func parseVariable(s string) (token, int, bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return token{}, 0, false
	}
	body := s[2:end]
	switch body {
	case "*", "?", "$":
		return token{kind: tLit, lit: body}, end + 1, true
	}
	key, def, hasDef := body, "", false
	if comma := strings.IndexByte(body, ','); comma >= 0 {
		key = body[:comma]
		d := strings.TrimSpace(body[comma+1:])
		if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
			return token{}, 0, false
		}
		def, hasDef = d[1:len(d)-1], true
	}
	key = strings.TrimSpace(key)
	if key == "" || strings.ContainsAny(key, " '${") {
		return token{}, 0, false
	}
	return token{kind: tVar, key: strings.ToLower(key), name: key, lit: def, def: hasDef}, end + 1, true
}

// Matching modes.
const (
	foldCase = 1 << iota // compare ASCII letters without case (literals are lower-cased)
	arnParts             // wildcards do not cross the first five colons of the subject
)

// match reports whether s matches p. Variables are resolved through r; an unresolved
// variable makes the pattern match nothing.
func (p *pattern) match(s string, mode int, r *Request) bool {
	switch p.shape {
	case shapeAny:
		return true
	case shapeExact:
		if mode&foldCase != 0 {
			return len(s) == len(p.lit) && hasPrefixFold(s, p.lit)
		}
		return s == p.lit
	case shapePrefix:
		if mode&arnParts != 0 {
			break // the star must not cross colons: use the general matcher
		}
		if mode&foldCase != 0 {
			return hasPrefixFold(s, p.lit)
		}
		return strings.HasPrefix(s, p.lit)
	}
	fold := mode&foldCase != 0
	toks := p.toks
	// Most patterns fail on their leading or trailing literal: check those first and
	// leave the rest to the wildcard matcher.
	if last := toks[len(toks)-1]; last.kind == tLit && !hasSuffix(s, last.lit, fold) {
		return false
	}
	skip := 0
	if toks[0].kind == tLit {
		if !hasPrefix(s, toks[0].lit, fold) {
			return false
		}
		skip = len(toks[0].lit)
	}
	var vals []string
	if p.hasVar {
		var ok bool
		if vals, ok = r.resolve(toks); !ok {
			return false
		}
	}
	limit := 0
	if mode&arnParts != 0 {
		if limit = arnResourceStart(s); limit < 0 {
			return false
		}
	}
	if skip > 0 {
		toks = toks[1:]
		if vals != nil {
			vals = vals[1:]
		}
		s, limit = s[skip:], max(0, limit-skip)
	}
	return globMatch(toks, vals, s, fold, limit)
}

func hasPrefix(s, prefix string, fold bool) bool {
	if fold {
		return hasPrefixFold(s, prefix)
	}
	return strings.HasPrefix(s, prefix)
}

func hasSuffix(s, suffix string, fold bool) bool {
	if len(s) < len(suffix) {
		return false
	}
	return hasPrefix(s[len(s)-len(suffix):], suffix, fold)
}

// globMatch is the classic linear-time wildcard match with one backtrack point (the
// last star), run over tokens. vals holds resolved variable values by token index.
// Wildcards may not consume a ':' before byte offset colonLimit of s.
func globMatch(toks []token, vals []string, s string, fold bool, colonLimit int) bool {
	ti, off, si := 0, 0, 0
	starTi, starSi := -1, 0
	text := func(i int) string {
		if toks[i].kind == tVar {
			return vals[i]
		}
		return toks[i].lit
	}
	for {
		// Skip literal tokens already consumed.
		for ti < len(toks) && (toks[ti].kind == tLit || toks[ti].kind == tVar) && off >= len(text(ti)) {
			ti, off = ti+1, 0
		}
		if si == len(s) {
			for ti < len(toks) && toks[ti].kind == tStar {
				ti++
			}
			if ti == len(toks) {
				return true
			}
		} else if ti < len(toks) {
			switch toks[ti].kind {
			case tStar:
				if ti == len(toks)-1 { // a trailing star takes the rest, colons permitting
					return colonLimit <= si || !strings.Contains(s[si:colonLimit], ":")
				}
				ti, off = ti+1, 0
				starTi, starSi = ti, si
				continue
			case tQuest:
				if s[si] != ':' || si >= colonLimit {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			default:
				c, d := text(ti)[off], s[si]
				if fold && toks[ti].kind == tLit {
					d = lower(d)
				} else if fold {
					c, d = lower(c), lower(d)
				}
				if c == d {
					off++
					si++
					continue
				}
			}
		}
		// Mismatch: let the last star swallow one more byte, if it may.
		if starTi < 0 || starSi >= len(s) || (s[starSi] == ':' && starSi < colonLimit) {
			return false
		}
		starSi++
		si, ti, off = starSi, starTi, 0
	}
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasPrefixFold reports whether s begins with prefix, ignoring ASCII case; prefix is
// already lower case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lower(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

// arnResourceStart returns the offset just past the fifth colon of an ARN (where its
// resource part begins), or -1 when s is not an ARN.
func arnResourceStart(s string) int {
	if !strings.HasPrefix(s, "arn:") {
		return -1
	}
	colons := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			colons++
			if colons == 5 {
				return i + 1
			}
		}
	}
	return -1
}
