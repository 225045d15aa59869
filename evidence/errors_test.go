package evidence

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func responseError(status int, err error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}
}

func TestRetryable(t *testing.T) {
	api := func(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"cancelled", fmt.Errorf("put: %w", context.Canceled), false},
		{"deadline", fmt.Errorf("put: %w", context.DeadlineExceeded), true},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"unknown", errors.New("something odd"), true},
		{"invalid key", fmt.Errorf("put: %w", ErrInvalidKey), false},
		{"size mismatch", fmt.Errorf("put: %w", ErrSizeMismatch), false},
		{"not found", fmt.Errorf("get: %w", ErrNotFound), false},
		{"bad ttl", ErrInvalidTTL, false},
		{"fs permission", &fs.PathError{Op: "open", Path: "x", Err: fs.ErrPermission}, false},
		{"slow down", responseError(503, api("SlowDown")), true},
		{"internal error", responseError(500, api("InternalError")), true},
		{"access denied", responseError(403, api("AccessDenied")), false},
		{"bad signature", responseError(403, api("SignatureDoesNotMatch")), false},
		{"unknown access key", responseError(403, api("InvalidAccessKeyId")), false},
		{"no such bucket", responseError(404, api("NoSuchBucket")), false},
		{"head 403 without code", responseError(403, errors.New("forbidden")), false},
		{"bare 502", responseError(502, errors.New("bad gateway")), true},
		{"bare 429", responseError(429, errors.New("too many")), true},
		{"no response", responseError(0, errors.New("dial tcp: connection refused")), true},
		{"unlisted 400 code", responseError(400, api("InvalidArgument")), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Retryable(fmt.Errorf("wrapped: %w", tt.err)); tt.err != nil && got != tt.want {
				t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
			if tt.err == nil && Retryable(nil) {
				t.Error("Retryable(nil) = true")
			}
		})
	}
}
