package evidence_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/internal/testenv/s3server"
)

func newS3(t testing.TB, cfg evidence.S3Config) *evidence.S3 {
	t.Helper()
	cfg.APIOptions = append(cfg.APIOptions, awsCalls.Record)
	s, err := evidence.NewS3(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3PutGet(t *testing.T) {
	ctx := context.Background()
	srv := s3server.Start(t)
	cfg := srv.Config()
	cfg.Prefix = "alaya/"
	s := newS3(t, cfg)
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	body := []byte(strings.Repeat("Mem: 15Gi 9.1Gi 1.2Gi\n", 1000))
	tests := []struct {
		name     string
		r        io.Reader
		size     int64
		metadata bool // a seekable body also gets x-amz-meta-sha256
	}{
		{"seekable", bytes.NewReader(body), int64(len(body)), true},
		{"stream", io.MultiReader(bytes.NewReader(body)), -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := evidence.Key("incidents", "Q1", "r-1", "01-free", "app-1", tt.name)
			obj, err := s.Put(ctx, key, tt.r, evidence.PutOptions{ContentType: "text/plain", Size: tt.size})
			if err != nil {
				t.Fatal(err)
			}
			if obj.Key != key || obj.Size != int64(len(body)) || obj.SHA256 != sha(body) || obj.ContentType != "text/plain" {
				t.Errorf("Put = %+v, want %d bytes sha256 %s", obj, len(body), sha(body))
			}
			if got := get(t, s, key); !bytes.Equal(got, body) {
				t.Errorf("Get returned %d bytes, want %d", len(got), len(body))
			}
			size, meta, err := srv.Head(ctx, "alaya/"+key)
			if err != nil {
				t.Fatalf("object not under the prefix: %v", err)
			}
			if size != int64(len(body)) || (meta["sha256"] == obj.SHA256) != tt.metadata {
				t.Errorf("server has %d bytes, metadata %v; want metadata=%v", size, meta, tt.metadata)
			}
		})
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func get(t testing.TB, s evidence.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pipeRandom writes n pseudo-random bytes into a pipe, as an SSH channel would deliver a heap
// dump, calling sample after every write. It returns the reader and a function that waits for
// the writer and gives the SHA-256 of what was written.
func pipeRandom(n int64, sample func()) (io.Reader, func() string) {
	pr, pw := io.Pipe()
	done := make(chan string, 1)
	go func() {
		rng := rand.NewChaCha8([32]byte{1, 2, 3})
		h := sha256.New()
		buf := make([]byte, 1<<20)
		for left := n; left > 0; left -= int64(len(buf)) {
			chunk := buf[:min(int64(len(buf)), left)]
			rng.Read(chunk)
			h.Write(chunk)
			if _, err := pw.Write(chunk); err != nil {
				break
			}
			sample()
		}
		pw.Close()
		done <- hex.EncodeToString(h.Sum(nil))
	}()
	return pr, func() string { return <-done }
}

func TestS3PutStreamBoundedMemory(t *testing.T) {
	const size = 64 << 20
	ctx := context.Background()
	srv := s3server.Start(t)
	s := newS3(t, srv.Config()) // default part size 8 MiB, concurrency 2

	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	r, written := pipeRandom(size, func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	})
	key := evidence.Key("incidents", "Q1", "r-1", "02-heap", "app-1", "heap.hprof")
	obj, err := s.Put(ctx, key, r, evidence.PutOptions{ContentType: "application/octet-stream", Size: size})
	if err != nil {
		t.Fatal(err)
	}
	want := written()
	if obj.Size != size || obj.SHA256 != want {
		t.Errorf("Put = %d bytes sha256 %s, want %d bytes sha256 %s", obj.Size, obj.SHA256, size, want)
	}
	if n, _, err := srv.Head(ctx, key); err != nil || n != size {
		t.Errorf("server has %d bytes (%v), want %d", n, err, size)
	}
	got := sha256.New()
	rc, err := s.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(got, rc)
	rc.Close()
	if hex.EncodeToString(got.Sum(nil)) != want {
		t.Error("object read back differs from the stream")
	}
	growth := int64(peak) - int64(base)
	t.Logf("heap in use grew by %d MiB while streaming %d MiB", growth>>20, size>>20)
	if growth > 64<<20 {
		t.Errorf("heap grew by %d MiB, want < 64 MiB: the upload is buffering the stream", growth>>20)
	}
}

func TestS3PutSizeMismatchLeavesNothing(t *testing.T) {
	ctx := context.Background()
	srv := s3server.Start(t)
	s := newS3(t, srv.Config())
	tests := []struct {
		name string
		n    int64
		size int64
	}{
		{"short single part", 1000, 2000},
		{"long single part", 3000, 2000},
		{"short multipart", 20 << 20, 24 << 20},
		{"long multipart", 20 << 20, 12 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, written := pipeRandom(tt.n, func() {})
			key := evidence.Key("incidents", "Q1", tt.name)
			_, err := s.Put(ctx, key, r, evidence.PutOptions{Size: tt.size})
			io.Copy(io.Discard, r) // let the writer finish if the upload stopped early
			written()
			if !errors.Is(err, evidence.ErrSizeMismatch) || evidence.Retryable(err) {
				t.Fatalf("Put = %v, want permanent ErrSizeMismatch", err)
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, evidence.ErrNotFound) {
				t.Errorf("Get after mismatch = %v, want ErrNotFound", err)
			}
			ups, err := srv.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(srv.Bucket)})
			if err != nil || len(ups.Uploads) != 0 {
				t.Errorf("multipart uploads left: %v (%v)", ups, err)
			}
		})
	}
}

// TestS3PutCancelledLeavesNothing cancels a stream half-way, as a run's timeout would during a
// heap dump: Put must return promptly and no parts may stay in the bucket.
func TestS3PutCancelledLeavesNothing(t *testing.T) {
	srv := s3server.Start(t)
	s := newS3(t, srv.Config())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var written int64
	r, wait := pipeRandom(64<<20, func() {
		if written += 1 << 20; written == 24<<20 { // three parts are on their way
			cancel()
		}
	})
	_, err := s.Put(ctx, "incidents/Q1/heap.hprof", r, evidence.PutOptions{Size: -1})
	io.Copy(io.Discard, r)
	wait()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put = %v, want context.Canceled", err)
	}
	ups, err := srv.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(srv.Bucket)})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("multipart uploads left after cancel: %d (%v)", len(ups.Uploads), err)
	}
}

func TestS3Link(t *testing.T) {
	ctx := context.Background()
	srv := s3server.Start(t)
	s := newS3(t, srv.Config())
	key := evidence.Key("incidents", "Q1", "r-1", "01-tail", "app-1", "stdout")
	other := evidence.Key("incidents", "Q1", "r-1", "01-tail", "app-1", "stderr")
	for _, k := range []string{key, other} {
		if _, err := s.Put(ctx, k, strings.NewReader("body of "+k), evidence.PutOptions{Size: -1}); err != nil {
			t.Fatal(err)
		}
	}
	link, err := s.Link(ctx, key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		url    string
		status int
	}{
		{"as signed", link, 200},
		{"tampered signature", tamperQuery(t, link, "X-Amz-Signature"), 403},
		{"longer expiry", setQuery(t, link, "X-Amz-Expires", "604800"), 403},
		{"other object", strings.Replace(link, "stdout", "stderr", 1), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status == 200 && string(body) != "body of "+key {
				t.Errorf("body %q", body)
			}
		})
	}
	for _, ttl := range []time.Duration{0, -time.Second, evidence.MaxLinkTTL + time.Second} {
		if _, err := s.Link(ctx, key, ttl); !errors.Is(err, evidence.ErrInvalidTTL) {
			t.Errorf("Link(ttl %v) = %v, want ErrInvalidTTL", ttl, err)
		}
	}
}

func tamperQuery(t *testing.T, link, param string) string {
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	v := []byte(q.Get(param))
	v[0] ^= 1
	return setQuery(t, link, param, string(v))
}

func setQuery(t *testing.T, link, param, value string) string {
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(param, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestS3Refusals checks that failures a retry cannot fix are classified as permanent, and
// that no credential leaks into an error.
func TestS3Refusals(t *testing.T) {
	ctx := context.Background()
	srv := s3server.Start(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, cfg *evidence.S3Config)
	}{
		{"wrong secret key", func(t *testing.T, _ *evidence.S3Config) { t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-"+srv.SecretKey) }},
		{"unknown access key", func(t *testing.T, _ *evidence.S3Config) { t.Setenv("AWS_ACCESS_KEY_ID", "NOBODY") }},
		{"no such bucket", func(t *testing.T, cfg *evidence.S3Config) { cfg.Bucket = "missing-bucket" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := srv.Config()
			tt.setup(t, &cfg)
			s := newS3(t, cfg)
			_, err := s.Put(ctx, "incidents/x/stdout", strings.NewReader("data"), evidence.PutOptions{Size: 4})
			if err == nil {
				t.Fatal("Put succeeded")
			}
			if evidence.Retryable(err) {
				t.Errorf("Put error is retryable: %v", err)
			}
			if err := s.Check(ctx); err == nil || evidence.Retryable(err) {
				t.Errorf("Check = %v, want a permanent error", err)
			}
			if strings.Contains(err.Error(), srv.SecretKey) {
				t.Errorf("error reveals the secret key: %v", err)
			}
		})
	}
}

func TestS3ServerDownIsRetryable(t *testing.T) {
	cfg := evidence.S3Config{Bucket: "b", Region: "us-east-1", Endpoint: "http://127.0.0.1:1", PathStyle: true}
	s3server.Start(t) // for its credentials in the environment
	s := newS3(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.Put(ctx, "incidents/x", strings.NewReader("data"), evidence.PutOptions{Size: -1})
	if err == nil || !evidence.Retryable(err) {
		t.Fatalf("Put to a closed port = %v, want a retryable error", err)
	}
}

// TestS3SharedCredentialsFile shows NewS3 takes credentials from the default chain: here from a
// shared credentials file, with nothing in the environment.
func TestS3SharedCredentialsFile(t *testing.T) {
	srv := s3server.Start(t)
	file := filepath.Join(t.TempDir(), "credentials")
	content := "[default]\naws_access_key_id = " + srv.AccessKey + "\naws_secret_access_key = " + srv.SecretKey + "\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", file)
	s := newS3(t, srv.Config())
	if err := s.Check(context.Background()); err != nil {
		t.Fatalf("Check with a shared credentials file: %v", err)
	}
}

func TestS3GetMissing(t *testing.T) {
	srv := s3server.Start(t)
	s := newS3(t, srv.Config())
	_, err := s.Get(context.Background(), "incidents/none")
	if !errors.Is(err, evidence.ErrNotFound) || evidence.Retryable(err) {
		t.Fatalf("Get(missing) = %v, want permanent ErrNotFound", err)
	}
}

func TestS3Manifest(t *testing.T) {
	ctx := context.Background()
	srv := s3server.Start(t)
	s := newS3(t, srv.Config())
	m := &evidence.Manifest{Incident: "Q1", Run: "r-1", Runbook: "disk", RunbookVersion: "v1", Created: time.Now().UTC()}
	key := evidence.Key("incidents", "Q1", "r-1", "01-df", "app-1", "stdout")
	obj, err := s.Put(ctx, key, strings.NewReader("/dev/vda1 79G"), evidence.PutOptions{Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	m.Add(obj, "df", "app-1", "stdout")
	if _, err := evidence.WriteManifest(ctx, s, m); err != nil {
		t.Fatal(err)
	}
	got, err := evidence.ReadManifest(ctx, s, "Q1", "r-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(ctx, s); err != nil || len(got.Objects) != 1 {
		t.Fatalf("Verify = %v, objects %+v", err, got.Objects)
	}
}

func TestNewS3Refuses(t *testing.T) {
	tests := []struct {
		name string
		cfg  evidence.S3Config
	}{
		{"no bucket", evidence.S3Config{}},
		{"tiny parts", evidence.S3Config{Bucket: "b", PartSize: 1 << 20}},
		{"escaping prefix", evidence.S3Config{Bucket: "b", Prefix: "../x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := evidence.NewS3(context.Background(), tt.cfg, nil); err == nil {
				t.Fatal("NewS3 succeeded")
			}
		})
	}
}

func BenchmarkS3PutStream(b *testing.B) {
	const size = 256 << 20
	srv := s3server.Start(b)
	s := newS3(b, srv.Config())
	b.SetBytes(size)
	for b.Loop() {
		r, written := pipeRandom(size, func() {})
		if _, err := s.Put(context.Background(), "incidents/bench/heap.hprof", r, evidence.PutOptions{Size: size}); err != nil {
			b.Fatal(err)
		}
		written()
	}
}
