package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/pagerduty"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/webhook"
)

// TestAcceptedWebhooksSurviveAServerCrash is the receiver's promise under a real crash:
// webhooks keep arriving while nats-server is killed with SIGKILL and restarted; every one
// that was answered 202 is in the stream afterwards. (The others got 503, which PagerDuty
// retries.)
func TestAcceptedWebhooksSurviveAServerCrash(t *testing.T) {
	srv := natsserver.StartProcess(t)
	ctx := context.Background()
	q, err := queue.Connect(ctx, queue.Config{URLs: []string{srv.URL()}}, slog.New(slog.DiscardHandler),
		prometheus.NewRegistry(), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	h := httptest.NewServer(webhook.NewPagerDutyHandler(webhook.Deps{
		Publisher: q, Secrets: func() [][]byte { return [][]byte{secretNew} },
		Verify: pagerduty.VerifySignature, Decode: pagerduty.DecodeWebhook,
		Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry(), PublishTimeout: time.Second,
		Now: fixtureNow,
	}))
	t.Cleanup(h.Close)

	template := fixture(t, "incident.triggered.json")
	var accepted sync.Map
	var n atomic.Int64
	send := func(i int) {
		id := fmt.Sprintf("crash-%04d", i)
		body := bytes.Replace(template, []byte("01HZALAYATESTEVENT0000001"), []byte(id), 1)
		req, _ := http.NewRequest(http.MethodPost, h.URL, bytes.NewReader(body))
		req.Header.Set("X-PagerDuty-Signature", sign(secretNew, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusAccepted {
			accepted.Store(id, true)
			n.Add(1)
		}
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < 400; i += 4 {
				send(i)
			}
		})
	}
	for n.Load() < 100 { // crash while webhooks are in flight
		time.Sleep(time.Millisecond)
	}
	srv.Kill()
	time.Sleep(200 * time.Millisecond)
	srv.Restart()
	wg.Wait()

	stored := storedEventIDs(t, srv.URL())
	missing := 0
	accepted.Range(func(k, _ any) bool {
		if !stored[k.(string)] {
			missing++
		}
		return true
	})
	if missing > 0 {
		t.Fatalf("%d of %d accepted webhooks are not in the stream after the crash", missing, n.Load())
	}
	t.Logf("%d webhooks accepted across the crash, all stored", n.Load())
}

// storedEventIDs reads every event in the stream with an ordered consumer.
func storedEventIDs(t *testing.T, url string) map[string]bool {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var s jetstream.Stream
	for s == nil { // the restarted server recovers its streams first
		if s, err = js.Stream(ctx, queue.DefaultStream); err != nil && ctx.Err() != nil {
			t.Fatal(err)
		}
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for range info.State.Msgs {
		msg, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			ID string `json:"id"`
		}
		json.Unmarshal(msg.Data(), &ev)
		ids[ev.ID] = true
	}
	return ids
}
