// Package natsdeploy_test runs the NATS configuration Alaya ships (nats-N.conf, accounts.conf)
// as a real three-node nats-server cluster and proves what it promises: TLS on clients and
// routes, no anonymous access, and one least-privilege user per role.
package natsdeploy_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/testenv"
	"github.com/alaya-sre/alaya/internal/testenv/certs"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
)

// cluster is the shipped configuration running on 127.0.0.1.
type cluster struct {
	ca      *certs.CA
	clients []string // client URLs, tls://127.0.0.1:PORT
	logs    []*testenv.LogBuffer

	bin    string
	dir    string
	routes []int // route ports of nodes 1-3

	mu       sync.Mutex
	expected map[string]bool // "alaya-ROLE Publish|Subscription SUBJECT" refusals the test provoked
}

// Roles, as named by the certificates gen-certs.sh makes and accounts.conf maps to users.
var roles = []string{"receiver", "page", "worker", "operator"}

// goCerts makes the certificates gen-certs.sh would, in Go: the test needs nothing installed.
func goCerts(t *testing.T) *certs.CA {
	ca := certs.NewCA(t, "Alaya test CA")
	for n := 1; n <= 3; n++ {
		ca.Issue(t, fmt.Sprintf("nats-%d", n), "alaya-nats-route",
			[]string{fmt.Sprintf("nats-%d", n), "localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	}
	for _, r := range roles {
		ca.Issue(t, "alaya-"+r, "alaya-"+r, nil, nil)
	}
	return ca
}

// scriptCerts runs the shipped gen-certs.sh, so the test also proves that the certificates an
// operator makes fit the shipped configuration. It needs openssl.
func scriptCerts(t *testing.T) *certs.CA {
	_, err := exec.LookPath("openssl")
	testenv.Require(t, "openssl (gen-certs.sh uses it)", err == nil)
	dir := t.TempDir()
	out, err := exec.Command("./gen-certs.sh", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("gen-certs.sh: %v\n%s", err, out)
	}
	return certs.Load(t, dir)
}

// startCluster renders the three shipped node configurations for this machine (paths, ports
// and route hosts; nothing else) and runs them as nats-server processes with ca's certificates.
func startCluster(t *testing.T, ca *certs.CA) *cluster {
	t.Helper()
	bin := natsserver.Binary(t)
	c := &cluster{ca: ca, bin: bin, dir: t.TempDir()}
	ports := freePorts(t, 9) // clients 0-2, routes 3-5, monitoring 6-8
	c.routes = ports[3:6]
	dir := c.dir
	copyFile(t, "accounts.conf", filepath.Join(dir, "accounts.conf"))
	for n := 1; n <= 3; n++ {
		reps := []string{
			"/etc/nats/tls/", c.ca.Dir + "/",
			"/var/lib/nats", filepath.Join(dir, fmt.Sprintf("store-%d", n)),
			"0.0.0.0:4222", fmt.Sprintf("127.0.0.1:%d", ports[n-1]),
			"0.0.0.0:6222", fmt.Sprintf("127.0.0.1:%d", ports[2+n]),
			"127.0.0.1:8222", fmt.Sprintf("127.0.0.1:%d", ports[5+n]),
		}
		for k := 1; k <= 3; k++ {
			if k != n {
				reps = append(reps, fmt.Sprintf("nats-route://nats-%d:6222", k), fmt.Sprintf("nats-route://127.0.0.1:%d", ports[2+k]))
			}
		}
		conf := render(t, fmt.Sprintf("nats-%d.conf", n), reps)
		path := filepath.Join(dir, fmt.Sprintf("nats-%d.conf", n))
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		c.logs = append(c.logs, start(t, bin, path, ports[n-1]))
		c.clients = append(c.clients, fmt.Sprintf("tls://127.0.0.1:%d", ports[n-1]))
	}
	for n := 1; n <= 3; n++ {
		waitHealthy(t, fmt.Sprintf("http://127.0.0.1:%d/healthz", ports[5+n]))
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, l := range c.logs {
				t.Logf("nats-%d log:\n%s", i+1, l.String())
			}
		}
	})
	return c
}

// startImpostor runs a fourth server from nats-1.conf that presents the client certificate
// NAME.pem (signed by the same CA) on its routes and points them at nodes 2 and 3, and
// returns its log.
func (c *cluster) startImpostor(t *testing.T, name string) *testenv.LogBuffer {
	t.Helper()
	ports := freePorts(t, 3)
	conf := render(t, "nats-1.conf", []string{
		"server_name: nats-1", "server_name: nats-impostor",
		"/etc/nats/tls/nats-1.pem", filepath.Join(c.ca.Dir, name+".pem"),
		"/etc/nats/tls/nats-1-key.pem", filepath.Join(c.ca.Dir, name+"-key.pem"),
		"/etc/nats/tls/", c.ca.Dir + "/",
		"/var/lib/nats", filepath.Join(c.dir, "store-impostor"),
		"0.0.0.0:4222", fmt.Sprintf("127.0.0.1:%d", ports[0]),
		"0.0.0.0:6222", fmt.Sprintf("127.0.0.1:%d", ports[1]),
		"127.0.0.1:8222", fmt.Sprintf("127.0.0.1:%d", ports[2]),
		"nats-route://nats-2:6222", fmt.Sprintf("nats-route://127.0.0.1:%d", c.routes[1]),
		"nats-route://nats-3:6222", fmt.Sprintf("nats-route://127.0.0.1:%d", c.routes[2]),
	})
	path := filepath.Join(c.dir, "nats-impostor.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return start(t, c.bin, path, ports[0])
}

// render reads a shipped file and replaces each old string with its new one. Every old string
// must occur: if the shipped file changes shape, the test says so instead of testing less.
func render(t *testing.T, file string, oldnew []string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i < len(oldnew); i += 2 {
		if !strings.Contains(s, oldnew[i]) {
			t.Fatalf("%s no longer contains %q: update the test's rendering", file, oldnew[i])
		}
		s = strings.ReplaceAll(s, oldnew[i], oldnew[i+1])
	}
	return s
}

// start runs nats-server -c conf until the test ends and waits for its client port.
func start(t *testing.T, bin, conf string, port int) *testenv.LogBuffer {
	t.Helper()
	logs := &testenv.LogBuffer{}
	cmd := exec.Command(bin, "-c", conf)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return logs
		}
		select {
		case <-exited:
			t.Fatalf("nats-server -c %s exited:\n%s", conf, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server -c %s not accepting connections:\n%s", conf, logs.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a port that has no event to wait on
	}
}

// waitHealthy waits until a node's monitoring endpoint (on localhost, as shipped) says it is
// healthy: JetStream has a meta leader and knows its peers, so a stream with three replicas
// can be placed.
func waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy after 30s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond) // polling: the server announces nothing to wait on
	}
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
