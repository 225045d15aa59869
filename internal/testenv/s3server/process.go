package s3server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// readyTimeout bounds the wait for the server to answer; it is ready in under 0.1 s here.
const readyTimeout = 15 * time.Second

// start runs the server on a free port and waits until it answers HTTP. The process gets a
// clean environment (no VGW_*, MINIO_* or AWS_* of the developer's) and is killed, by its own
// PID only, when the test ends.
func (s *Server) start(tb testing.TB, bin string) error {
	cmd, addr, err := s.command(bin)
	if err != nil {
		return err
	}
	out := &tailBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.Kind, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.Endpoint = "http://" + addr
	if err := waitReady(s.Endpoint, exited); err != nil {
		cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%w; output: %s", err, out.String())
	}
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if tb.Failed() {
			tb.Logf("%s output (tail):\n%s", s.Kind, out.String())
		}
	})
	return nil
}

// command builds the server's command line and environment for a free port.
func (s *Server) command(bin string) (*exec.Cmd, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + port
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.Dir}
	if s.Kind == "minio" {
		console, err := freePort()
		if err != nil {
			return nil, "", err
		}
		cmd := exec.Command(bin, "server", s.Dir, "--address", addr, "--console-address", "127.0.0.1:"+console, "--quiet")
		cmd.Env = append(env, "MINIO_ROOT_USER="+s.AccessKey, "MINIO_ROOT_PASSWORD="+s.SecretKey,
			"MINIO_UPDATE=off", "MINIO_BROWSER=off")
		return cmd, addr, nil
	}
	// The versioning directory lets buckets created with Object Lock keep versions, as S3
	// does; buckets without versioning (all others) are unaffected by it.
	cmd := exec.Command(bin, "--port", addr, "--region", s.Region, "--quiet", "posix", "--versioning-dir", s.versions(), s.Dir)
	cmd.Env = append(env, "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	return cmd, addr, nil
}

// createBucket makes a bucket through the API (MinIO keeps its own on-disk format; Object Lock
// is set only at creation), retrying while the server finishes starting.
func (s *Server) createBucket(tb testing.TB, name string, locked bool) {
	tb.Helper()
	var err error
	for range 50 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(locked)})
		cancel()
		if err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("s3server: create bucket %s: %v", name, err)
}

// waitReady polls the endpoint until any HTTP answer comes back (an unsigned request gets
// 403: the server is up), the process exits, or readyTimeout passes.
func waitReady(endpoint string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.After(readyTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(endpoint)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("the S3 server exited before answering")
		case <-deadline:
			return fmt.Errorf("the S3 server is not answering at %s after %v: %w", endpoint, readyTimeout, err)
		case <-tick.C:
		}
	}
}

// tailBuffer keeps the last max bytes written to it, for a failing test's log.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
