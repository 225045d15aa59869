// Package natsserver runs a real nats-server with JetStream inside the test process.
//
// Tests of the queue, the receiver and the worker need the real delivery semantics (message-id
// de-duplication, explicit acks, NakWithDelay, InProgress, KV compare-and-swap); a fake would
// only reproduce what we already believe about them. The embedded server starts in about 30 ms,
// stores into the test's temporary directory and is shut down by the test's cleanup.
//
// Shutdown and Restart keep the port and the store directory, so a test can take NATS away from
// a running client and give it back with the stream's contents intact, as happens when a real
// server is restarted.
package natsserver

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// readyTimeout bounds how long Start waits for the server to accept connections.
const readyTimeout = 10 * time.Second

// Option changes the server's options before it starts.
type Option func(*server.Options)

// WithPort makes the server listen on a fixed port instead of a free one.
func WithPort(port int) Option { return func(o *server.Options) { o.Port = port } }

// WithOptions gives access to every server option, for the rare test that needs one.
func WithOptions(f func(*server.Options)) Option { return Option(f) }

// Server is an embedded nats-server with JetStream, owned by one test.
type Server struct {
	tb   testing.TB
	opts []Option
	base server.Options // resolved port and store dir, reused by Restart

	mu  sync.Mutex
	srv *server.Server
}

// Start runs a JetStream server on 127.0.0.1 and registers its shutdown with tb.Cleanup.
// It fails the test if the server is not ready within 10 s.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{tb: tb, opts: opts}
	s.base = server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: tb.TempDir(), NoLog: true, NoSigs: true,
	}
	for _, o := range opts {
		o(&s.base)
	}
	s.start()
	// Later restarts must come back on the same port so that clients reconnect.
	s.base.Port = s.srv.Addr().(*net.TCPAddr).Port
	tb.Cleanup(s.Shutdown)
	return s
}

func (s *Server) start() {
	s.tb.Helper()
	o := s.base // NewServer keeps and mutates its options: give each instance its own copy
	srv, err := server.NewServer(&o)
	if err != nil {
		s.tb.Fatalf("natsserver: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(readyTimeout) {
		srv.Shutdown()
		s.tb.Fatalf("natsserver: not ready for connections after %s", readyTimeout)
	}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
}

// URL is the client URL, stable across restarts.
func (s *Server) URL() string {
	return fmt.Sprintf("nats://%s:%d", s.base.Host, s.base.Port)
}

// NATS returns the running server (nil while shut down).
func (s *Server) NATS() *server.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// Shutdown stops the server and waits until it has stopped. Calling it on a stopped server is
// a no-op, so tests may shut down early and still rely on the cleanup.
func (s *Server) Shutdown() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	srv.Shutdown()
	srv.WaitForShutdown()
}

// Restart shuts the server down (if running) and starts it again on the same port with the same
// store directory: streams, consumers and KV buckets survive, connections do not.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Shutdown()
	s.start()
}
