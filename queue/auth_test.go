package queue_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

// TestConnectWithEachIdentity: the three ways a process can prove itself to NATS besides a TLS
// certificate (deploy/nats uses that one; its test covers it) each connect, a wrong secret is
// refused, and no error quotes the secret.
func TestConnectWithEachIdentity(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	seedFile := filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	const password = "pw-do-not-leak-0123456789"
	srv := natsserver.Start(t, natsserver.WithOptions(func(o *server.Options) {
		o.Users = []*server.User{{Username: "alaya-worker", Password: password}}
		o.Nkeys = []*server.NkeyUser{{Nkey: pub}}
	}))

	connect(t, srv, func(c *queue.Config) { c.User, c.Password = "alaya-worker", password })
	connect(t, srv, func(c *queue.Config) { c.NKeySeedFile = seedFile })

	for name, change := range map[string]func(*queue.Config){
		"anonymous":      func(*queue.Config) {},
		"wrong password": func(c *queue.Config) { c.User, c.Password = "alaya-worker", password+"x" },
		"two identities": func(c *queue.Config) { c.User, c.Password, c.NKeySeedFile = "alaya-worker", password, seedFile },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := queue.Config{URLs: []string{srv.URL()}}
			change(&cfg)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			q, err := queue.Connect(ctx, cfg, nil, nil)
			if err == nil {
				q.Close()
				t.Fatal("connected")
			}
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), string(seed)) {
				t.Errorf("error quotes the secret: %v", err)
			}
		})
	}
}

// TestBindDeclaresNothing: a process that binds (receivers, operator tools) finds what the
// workers declared, never creates a stream, consumer or bucket itself, and binds a bucket only
// when asked for it (so a NATS user allowed only some buckets can bind).
func TestBindDeclaresNothing(t *testing.T) {
	srv := natsserver.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := queue.Bind(ctx, queue.Config{URLs: []string{srv.URL()}}, nil, nil)
	if !errors.Is(err, queue.ErrNotDeclared) {
		t.Errorf("bind with no stream: err = %v", err)
	}
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for name := range js.StreamNames(ctx).Name() {
		t.Errorf("bind created stream %s", name)
	}

	connect(t, srv, nil) // a worker declares
	q, err := queue.Bind(ctx, queue.Config{URLs: []string{srv.URL()}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if q.Runs != nil || q.Approvals != nil || q.Leases != nil || q.Switches != nil {
		t.Error("bind opened buckets before they were asked for")
	}
	kv, err := q.KV(ctx, queue.BucketApprovals)
	if err != nil || kv.Bucket() != queue.BucketApprovals {
		t.Errorf("KV binds on first use: %v", err)
	}
	if _, err := q.KV(ctx, "alaya_nope"); !errors.Is(err, queue.ErrNotDeclared) {
		t.Errorf("KV of a bucket that does not exist: err = %v", err)
	}
}
