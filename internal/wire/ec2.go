package wire

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// EC2XMLNS is the namespace of EC2's Query API, version 2016-11-15.
const EC2XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"

// EC2Response writes EC2's success shape: `<{Action}Response xmlns=…><requestId>…`
// followed by the result's fields directly (EC2 has no Result wrapper).
func EC2Response(w http.ResponseWriter, xmlns, action string, result any, requestID string) {
	var b strings.Builder
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, "<%sResponse xmlns=\"%s\"><requestId>%s</requestId>", action, xmlns, requestID)
	if result != nil {
		// Encode the result as an element, then keep only its children.
		var inner strings.Builder
		if err := xml.NewEncoder(&inner).EncodeElement(result, xml.StartElement{Name: xml.Name{Local: "r"}}); err != nil {
			EC2Error(w, &Error{Code: "InternalError", Status: 500, Message: "encoding the response failed"}, requestID)
			return
		}
		x := inner.String()
		b.WriteString(strings.TrimSuffix(strings.TrimPrefix(x, "<r>"), "</r>"))
	}
	fmt.Fprintf(&b, "</%sResponse>", action)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(b.String()))
}

// EC2Error writes EC2's error shape: <Response><Errors><Error>…</Error></Errors><RequestID>.
func EC2Error(w http.ResponseWriter, e *Error, requestID string) {
	var msg strings.Builder
	xml.EscapeText(&msg, []byte(e.Message))
	body := fmt.Sprintf(`%s<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
		xml.Header, e.Code, msg.String(), requestID)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.Status)
	w.Write([]byte(body))
}
