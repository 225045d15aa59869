package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/queue"
)

// QueueConfig is the queue configuration every process derives from the config: where NATS
// is, who this process is to it, and how deliveries behave.
func QueueConfig(cfg *config.Config) queue.Config {
	n := cfg.NATS
	return queue.Config{
		URLs:         n.URLs,
		Prefix:       n.Prefix,
		Stream:       n.Stream,
		Duplicates:   n.Duplicates,
		Replicas:     n.Replicas,
		Credentials:  n.Credentials,
		NKeySeedFile: n.NKeySeedFile,
		User:         n.User,
		Password:     n.Password.Reveal(),
		InboxPrefix:  n.InboxPrefix,
		TLS: queue.TLSFiles{CAFile: n.TLS.CAFile, CertFile: n.TLS.CertFile, KeyFile: n.TLS.KeyFile,
			ServerName: n.TLS.ServerName},
		AckWait:    cfg.Worker.AckWait,
		MaxDeliver: cfg.Worker.MaxDeliver,
		Workers:    cfg.Worker.Concurrency,
	}
}

// StartEmbeddedNATS runs a JetStream server inside this process, for the one-machine setup and
// the demo. It listens on the host and port of the first nats.urls entry (127.0.0.1:4222 by
// default; port 0 picks a free one) and returns the URL clients should use.
func StartEmbeddedNATS(cfg *config.Config) (*server.Server, string, error) {
	host, port := "127.0.0.1", 4222
	if len(cfg.NATS.URLs) > 0 {
		u, err := url.Parse(cfg.NATS.URLs[0])
		if err != nil {
			return nil, "", fmt.Errorf("embedded nats: %w", err)
		}
		if h, p, err := net.SplitHostPort(u.Host); err == nil {
			host = h
			port, _ = strconv.Atoi(p)
		}
	}
	if port == 0 {
		port = -1 // nats-server's "any free port"
	}
	s, err := server.NewServer(&server.Options{
		ServerName: "alaya-embedded", Host: host, Port: port,
		JetStream: true, StoreDir: cfg.NATS.StoreDir, NoLog: true, NoSigs: true,
	})
	if err != nil {
		return nil, "", fmt.Errorf("embedded nats: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, "", fmt.Errorf("embedded nats: not ready after 10s on %s:%d", host, port)
	}
	return s, s.ClientURL(), nil
}

// ConnectOperator connects a command a person runs (alaya runs, alaya switch) to the NATS the
// config names, with the same connect options as the daemons (TLS, credentials). It binds to
// what the daemons declared and changes nothing: an operator's config (or a laptop's
// defaults) must not reconfigure the fleet's stream, consumer or buckets.
func ConnectOperator(ctx context.Context, cfg *config.Config) (*queue.Queue, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return queue.Bind(ctx, QueueConfig(cfg), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
}
