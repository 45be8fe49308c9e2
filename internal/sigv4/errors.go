package sigv4

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error is an authentication failure with AWS's error code, message and HTTP status.
//
// Message is what AWS returns to the caller. For SignatureDoesNotMatch it ends, as
// AWS's does outside S3, with the canonical request and string to sign the server
// computed; those can contain the caller's own session token, so Message belongs in
// the response to that caller only. Error() is the log-safe form: it stops before them.
// No Error ever contains a secret key.
type Error struct {
	Code    string
	Message string
	Status  int

	// CanonicalRequest and StringToSign are set for SignatureDoesNotMatch
	// (S3 returns them as elements of its error document).
	CanonicalRequest string
	StringToSign     string
}

func (e *Error) Error() string {
	msg, _, _ := strings.Cut(e.Message, "\n\n")
	return e.Code + ": " + msg
}

// Error codes.
const (
	CodeIncompleteSignature   = "IncompleteSignature"
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	CodeAccessDenied          = "AccessDenied"
	CodeInvalidArgument       = "InvalidArgument"
	CodeRequestTimeTooSkewed  = "RequestTimeTooSkewed"
	CodeHeaderMalformed       = "AuthorizationHeaderMalformed"
	CodeQueryParametersError  = "AuthorizationQueryParametersError"
	CodeContentSHA256Mismatch = "XAmzContentSHA256Mismatch"
	CodeInvalidRequest        = "InvalidRequest"
	CodeMissingAuthToken      = "MissingAuthenticationToken"
)

// AWS's messages.
const (
	msgSignatureDoesNotMatch   = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgSignatureDoesNotMatchS3 = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	msgBothAuthForms           = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"
	msgHostNotSigned           = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	msgHeadersNotSigned        = "There were headers present in the request which were not signed"
	msgCredentialShapeS3       = "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
	msgContentSHA256Mismatch   = "The provided 'x-amz-content-sha256' header does not match what was computed."
	msgInvalidContentSHA256    = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value."
	msgRequestExpired          = "Request has expired"
	msgRequestNotYetValid      = "Request is not yet valid"
	msgRequestTimeTooSkewed    = "The difference between the request time and the current time is too large."
	msgS3QueryParamsRequired   = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
	msgS3InvalidDate           = "AWS authentication requires a valid Date or x-amz-date header"
	msgExpiresTooLarge         = "X-Amz-Expires must be less than a week (in seconds) that is 604800"
	msgExpiresNegative         = "X-Amz-Expires must be non-negative"
	msgExpiresNotNumber        = "X-Amz-Expires should be a number"
	msgS3InvalidCredentialDate = "Invalid credential date. Date is not the same as X-Amz-Date."
	msgS3QueryCredentialPrefix = "Error parsing the X-Amz-Credential parameter; "
	msgS3HeaderMalformedPrefix = "The authorization header is malformed; "
	msgS3UnsupportedQueryAlg   = "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""
	msgS3UnsupportedHeaderAlg  = "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
)

func newError(code string, status int, msg string) *Error {
	return &Error{Code: code, Message: msg, Status: status}
}

func incomplete(format string, args ...any) *Error {
	return newError(CodeIncompleteSignature, http.StatusBadRequest, fmt.Sprintf(format, args...))
}

func doesNotMatch(format string, args ...any) *Error {
	return newError(CodeSignatureDoesNotMatch, http.StatusForbidden, fmt.Sprintf(format, args...))
}

// ScopeRegionError is the error for a credential scoped to a region the endpoint
// does not serve (for IAM, which AWS scopes to us-east-1, any other region).
func ScopeRegionError(got string, s3 bool, want string) *Error {
	if s3 {
		return newError(CodeHeaderMalformed, http.StatusBadRequest,
			fmt.Sprintf("%sthe region '%s' is wrong; expecting '%s'", msgS3HeaderMalformedPrefix, got, want))
	}
	return doesNotMatch("Credential should be scoped to a valid region, not '%s'. ", got)
}

// ScopeServiceError is the error for a credential scoped to another service than want.
func ScopeServiceError(got, want string) *Error {
	if want == "s3" {
		return newError(CodeHeaderMalformed, http.StatusBadRequest,
			fmt.Sprintf("%sincorrect service \"%s\". This endpoint belongs to \"s3\".", msgS3HeaderMalformedPrefix, got))
	}
	return doesNotMatch("Credential should be scoped to correct service: '%s'. ", want)
}

// errScope builds a credential-scope error: SignatureDoesNotMatch outside S3
// (AWS's query services map InvalidSignatureException to it), and S3's malformed
// header / query parameter errors with S3's wording.
func errScope(s3, presigned bool, msg, s3msg string) *Error {
	if !s3 {
		return doesNotMatch("%s", msg)
	}
	if presigned {
		return newError(CodeQueryParametersError, http.StatusBadRequest, msgS3QueryCredentialPrefix+s3msg)
	}
	return newError(CodeHeaderMalformed, http.StatusBadRequest, msgS3HeaderMalformedPrefix+s3msg)
}

// fmtWindow renders a validity window the way AWS's messages do ("5 min.").
func fmtWindow(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", int64(d/time.Minute))
	}
	return fmt.Sprintf("%d sec.", int64(d/time.Second))
}

func fmtTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// errExpired is AWS's "Signature expired" (request time before now - window).
func errExpired(t, now time.Time, window time.Duration) *Error {
	return doesNotMatch("Signature expired: %s is now earlier than %s (%s - %s)",
		fmtTime(t), fmtTime(now.Add(-window)), fmtTime(now), fmtWindow(window))
}

// errNotYetCurrent is AWS's "Signature not yet current" (request time after now + window).
func errNotYetCurrent(t, now time.Time, window time.Duration) *Error {
	return doesNotMatch("Signature not yet current: %s is still later than %s (%s + %s)",
		fmtTime(t), fmtTime(now.Add(window)), fmtTime(now), fmtWindow(window))
}
