package evidence

import (
	"context"
	"errors"
	"io/fs"
	"net/http"

	"github.com/aws/smithy-go"
)

// Retryable reports whether an error from a Store may go away by itself: network failures,
// timeouts, throttling and server errors (5xx) are retryable; refusals that need a person to
// fix something (access denied, bad credentials, no such bucket or object, an invalid key, a
// size mismatch) are not, and neither is a cancelled context. Unknown errors count as
// retryable: a store write is idempotent, and giving up on evidence silently is worse than
// trying again. nil is not retryable.
func Retryable(err error) bool {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.Is(err, ErrInvalidKey), errors.Is(err, ErrSizeMismatch),
		errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalidTTL), errors.Is(err, fs.ErrPermission),
		errors.Is(err, ErrNoObjectLock):
		return false
	}
	if code, ok := apiCode(err); ok {
		if retry, known := apiCodes[code]; known {
			return retry
		}
	}
	if status, ok := httpStatus(err); ok && status > 0 { // 0: no response at all, a network failure
		return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
	}
	return true
}

// apiCodes classifies the S3 error codes that say what to do regardless of HTTP status.
var apiCodes = map[string]bool{
	"SlowDown": true, "Throttling": true, "ThrottlingException": true, "RequestTimeout": true,
	"InternalError": true, "ServiceUnavailable": true, "RequestTimeTooSkewed": true,

	"AccessDenied": false, "AllAccessDisabled": false, "AccountProblem": false,
	"InvalidAccessKeyId": false, "SignatureDoesNotMatch": false, "ExpiredToken": false,
	"InvalidToken": false, "NoSuchBucket": false, "NoSuchKey": false, "NotFound": false,
	"InvalidBucketName": false, "InvalidObjectState": false, "EntityTooLarge": false,
}

func apiCode(err error) (string, bool) {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode(), true
	}
	return "", false
}

func httpStatus(err error) (int, bool) {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode(), true
	}
	return 0, false
}

func isNotFound(err error) bool {
	if code, ok := apiCode(err); ok && (code == "NoSuchKey" || code == "NotFound") {
		return true
	}
	status, ok := httpStatus(err)
	return ok && status == http.StatusNotFound
}
