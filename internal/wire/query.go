// Package wire speaks AWS's protocols: the Query protocol (form-encoded parameters in,
// XML out) of IAM and STS, JSON 1.1 of Organizations, and each protocol's error
// envelope.
package wire

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Error is an AWS error: its code, HTTP status and message. Services return it;
// the front door writes it in the protocol's envelope.
type Error struct {
	Code    string
	Status  int
	Message string
	Sender  bool // Type Sender (client fault) rather than Receiver
	// Reason is the error's Reason member in JSON services that have one
	// (Organizations' ConstraintViolationException, InvalidInputException); "" omits it.
	Reason string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds a client-fault error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...), Sender: true}
}

// Common errors.
func ValidationError(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

func InvalidParameterValue(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

func MissingParameter(name string) *Error {
	return Errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter %s", name)
}

func AccessDenied(format string, args ...any) *Error {
	return Errorf(http.StatusForbidden, "AccessDenied", format, args...)
}

// Params are the parameters of a Query request.
type Params struct {
	v url.Values
}

// NewParams wraps parsed form values.
func NewParams(v url.Values) Params { return Params{v} }

// ParseQuery reads a Query-protocol request: the URL's query and, for a POST with a
// form body, the body. A parameter given twice is an error, as AWS reports it.
func ParseQuery(r *http.Request, body []byte) (Params, *Error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return Params{}, Errorf(http.StatusBadRequest, "MalformedQueryString", "The query string is malformed: %v", err)
	}
	if r.Method == http.MethodPost && len(body) > 0 {
		ct := r.Header.Get("Content-Type")
		if ct != "" && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			return Params{}, Errorf(http.StatusBadRequest, "InvalidParameterValue", "Content-Type %q is not supported: the Query protocol takes application/x-www-form-urlencoded", ct)
		}
		bv, err := url.ParseQuery(string(body))
		if err != nil {
			return Params{}, Errorf(http.StatusBadRequest, "MalformedQueryString", "The request body is not a valid form: %v", err)
		}
		for k, vs := range bv {
			v[k] = append(v[k], vs...)
		}
	}
	for k, vs := range v {
		if len(vs) > 1 {
			return Params{}, InvalidParameterValue("The parameter %s is given more than once", k)
		}
		if strings.HasPrefix(k, "X-Amz-") {
			delete(v, k) // presigned-request signature parameters
		}
	}
	return Params{v}, nil
}

// Get returns a parameter's value, "" when absent.
func (p Params) Get(name string) string { return p.v.Get(name) }

// Has reports whether a parameter is present.
func (p Params) Has(name string) bool { return p.v.Has(name) }

// Names returns every parameter name, sorted.
func (p Params) Names() []string {
	out := make([]string, 0, len(p.v))
	for k := range p.v {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Int reads an optional integer parameter.
func (p Params) Int(name string) (int, bool, error) {
	s := p.v.Get(name)
	if !p.v.Has(name) {
		return 0, false, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, true, ValidationError("Value '%s' at '%s' failed to satisfy constraint: Member must be a number", s, lowerFirst(name))
	}
	return n, true, nil
}

// List reads a list parameter `Name.member.N` (N from 1, no gaps) into strings.
func (p Params) List(name string) ([]string, error) {
	var out []string
	for i := 1; ; i++ {
		k := fmt.Sprintf("%s.member.%d", name, i)
		if !p.v.Has(k) {
			break
		}
		out = append(out, p.v.Get(k))
	}
	if len(out) == 0 && p.hasPrefix(name+".member.") {
		return nil, ValidationError("The list %s must be numbered from %s.member.1 without gaps", name, name)
	}
	return out, nil
}

// Structs reads a list of structures `Name.member.N.Field` into maps of field values.
func (p Params) Structs(name string) ([]map[string]string, error) {
	var out []map[string]string
	for i := 1; ; i++ {
		prefix := fmt.Sprintf("%s.member.%d.", name, i)
		m := map[string]string{}
		for k, vs := range p.v {
			if f, ok := strings.CutPrefix(k, prefix); ok {
				m[f] = vs[0]
			}
		}
		if len(m) == 0 {
			break
		}
		out = append(out, m)
	}
	if len(out) == 0 && p.hasPrefix(name+".member.") {
		return nil, ValidationError("The list %s must be numbered from %s.member.1 without gaps", name, name)
	}
	return out, nil
}

func (p Params) hasPrefix(prefix string) bool {
	for k := range p.v {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// XMLFields is implemented by results on hot paths (AssumeRole, GetCallerIdentity)
// that write their own XML instead of paying for encoding/xml's reflection.
type XMLFields interface {
	WriteXMLFields(b *strings.Builder)
}

// Elem writes <name>escaped text</name>.
func Elem(b *strings.Builder, name, text string) {
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
	if strings.ContainsAny(text, "<>&'\"\r\n\t") || !isASCII(text) {
		xml.EscapeText(b, []byte(text))
	} else {
		b.WriteString(text) // nothing to escape: the common case, tokens included
	}
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// QueryResponse writes `<{Action}Response xmlns=…><{Action}Result>…</…><ResponseMetadata>`.
// result is an XML-marshallable struct (or nil for actions without a result).
func QueryResponse(w http.ResponseWriter, xmlns, action string, result any, requestID string) {
	var b strings.Builder
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, "<%sResponse xmlns=\"%s\">", action, xmlns)
	if fw, ok := result.(XMLFields); ok {
		fmt.Fprintf(&b, "<%sResult>", action)
		fw.WriteXMLFields(&b)
		fmt.Fprintf(&b, "</%sResult>", action)
	} else if result != nil {
		// The result struct's fields become the children of <{Action}Result>.
		enc := xml.NewEncoder(&b)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			QueryError(w, xmlns, &Error{Code: "InternalFailure", Status: 500, Message: "encoding the response failed"}, requestID)
			return
		}
	}
	fmt.Fprintf(&b, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>", requestID, action)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(b.String()))
}

// QueryError writes the Query protocol's error envelope.
func QueryError(w http.ResponseWriter, xmlns string, e *Error, requestID string) {
	typ := "Receiver"
	if e.Sender {
		typ = "Sender"
	}
	var msg strings.Builder
	xml.EscapeText(&msg, []byte(e.Message))
	body := fmt.Sprintf(`%s<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		xml.Header, xmlns, typ, e.Code, msg.String(), requestID)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.WriteHeader(e.Status)
	w.Write([]byte(body))
}
