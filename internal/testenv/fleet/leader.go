package fleet

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
)

// StreamLeader is the node that leads stream's replicas now, so a scenario can crash the one
// whose loss moves the stream. Cluster nodes are named n1, n2, … in the order of NATS.Nodes.
func (f *Fleet) StreamLeader(stream string) (*natsserver.Process, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := nats.Connect(strings.Join(f.NATS.URLs(), ","))
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", stream, err)
	}
	cl := s.CachedInfo().Cluster
	if cl == nil {
		return nil, fmt.Errorf("stream %s: not clustered", stream)
	}
	for i, n := range f.NATS.Nodes {
		if cl.Leader == fmt.Sprintf("n%d", i+1) {
			return n, nil
		}
	}
	return nil, fmt.Errorf("stream %s: leader %q is not one of the fleet's nodes", stream, cl.Leader)
}
