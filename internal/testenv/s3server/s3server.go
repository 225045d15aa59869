// Package s3server runs a real S3 server (versitygw) for tests. A real one, because the
// properties worth testing in an evidence store are the ones a fake does not check: request
// signatures (a wrong secret must fail), presigned URLs (a tampered one must get 403) and
// multipart uploads of streams that cannot seek.
//
// Start launches versitygw on 127.0.0.1 with a free port, a temporary directory and a fresh
// bucket, points the AWS SDK's default credential chain at it through the environment (so a
// developer's ~/.aws cannot change what a test does), and kills the process when the test ends.
// versitygw is installed by scripts/install-deps.sh; without it tests skip, or fail under CI.
//
// ALAYA_TEST_S3_SERVER=minio runs MinIO instead (scripts/install-deps.sh --bench installs it).
// Benchmarks of large uploads use it: versitygw's posix backend copies every part again when it
// completes a multipart upload, which S3 does not, and on two cores that copy dominates.
package s3server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"go/build"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/internal/testenv"
)

// Region is the region the server answers for.
const Region = "us-east-1"

// DefaultBucket is the bucket every Server starts with.
const DefaultBucket = "evidence"

// Server is a running S3 server.
type Server struct {
	Kind      string // "versitygw" or "minio"
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Region    string
	Bucket    string // exists when Start returns
	Dir       string // the server's root: each directory in it is a bucket
}

// Start runs a versitygw for the test and sets the AWS environment (see SetEnv) to reach it,
// so it cannot be used from a parallel test. The process is killed when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	kind := os.Getenv("ALAYA_TEST_S3_SERVER")
	if kind == "" {
		kind = "versitygw"
	}
	bin := binary(tb, kind)
	s := &Server{
		Kind:      kind,
		AccessKey: "alaya" + randomHex(6),
		SecretKey: randomHex(20),
		Region:    Region,
		Bucket:    DefaultBucket,
		Dir:       filepath.Join(tb.TempDir(), "s3"),
	}
	for _, dir := range []string{s.Dir, s.versions()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatalf("s3server: %v", err)
		}
	}
	var err error
	for range 3 { // a free port can be taken between choosing it and the server binding it
		if err = s.start(tb, bin); err == nil {
			s.NewBucket(tb, s.Bucket)
			s.SetEnv(tb)
			return s
		}
	}
	tb.Fatalf("s3server: %v", err)
	return nil
}

// NewBucket creates another bucket and returns its name (lower case, 3 to 63 characters).
func (s *Server) NewBucket(tb testing.TB, name string) string {
	tb.Helper()
	if s.Kind == "minio" {
		s.createBucket(tb, name, false)
		return name
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, name), 0o755); err != nil {
		tb.Fatalf("s3server: bucket %s: %v", name, err)
	}
	return name
}

// NewLockedBucket creates a bucket with S3 Object Lock enabled (and so versioning, as S3
// insists), through the API: Object Lock can only be turned on when a bucket is created.
func (s *Server) NewLockedBucket(tb testing.TB, name string) string {
	tb.Helper()
	s.createBucket(tb, name, true)
	return name
}

// versions is where versitygw keeps object versions: beside the buckets, not in Dir, where
// every directory is a bucket.
func (s *Server) versions() string { return s.Dir + ".versions" }

// Config is the evidence store configuration for the server's bucket. Credentials are not
// in it: NewS3 finds them through the default chain, in the environment SetEnv prepared.
func (s *Server) Config() evidence.S3Config {
	return evidence.S3Config{Bucket: s.Bucket, Region: s.Region, Endpoint: s.Endpoint, PathStyle: true}
}

// Env is the environment that leads the AWS SDK's default chain to this server's credentials
// and nothing else, as KEY=VALUE pairs for a child process (append it to a clean environment).
func (s *Server) Env(tb testing.TB) []string {
	tb.Helper()
	empty := filepath.Join(tb.TempDir(), "aws-empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		tb.Fatalf("s3server: %v", err)
	}
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_SESSION_TOKEN=",
		"AWS_REGION=" + s.Region,
		"AWS_DEFAULT_REGION=" + s.Region,
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + empty,
		"AWS_SHARED_CREDENTIALS_FILE=" + empty,
		"AWS_EC2_METADATA_DISABLED=true", // no 1 s probe of an instance metadata service
		"AWS_ENDPOINT_URL=",
		"AWS_ENDPOINT_URL_S3=",
	}
}

// SetEnv applies Env to the test process with tb.Setenv, restored when the test ends.
func (s *Server) SetEnv(tb testing.TB) {
	tb.Helper()
	for _, kv := range s.Env(tb) {
		k, v, _ := strings.Cut(kv, "=")
		tb.Setenv(k, v)
	}
}

// Client is an S3 client with the server's credentials given explicitly, for a test to look
// at the bucket independently of the code under test.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// Head returns the object's size and user metadata, straight from the server.
func (s *Server) Head(ctx context.Context, key string) (int64, map[string]string, error) {
	out, err := s.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return 0, nil, err
	}
	return aws.ToInt64(out.ContentLength), out.Metadata, nil
}

// binary finds the server (versitygw or minio) on PATH or where go install puts it.
func binary(tb testing.TB, name string) string {
	tb.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	dir := os.Getenv("GOBIN")
	if dir == "" {
		dir = filepath.Join(filepath.SplitList(build.Default.GOPATH)[0], "bin")
	}
	p := filepath.Join(dir, name)
	_, err := os.Stat(p)
	testenv.Require(tb, name+" (scripts/install-deps.sh; --bench for minio)", err == nil)
	return p
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
