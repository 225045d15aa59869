package natsserver

import (
	"fmt"
	"go/build"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/testenv"
)

// Process is a nats-server running as its own process (the binary scripts/install-deps.sh
// installs), for the one thing an embedded server cannot show: a real crash. Kill sends
// SIGKILL; Restart starts a new process on the same port and store directory.
type Process struct {
	tb       testing.TB
	bin      string
	port     int
	storeDir string
	args     []string // beyond the client port and store: a config file for cluster nodes
	cmd      *exec.Cmd
	exited   chan struct{}
}

// StartProcess runs nats-server with JetStream on 127.0.0.1 and stops it when the test ends.
func StartProcess(tb testing.TB) *Process {
	tb.Helper()
	p := newProcess(tb, freePorts(tb, 1)[0])
	p.start()
	return p
}

// newProcess prepares a server on port whose process is killed, by its own PID, when the
// test ends.
func newProcess(tb testing.TB, port int, args ...string) *Process {
	p := &Process{tb: tb, bin: processBinary(tb), port: port, storeDir: tb.TempDir(), args: args}
	tb.Cleanup(func() {
		if p.cmd != nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// URL is the client URL.
func (p *Process) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", p.port) }

// Kill crashes the server: SIGKILL, no chance to flush or shut down cleanly.
func (p *Process) Kill() {
	p.tb.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	p.cmd = nil
}

// Restart starts the server again on the same port and store directory.
func (p *Process) Restart() { p.tb.Helper(); p.start() }

func (p *Process) start() {
	p.tb.Helper()
	args := append([]string{"-js", "-a", "127.0.0.1", "-p", strconv.Itoa(p.port), "-sd", p.storeDir}, p.args...)
	cmd := exec.Command(p.bin, args...)
	if err := cmd.Start(); err != nil {
		p.tb.Fatalf("natsserver: start %s: %v", p.bin, err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(p.exited) }()
	deadline := time.Now().Add(readyTimeout)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p.port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-p.exited:
			p.tb.Fatalf("natsserver: %s exited before accepting connections", p.bin)
		default:
		}
		if time.Now().After(deadline) {
			p.tb.Fatalf("natsserver: not accepting connections after %v", readyTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Binary is the path of the nats-server binary, for tests that run it with their own
// configuration file; the test is skipped (or, under CI, failed) when it is missing.
func Binary(tb testing.TB) string { tb.Helper(); return processBinary(tb) }

func processBinary(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p
	}
	dir := os.Getenv("GOBIN")
	if dir == "" {
		dir = filepath.Join(filepath.SplitList(build.Default.GOPATH)[0], "bin")
	}
	p := filepath.Join(dir, "nats-server")
	_, err := os.Stat(p)
	testenv.Require(tb, "nats-server binary (scripts/install-deps.sh)", err == nil)
	return p
}
