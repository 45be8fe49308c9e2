package wire

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// DecodeJSON reads a JSON 1.1 request body into v, rejecting unknown members as
// AWS's services do (they name the member).
func DecodeJSON(body []byte, v any) *Error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Errorf(http.StatusBadRequest, "SerializationException", "The request body could not be read: %v", err)
	}
	if dec.More() {
		return Errorf(http.StatusBadRequest, "SerializationException", "The request body holds more than one JSON value")
	}
	return nil
}

// JSONResponse writes a JSON 1.1 success response.
func JSONResponse(w http.ResponseWriter, v any, requestID string) {
	data, err := json.Marshal(v)
	if err != nil {
		JSONError(w, &Error{Code: "ServiceException", Status: 500, Message: "encoding the response failed"}, requestID)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}

// JSONError writes the JSON 1.1 error envelope: {"__type": code, "Message": message}.
func JSONError(w http.ResponseWriter, e *Error, requestID string) {
	body := map[string]string{"__type": e.Code, "Message": e.Message}
	if e.Reason != "" {
		body["Reason"] = e.Reason
	}
	data, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.Header().Set("x-amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	w.Write(data)
}
