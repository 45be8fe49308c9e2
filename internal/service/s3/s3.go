// Package s3 is a thin Amazon S3 plane over REST-XML: buckets and objects whose every
// call is authorized by the engine (bucket policies as resource policies).
package s3

import (
	"net/http"

	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// MaxBody caps what one S3 request may carry (an object or a part): the front door
// reads the body before verifying its signature.
const MaxBody = 64 << 20

// Serve handles one authenticated (or anonymous) S3 request. c has no transaction:
// S3 opens its own, around object files. body is the request body, already read.
func Serve(c *service.Call, w http.ResponseWriter, r *http.Request, body []byte) {
	WriteError(w, r, wire.Errorf(http.StatusNotImplemented, "NotImplemented", "S3 is not implemented yet"), c.RequestID)
}

// WriteError writes S3's XML error document.
func WriteError(w http.ResponseWriter, r *http.Request, err error, requestID string) {
	e, ok := err.(*wire.Error)
	if !ok {
		e = &wire.Error{Code: "InternalError", Status: 500, Message: "We encountered an internal error. Please try again."}
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-request-id", requestID)
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>" + e.Code + "</Code><Message>" + xmlEscape(e.Message) + "</Message><RequestId>" + requestID + "</RequestId></Error>"))
	}
}

func xmlEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '&':
			b = append(b, "&amp;"...)
		default:
			b = append(b, s[i])
		}
	}
	return string(b)
}
