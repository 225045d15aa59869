package s3server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// readyTimeout bounds the wait for the server to answer; it is ready in under 0.1 s here.
const readyTimeout = 15 * time.Second

// start runs versitygw on a free port and waits until it answers HTTP. The process gets a
// clean environment (no VGW_* or AWS_* of the developer's) and is killed, by its own PID only,
// when the test ends.
func (s *Server) start(tb testing.TB, bin string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + port
	cmd := exec.Command(bin, "--port", addr, "--region", s.Region, "--quiet", "posix", s.Dir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.Dir,
		"ROOT_ACCESS_KEY=" + s.AccessKey, "ROOT_SECRET_KEY=" + s.SecretKey}
	out := &tailBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start versitygw: %w", err)
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
			tb.Logf("versitygw output (tail):\n%s", out.String())
		}
	})
	return nil
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
			return errors.New("versitygw exited before answering")
		case <-deadline:
			return fmt.Errorf("versitygw not answering at %s after %v: %w", endpoint, readyTimeout, err)
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
