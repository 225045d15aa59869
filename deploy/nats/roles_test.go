package natsdeploy_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/alaya-sre/alaya/app"
	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/queue"
)

// config is the Alaya configuration a process of role would run with: the role's certificate
// and inbox prefix, the cluster's URLs and CA, through the same loading as the daemons.
func (c *cluster) config(t *testing.T, role string, extra ...string) *config.Config {
	t.Helper()
	env := map[string]string{
		"ALAYA_NATS_URLS":          strings.Join(c.clients, ","),
		"ALAYA_NATS_REPLICAS":      "3",
		"ALAYA_NATS_INBOX_PREFIX":  "_INBOX_" + role,
		"ALAYA_NATS_TLS_CA_FILE":   c.ca.File,
		"ALAYA_NATS_TLS_CERT_FILE": filepath.Join(c.ca.Dir, "alaya-"+role+".pem"),
		"ALAYA_NATS_TLS_KEY_FILE":  filepath.Join(c.ca.Dir, "alaya-"+role+"-key.pem"),
		"ALAYA_EVIDENCE_BUCKET":    "unused",
		// A receiver refuses to start without any way to authenticate a webhook.
		"ALAYA_RECEIVER_WEBHOOK_SECRETS": "a-webhook-secret-for-the-roles-test",
	}
	for i := 0; i < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// queue connects as role the way its process does: the worker declares, the others bind.
// (A fresh cluster needs a moment to elect its meta leader: the worker connects first and
// retries until it has, so the others find the stream.)
func (c *cluster) queue(t *testing.T, role string) *queue.Queue {
	t.Helper()
	qc := app.QueueConfig(c.config(t, role))
	qc.SetupTimeout = 30 * time.Second // a fresh cluster elects its meta leader first
	connect := queue.Bind
	if role == "worker" {
		connect = queue.Connect
	}
	q, err := connect(context.Background(), qc, nil, nil)
	if err != nil {
		t.Fatalf("connect as %s: %v", role, err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// conn is a plain NATS connection as role, whose refusals the test can observe: the server
// answers a forbidden publish or subscription with an asynchronous permissions violation.
type conn struct {
	*nats.Conn
	role string
	c    *cluster
	errs chan error
}

func (c *cluster) conn(t *testing.T, role string) *conn {
	t.Helper()
	errs := make(chan error, 64)
	nc, err := nats.Connect(strings.Join(c.clients, ","), append(c.tlsOptions(t, "alaya-"+role),
		nats.CustomInboxPrefix("_INBOX_"+role),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))...)
	if err != nil {
		t.Fatalf("connect as %s: %v", role, err)
	}
	t.Cleanup(nc.Close)
	return &conn{Conn: nc, role: role, c: c, errs: errs}
}

// tlsOptions trusts the cluster's CA and presents cert (NAME.pem), if not empty.
func (c *cluster) tlsOptions(t *testing.T, cert string) []nats.Option {
	t.Helper()
	opts := []nats.Option{nats.RootCAs(c.ca.File), nats.MaxReconnects(0), nats.Timeout(5 * time.Second)}
	if cert != "" {
		opts = append(opts, nats.ClientCert(filepath.Join(c.ca.Dir, cert+".pem"), filepath.Join(c.ca.Dir, cert+"-key.pem")))
	}
	return opts
}

// refusedPublish asserts that the server refuses a publish (or request) to subject.
func (c *conn) refusedPublish(t *testing.T, subject string) {
	t.Helper()
	if err := c.PublishRequest(subject, c.NewRespInbox(), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	c.Flush()
	c.waitViolation(t, "Publish", subject)
}

// refusedSubscribe asserts that the server refuses a subscription to subject.
func (c *conn) refusedSubscribe(t *testing.T, subject string) {
	t.Helper()
	sub, err := c.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	c.Flush()
	c.waitViolation(t, "Subscription", subject)
}

func (c *conn) waitViolation(t *testing.T, kind, subject string) {
	t.Helper()
	c.c.expect(c.role, kind, subject)
	want := fmt.Sprintf("Permissions Violation for %s to %q", kind, subject)
	timeout := time.After(5 * time.Second)
	for {
		select {
		case err := <-c.errs:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), want) {
				return
			}
		case <-timeout:
			t.Errorf("no %q from the server", want)
			return
		}
	}
}

// refusedConnect asserts that a connection with opts fails, and returns why.
func (c *cluster) refusedConnect(t *testing.T, what string, opts ...nats.Option) string {
	t.Helper()
	nc, err := nats.Connect(strings.Join(c.clients, ","), opts...)
	if err == nil {
		nc.Close()
		t.Errorf("%s: connected", what)
		return ""
	}
	return err.Error()
}

// plainTextRefused speaks the NATS protocol without TLS to a client port and reports whether
// the server refused it (no PONG).
func plainTextRefused(t *testing.T, url string) bool {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "tls://"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	info, _ := r.ReadString('\n')
	if !strings.Contains(info, `"tls_required":true`) {
		t.Errorf("server INFO does not require TLS: %s", info)
	}
	fmt.Fprint(conn, "CONNECT {\"verbose\":false}\r\nPING\r\n")
	for {
		line, err := r.ReadString('\n')
		if err != nil || strings.HasPrefix(line, "-ERR") {
			return true
		}
		if strings.HasPrefix(line, "PONG") {
			return false
		}
	}
}

// startReceiver runs the real receiver with cfg until the test's call of stop, and returns
// the address of its admin listener.
func startReceiver(t *testing.T, cfg *config.Config) (admin string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := app.NewReceiver(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	rl, _ := net.Listen("tcp", "127.0.0.1:0")
	al, _ := net.Listen("tcp", "127.0.0.1:0")
	r.ServeAdminOn(al)
	done := make(chan struct{})
	go func() { r.Run(ctx, rl); close(done) }()
	return al.Addr().String(), func() { cancel(); <-done }
}

// readyz starts the real receiver with cfg and returns the status of its /readyz.
func readyz(t *testing.T, cfg *config.Config) int {
	t.Helper()
	admin, stop := startReceiver(t, cfg)
	defer stop()
	resp, err := http.Get("http://" + admin + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// pageGet starts the real receiver with cfg (which sets receiver.page_listen) and returns the
// status and body of a GET of url on the page's listener.
func pageGet(t *testing.T, cfg *config.Config, url string) (int, string) {
	t.Helper()
	_, stop := startReceiver(t, cfg)
	defer stop()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(url) // Run opens the page's listener itself: poll until it has
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("approval page: %v", err)
		}
	}
}

// expect records a violation the test provoked on purpose.
func (c *cluster) expect(role, kind, subject string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expected == nil {
		c.expected = map[string]bool{}
	}
	c.expected[fmt.Sprintf("alaya-%s %s %s", role, kind, subject)] = true
}

var violationRe = regexp.MustCompile(`"ALAYA/user:CN=([^"]+)" - (Publish|Subscription) Violation - Subject "([^"]+)"`)

// unexpectedViolations lists the permission violations in the servers' logs that the test did
// not provoke: each is a subject some process needed in normal work and was refused.
func (c *cluster) unexpectedViolations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.logs {
		for _, m := range violationRe.FindAllStringSubmatch(l.String(), -1) {
			if k := m[1] + " " + m[2] + " " + m[3]; !c.expected[k] {
				out = append(out, k)
			}
		}
	}
	return out
}
