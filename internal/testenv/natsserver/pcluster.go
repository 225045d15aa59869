package natsserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// ProcessCluster is a JetStream cluster of nats-server processes, for what embedded servers
// cannot show: a node SIGKILLed (the page cache is all it had), or the whole cluster frozen as
// a network partition would leave it.
type ProcessCluster struct {
	Nodes []*Process
}

// StartProcessCluster runs n clustered nats-server processes on 127.0.0.1, each with the full
// route list, and stops them when the test ends. Clients must retry stream creation until the
// meta leader is elected (about 0.6 s), as queue.Connect does.
func StartProcessCluster(tb testing.TB, n int) *ProcessCluster {
	tb.Helper()
	ports := freePorts(tb, 2*n)
	routes := make([]string, n)
	for i := range n {
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", ports[n+i])
	}
	c := &ProcessCluster{}
	dir := tb.TempDir()
	for i := range n {
		conf := filepath.Join(dir, fmt.Sprintf("n%d.conf", i+1))
		body := fmt.Sprintf("server_name: n%d\ncluster {\n  name: alaya-test\n  listen: 127.0.0.1:%d\n  routes: [%s]\n}\n",
			i+1, ports[n+i], strings.Join(routes, ", "))
		if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
		c.Nodes = append(c.Nodes, newProcess(tb, ports[i], "-c", conf))
	}
	for _, p := range c.Nodes {
		p.start()
	}
	return c
}

// URLs are the client URLs of every node.
func (c *ProcessCluster) URLs() []string {
	urls := make([]string, len(c.Nodes))
	for i, p := range c.Nodes {
		urls[i] = p.URL()
	}
	return urls
}

// Freeze stops every node (SIGSTOP): connections stay open but nothing answers, as in a
// network partition between the clients and the whole cluster. Thaw lets them go on.
func (c *ProcessCluster) Freeze() { c.signal(syscall.SIGSTOP) }

// Thaw resumes the nodes Freeze stopped.
func (c *ProcessCluster) Thaw() { c.signal(syscall.SIGCONT) }

func (c *ProcessCluster) signal(sig syscall.Signal) {
	for _, p := range c.Nodes {
		if p.cmd != nil {
			p.cmd.Process.Signal(sig)
		}
	}
}
