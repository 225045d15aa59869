package natsserver

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a JetStream cluster of embedded servers, for failover tests: streams with
// Replicas: 3 survive the loss of any one node.
type Cluster struct {
	Servers []*Server
}

// StartCluster runs n clustered JetStream servers on 127.0.0.1. Every node gets the full route
// list (pre-picked cluster ports), as TESTBED.md's recipe says. The meta leader is elected
// shortly after start (about 0.6 s): clients must retry stream creation until it exists, which
// queue.Connect does.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	ports := freePorts(tb, n)
	routes := make([]string, n)
	for i, p := range ports {
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", p)
	}
	c := &Cluster{}
	for i := range n {
		node := WithOptions(func(o *server.Options) {
			o.ServerName = fmt.Sprintf("n%d", i+1)
			o.Cluster = server.ClusterOpts{Name: "alaya-test", Host: "127.0.0.1", Port: ports[i]}
			o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		})
		c.Servers = append(c.Servers, Start(tb, node))
	}
	return c
}

// URLs are the client URLs of every node, for a client that must survive the loss of one.
func (c *Cluster) URLs() []string {
	urls := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		urls[i] = s.URL()
	}
	return urls
}

// freePorts asks the kernel for n distinct free ports. They are released before the servers
// bind them; on a test machine the window for another process to take one is negligible.
func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("natsserver: free port: %v", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}
