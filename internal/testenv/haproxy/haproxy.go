// Package haproxy starts a real HAProxy for load-balancer tests: an admin runtime socket, a
// frontend on a free local port and a backend of tiny HTTP servers that answer their own names,
// so a test can prove that traffic stops reaching a detached server and comes back after attach.
//
// HAProxy runs in the foreground (-db) as a child of the test, so the test owns its PID and
// cleanup kills only that process.
package haproxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/testenv"
)

// Proxy is a running HAProxy with its backend servers.
type Proxy struct {
	Socket   string   // admin runtime API socket
	Frontend string   // http://127.0.0.1:port
	Backend  string   // the backend's name
	Servers  []string // server names, which are also what each server answers
	PID      int
	client   *http.Client
	held     sync.Map // server name -> *atomic.Int32 of /hold requests received
	release  chan struct{}
}

// Option changes what Start builds.
type Option func(*options)

type options struct{ socketUser string }

// SocketUser makes the admin socket owned by user (mode 600) in a directory anyone may
// traverse, so that an SSH login as that user can reach it with direct-streamlocal, as on a
// real load balancer where the operations account owns the socket.
func SocketUser(user string) Option { return func(o *options) { o.socketUser = user } }

// Start runs haproxy with a backend of n servers named app-1..app-n. It skips the test when
// haproxy is missing, unless CI is set.
func Start(tb testing.TB, n int, opts ...Option) *Proxy {
	tb.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	bin, err := exec.LookPath("haproxy")
	testenv.Require(tb, "haproxy (apt-get install -y haproxy)", err == nil)
	dir := tempDir(tb)
	p := &Proxy{Socket: filepath.Join(dir, "admin.sock"), Backend: "app", release: make(chan struct{}),
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	var lines []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("app-%d", i)
		addr := startServer(tb, name, &p.held, p.release)
		p.Servers = append(p.Servers, name)
		// fall 3 as in production: one slow check on a loaded test machine must not mark a
		// healthy server down (the capacity guard would then rightly refuse a detach).
		lines = append(lines, fmt.Sprintf("  server %s %s check inter 100ms rise 1 fall 3", name, addr))
	}
	fe := freePort(tb)
	p.Frontend = "http://" + fe
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(config(p.Socket, o.socketUser, fe, p.Backend, lines)), 0o600); err != nil {
		tb.Fatal(err)
	}
	p.PID = run(tb, bin, cfg, dir)
	tb.Cleanup(p.Release)
	p.waitReady(tb)
	return p
}

func config(socket, socketUser, frontend, backend string, servers []string) string {
	if socketUser != "" {
		socket += " user " + socketUser
	}
	return fmt.Sprintf(`global
  stats socket %s mode 600 level admin
  maxconn 200
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
  timeout check 2s
frontend fe
  bind %s
  default_backend %s
backend %s
  balance roundrobin
  option httpchk GET /health
%s
`, socket, frontend, backend, backend, strings.Join(servers, "\n"))
}

// run starts haproxy in the foreground and registers cleanup that kills that PID only.
func run(tb testing.TB, bin, cfg, dir string) int {
	tb.Helper()
	logf, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start haproxy: %v", err)
	}
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if tb.Failed() {
			out, _ := os.ReadFile(logf.Name())
			tb.Logf("haproxy log:\n%s", out)
		}
	})
	return cmd.Process.Pid
}

// waitReady waits until the runtime socket answers and every server is UP.
func (p *Proxy) waitReady(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, err := p.command("show stat " + p.Backend + " 4 -1")
		if err == nil && strings.Count(out, ",UP,") == len(p.Servers) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("haproxy not ready within 10s")
}

// command sends one runtime API command, for the helper's own checks.
func (p *Proxy) command(cmd string) (string, error) {
	c, err := net.DialTimeout("unix", p.Socket, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// Command is the raw runtime API, for tests that inspect state independently of the code
// under test.
func (p *Proxy) Command(tb testing.TB, cmd string) string {
	tb.Helper()
	out, err := p.command(cmd)
	if err != nil {
		tb.Fatalf("haproxy %q: %v", cmd, err)
	}
	return out
}

// Hits sends n requests through the frontend on fresh connections and counts the answers per
// server name.
func (p *Proxy) Hits(ctx context.Context, tb testing.TB, n int) map[string]int {
	tb.Helper()
	hits := map[string]int{}
	for range n {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.Frontend+"/", nil)
		resp, err := p.client.Do(req)
		if err != nil {
			tb.Fatalf("request through haproxy: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		hits[strings.TrimSpace(string(body))]++
	}
	return hits
}

// Hold opens n requests through the frontend that the servers answer only after Release,
// so sessions stay open on them (for drain tests). It returns once every server that got one
// has counted it; HeldOn says where they landed.
func (p *Proxy) Hold(tb testing.TB, n int) {
	tb.Helper()
	for range n {
		go func() {
			resp, err := p.client.Get(p.Frontend + "/hold")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		total := 0
		for _, s := range p.Servers {
			total += p.HeldOn(s)
		}
		if total == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("held requests did not reach the servers")
}

// HeldOn is how many /hold requests server name received.
func (p *Proxy) HeldOn(name string) int {
	if n, ok := p.held.Load(name); ok {
		return int(n.(*atomic.Int32).Load())
	}
	return 0
}

// Release answers every held request. It may be called more than once.
func (p *Proxy) Release() {
	select {
	case <-p.release:
	default:
		close(p.release)
	}
}
