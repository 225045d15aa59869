package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/testenv"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/webhook"
)

// The handler's verify and decode are injected; these are the tests' own small versions of
// what the pagerduty package provides, written from PagerDuty's documented V3 format.

func sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

func verify(header string, body []byte, secrets [][]byte) bool {
	var want [][]byte
	for _, s := range secrets {
		m := hmac.New(sha256.New, s)
		m.Write(body)
		want = append(want, m.Sum(nil))
	}
	ok := false
	for _, sig := range strings.Split(header, ",") {
		got, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(sig), "v1="))
		if err != nil {
			continue
		}
		for _, w := range want {
			ok = hmac.Equal(got, w) || ok // no early exit: constant time over the list
		}
	}
	return ok
}

var errTestMalformed = errors.New("malformed")

func decode(body []byte) (*incident.Event, error) {
	var v struct {
		Event struct {
			ID         string    `json:"id"`
			Type       string    `json:"event_type"`
			OccurredAt time.Time `json:"occurred_at"`
			Data       struct {
				ID      string       `json:"id"`
				Title   string       `json:"title"`
				Status  string       `json:"status"`
				Service incident.Ref `json:"service"`
			} `json:"data"`
		} `json:"event"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, errors.Join(errTestMalformed, err)
	}
	e := v.Event
	if e.Type == "" || (strings.HasPrefix(e.Type, "incident.") && e.Data.ID == "") {
		return nil, errors.Join(errTestMalformed, errors.New("event_type or incident id missing"))
	}
	return &incident.Event{
		ID: e.ID, Type: e.Type, Source: "pagerduty", OccurredAt: e.OccurredAt,
		Incident: incident.Incident{ID: e.Data.ID, Title: e.Data.Title, Status: e.Data.Status, Service: e.Data.Service},
	}, nil
}

var (
	secretNew = []byte("whsec-new-3f9a1c")
	secretOld = []byte("whsec-old-77b2e0")
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// env is a receiver wired to a real embedded JetStream.
type env struct {
	srv  *natsserver.Server
	q    *queue.Queue
	http *httptest.Server
	reg  *prometheus.Registry
	logs *syncBuffer
}

func newEnv(t testing.TB, secrets [][]byte, publishTimeout time.Duration, opts ...natsserver.Option) *env {
	t.Helper()
	return newEnvWith(t, secrets, publishTimeout, verify, decode, opts...)
}

// newEnvWith is newEnv with the signature check and decoder given, so benchmarks can measure
// the production pair from package pagerduty.
func newEnvWith(t testing.TB, secrets [][]byte, publishTimeout time.Duration,
	verify func(string, []byte, [][]byte) bool, decode func([]byte) (*incident.Event, error), opts ...natsserver.Option) *env {
	t.Helper()
	e := &env{srv: natsserver.Start(t, opts...), reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	level := slog.LevelDebug
	if _, bench := t.(*testing.B); bench {
		level = slog.LevelInfo // as in production: no line per accepted webhook
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q, err := queue.Connect(ctx, queue.Config{URLs: []string{e.srv.URL()}}, log, e.reg, nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	e.q = q
	h := webhook.NewPagerDutyHandler(webhook.Deps{
		Publisher: q, Secrets: func() [][]byte { return secrets }, Verify: verify, Decode: decode,
		Logger: log, Registerer: e.reg, PublishTimeout: publishTimeout, Now: fixtureNow,
	})
	e.http = httptest.NewServer(h)
	t.Cleanup(e.http.Close)
	return e
}

// post sends body with the given signature header (none if empty).
func (e *env) post(t testing.TB, body []byte, signature string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.http.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Webhook-Id", "hdr-webhook-id")
	if signature != "" {
		req.Header.Set(webhook.HeaderSignature, signature)
	}
	return do(t, e.http.Client(), req)
}

func do(t testing.TB, c *http.Client, req *http.Request) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("response %d is not JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, resp.Header, out
}

// stored is the number of messages in the stream.
func (e *env) stored(t testing.TB) uint64 {
	t.Helper()
	s, err := e.q.JetStream().Stream(context.Background(), queue.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

type syncBuffer = testenv.LogBuffer

// fixtureNow is the receiver's clock in tests that send the recorded webhooks: a few minutes
// after they occurred, so the replay window accepts them whatever the date is.
func fixtureNow() time.Time { return time.Date(2026, 3, 14, 3, 10, 0, 0, time.UTC) }
