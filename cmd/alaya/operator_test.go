package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

// fleetConfig is what a daemon configured for production declared: everything differs from
// the package defaults an operator's command would otherwise apply.
func fleetConfig(urls []string, replicas int) queue.Config {
	return queue.Config{
		URLs: urls, Replicas: replicas, AckWait: 45 * time.Second, MaxDeliver: 30,
		Duplicates: 2 * time.Hour, RunsTTL: 90 * 24 * time.Hour,
	}
}

// declared is the configuration of everything the daemons declare, as the server reports it.
func declared(t *testing.T, js jetstream.JetStream) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	streams := []string{queue.DefaultStream}
	for _, b := range []string{queue.BucketRuns, queue.BucketApprovals, queue.BucketLeases, queue.BucketSwitches} {
		streams = append(streams, "KV_"+b)
	}
	for _, name := range streams {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		b, _ := json.Marshal(s.CachedInfo().Config)
		out.Write(append(b, '\n'))
	}
	c, err := js.Consumer(ctx, queue.DefaultStream, queue.DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(c.CachedInfo().Config)
	out.Write(b)
	return out.String()
}

// operatorCommandsChangeNothing runs every read-only operator command against urls and checks
// that the stream, the consumer and every bucket keep the configuration the daemon declared.
func operatorCommandsChangeNothing(t *testing.T, urls []string, replicas int) {
	t.Setenv("ALAYA_NATS_URLS", strings.Join(urls, ","))
	t.Setenv("ALAYA_EVIDENCE_DIR", t.TempDir())
	q, err := queue.Connect(t.Context(), fleetConfig(urls, replicas), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	before := declared(t, q.JetStream())
	for _, args := range [][]string{{"switch"}, {"runs"}, {"switch", "dry-run", "on"}, {"switch", "dry-run", "off"}} {
		var out, errOut bytes.Buffer
		if code := run(t.Context(), args, &out, &errOut); code != 0 {
			t.Fatalf("alaya %s exited %d: %s", strings.Join(args, " "), code, errOut.String())
		}
		if after := declared(t, q.JetStream()); after != before {
			t.Fatalf("alaya %s changed what the daemons declared:\nbefore %s\nafter  %s", strings.Join(args, " "), before, after)
		}
	}
}

func TestOperatorCommandsChangeNoConfiguration(t *testing.T) {
	srv := natsserver.Start(t)
	operatorCommandsChangeNothing(t, []string{srv.URL()}, 1)
}

func TestOperatorCommandsChangeNoConfigurationOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	c := natsserver.StartCluster(t, 3)
	operatorCommandsChangeNothing(t, c.URLs(), 3)
}

// An operator's command against a NATS where no daemon ever ran says so, and creates nothing:
// a typo in nats.urls must not leave a second, empty fleet behind.
func TestOperatorCommandsSayWhatIsMissing(t *testing.T) {
	srv := natsserver.Start(t)
	t.Setenv("ALAYA_NATS_URLS", srv.URL())
	t.Setenv("ALAYA_EVIDENCE_DIR", t.TempDir())
	for _, args := range [][]string{{"switch"}, {"runs"}} {
		var out, errOut bytes.Buffer
		if code := run(t.Context(), args, &out, &errOut); code != 1 {
			t.Errorf("alaya %s on an empty server exited %d, want 1", args[0], code)
		}
		if msg := errOut.String(); !strings.Contains(msg, "does not exist") || !strings.Contains(msg, "start a worker") {
			t.Errorf("alaya %s: unclear message %q", args[0], msg)
		}
	}
	js := jsOf(t, srv.URL())
	names := js.StreamNames(t.Context())
	var got []string
	for n := range names.Name() {
		got = append(got, n)
	}
	if len(got) != 0 {
		t.Errorf("operator commands created %v", got)
	}
}

func jsOf(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}
