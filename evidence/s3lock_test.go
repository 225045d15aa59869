package evidence_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/internal/testenv/s3server"
)

// Every evidence object in a bucket with Object Lock carries the configured retention, small
// (one PutObject) and large (a multipart upload of a stream) alike, and the version written
// cannot be deleted while it lasts.
func TestS3ObjectLockRetention(t *testing.T) {
	ctx := context.Background()
	srv := s3server.Start(t)
	// S3 refuses a retention without a checksum; the SDK's default sends one, so the test
	// turns that default off: the store must ask for the checksum itself.
	t.Setenv("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required")
	cfg := srv.Config()
	cfg.Bucket = srv.NewLockedBucket(t, "locked-evidence")
	cfg.Prefix = "alaya/"
	cfg.PartSize = 5 << 20
	cfg.ObjectLock = &evidence.ObjectLock{Mode: "governance", Days: 30}
	unsummed := &unchecksummed{}
	cfg.APIOptions = append(cfg.APIOptions, unsummed.watch)
	s := newS3(t, cfg)
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	small := []byte(strings.Repeat("Mem: 15Gi 9.1Gi 1.2Gi\n", 100))
	large := bytes.Repeat([]byte("heap"), 3<<20) // 12 MiB: three parts
	tests := []struct {
		name string
		r    io.Reader
	}{
		{"stdout", bytes.NewReader(small)},
		{"heap.hprof", io.MultiReader(bytes.NewReader(large))}, // a stream: multipart
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now()
			key := evidence.Key("incidents", "Q1", "r-1", "01-dump", "app-1", tt.name)
			if _, err := s.Put(ctx, key, tt.r, evidence.PutOptions{Size: -1}); err != nil {
				t.Fatal(err)
			}
			client := srv.Client()
			obj := &s3.GetObjectRetentionInput{Bucket: aws.String(cfg.Bucket), Key: aws.String("alaya/" + key)}
			ret, err := client.GetObjectRetention(ctx, obj)
			if err != nil {
				t.Fatalf("GetObjectRetention: %v", err)
			}
			until := aws.ToTime(ret.Retention.RetainUntilDate)
			want := before.Add(30 * 24 * time.Hour)
			if ret.Retention.Mode != types.ObjectLockRetentionModeGovernance || until.Before(want.Add(-time.Minute)) || until.After(want.Add(time.Hour)) {
				t.Errorf("retention %s until %s, want GOVERNANCE until about %s", ret.Retention.Mode, until, want)
			}
			head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: obj.Bucket, Key: obj.Key})
			if err != nil {
				t.Fatal(err)
			}
			_, err = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: obj.Bucket, Key: obj.Key, VersionId: head.VersionId})
			if err == nil {
				t.Fatalf("deleting version %s of a retained object succeeded", aws.ToString(head.VersionId))
			}
			if _, err := client.GetObjectRetention(ctx, obj); err != nil {
				t.Errorf("object gone after the refused delete: %v", err)
			}
		})
	}
	if got := unsummed.list(); len(got) > 0 {
		t.Errorf("uploads without a checksum, which S3 refuses with a retention: %v", got)
	}
}

// unchecksummed notes the uploads (PutObject, UploadPart) sent without Content-MD5 or a
// flexible checksum, header or trailer: versitygw accepts them with a retention, S3 does not.
type unchecksummed struct {
	mu  sync.Mutex
	ops []string
}

func (u *unchecksummed) watch(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("alaya-test-checksum",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			req, ok := in.Request.(*smithyhttp.Request)
			if ok && (op == "PutObject" || op == "UploadPart") && !hasChecksum(req.Header) {
				u.mu.Lock()
				u.ops = append(u.ops, op)
				u.mu.Unlock()
			}
			return next.HandleDeserialize(ctx, in)
		}), middleware.After)
}

func (u *unchecksummed) list() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.ops
}

func hasChecksum(h http.Header) bool {
	if h.Get("Content-Md5") != "" || strings.Contains(strings.ToLower(h.Get("X-Amz-Trailer")), "x-amz-checksum-") {
		return true
	}
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") && !strings.EqualFold(k, "x-amz-checksum-algorithm") {
			return true
		}
	}
	return false
}

// A store configured for Object Lock refuses, at Check, a bucket that has none: its objects
// would be written without the promised retention (or refused by S3 on the first incident).
func TestS3ObjectLockRefusesBucketWithout(t *testing.T) {
	srv := s3server.Start(t)
	cfg := srv.Config()
	cfg.ObjectLock = &evidence.ObjectLock{Mode: "COMPLIANCE", Days: 1}
	err := newS3(t, cfg).Check(context.Background())
	if !errors.Is(err, evidence.ErrNoObjectLock) {
		t.Fatalf("Check = %v, want ErrNoObjectLock", err)
	}
	for _, want := range []string{srv.Bucket, "COMPLIANCE", "1 days", "Object Lock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if evidence.Retryable(err) {
		t.Error("a bucket without Object Lock is retryable; it needs a person")
	}
}

func TestNewS3RefusesBadObjectLock(t *testing.T) {
	for _, lock := range []evidence.ObjectLock{{Mode: "LEGAL", Days: 1}, {Mode: "GOVERNANCE"}, {Mode: "COMPLIANCE", Days: evidence.MaxLockDays + 1}} {
		_, err := evidence.NewS3(context.Background(), evidence.S3Config{Bucket: "b", ObjectLock: &lock}, nil)
		if err == nil {
			t.Errorf("NewS3 accepted object lock %+v", lock)
		}
	}
}
