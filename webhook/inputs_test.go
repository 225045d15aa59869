package webhook_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/webhook"
)

// idleConns is the probe of issue 8: connections that declare a large body and send none.
const idleConns = 800

// signalFirstRead calls ready at the handler's first read of the body (it is then blocked
// waiting for bytes that never come) or when the handler returns without reading: either way
// the request has done all it will do before the body arrives.
func signalFirstRead(h http.Handler, ready chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once := sync.OnceFunc(func() { ready <- struct{}{} })
		r.Body = &readSignal{ReadCloser: r.Body, first: once}
		h.ServeHTTP(w, r)
		once()
	})
}

type readSignal struct {
	io.ReadCloser
	first func()
}

func (r *readSignal) Read(p []byte) (int, error) { r.first(); return r.ReadCloser.Read(p) }

// openIdle opens n connections that each send the headers of a POST declaring length bytes
// of body, and nothing more, and returns a function that closes them.
func openIdle(t *testing.T, addr string, n int, length int) (closeAll func()) {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	closeAll = func() {
		for _, c := range conns {
			c.Close()
		}
	}
	t.Cleanup(closeAll)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /v1/webhooks/pagerduty HTTP/1.1\r\nHost: alaya\r\nContent-Type: application/json\r\n"+
			"X-PagerDuty-Signature: v1=00\r\nContent-Length: %d\r\n\r\n", length)
	}
	return closeAll
}

// heapAlloc is the live heap; two collections, so that sync.Pool caches of an earlier round
// (kept for one cycle) are not counted.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// idleHeapGrowth is the heap growth while idleConns connections that declared length bytes
// wait in a receiver (default limits), measured once every request got as far as it will.
func idleHeapGrowth(t *testing.T, length int) (before, after uint64) {
	pub := publisherFunc(func(context.Context, *incident.Event) (uint64, bool, error) { return 1, false, nil })
	h := webhook.NewPagerDutyHandler(webhook.Deps{
		Publisher: pub, Secrets: func() [][]byte { return [][]byte{secretNew} }, Verify: verify, Decode: decode,
	})
	ready := make(chan struct{}, idleConns)
	srv := httptest.NewServer(signalFirstRead(h, ready))
	defer srv.Close()
	before = heapAlloc()
	closeAll := openIdle(t, srv.Listener.Addr().String(), idleConns, length)
	defer closeAll()
	deadline := time.After(60 * time.Second)
	for i := range idleConns {
		select {
		case <-ready:
		case <-deadline:
			t.Fatalf("only %d of %d requests reached the handler", i, idleConns)
		}
	}
	return before, heapAlloc()
}

// TestIdleConnectionsKeepTheHeapFlat is the 800-idle-connections probe: each declares a body
// just under the limit and sends nothing. The receiver must not allocate from the declared
// length (it cost 218 MiB), and bodies beyond the in-flight limit are not read at all. What
// remains is net/http's own cost per open connection (buffers of a few KiB), the same whether
// the connection declared 1 byte or 256 KiB.
func TestIdleConnectionsKeepTheHeapFlat(t *testing.T) {
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	b1, a1 := idleHeapGrowth(t, 1)
	small := int64(a1) - int64(b1)
	b2, a2 := idleHeapGrowth(t, webhook.DefaultMaxBody)
	large := int64(a2) - int64(b2)
	t.Logf("%d idle connections declaring 1 byte: heap %.1f -> %.1f MiB (+%.1f)", idleConns, mib(int64(b1)), mib(int64(a1)), mib(small))
	t.Logf("%d idle connections declaring %d bytes: heap %.1f -> %.1f MiB (+%.1f)", idleConns, webhook.DefaultMaxBody, mib(int64(b2)), mib(int64(a2)), mib(large))
	if large > 32<<20 || large > small+8<<20 {
		t.Errorf("heap grew by %.1f MiB for %d idle connections declaring %d bytes (%.1f MiB declaring 1 byte)",
			mib(large), idleConns, webhook.DefaultMaxBody, mib(small))
	}
}

// Beyond the in-flight limit a webhook is answered 503 with Retry-After before its body is
// read, and counted; a slot that frees up is used again.
func TestInflightLimit(t *testing.T) {
	reg := prometheus.NewRegistry()
	pub := publisherFunc(func(context.Context, *incident.Event) (uint64, bool, error) { return 1, false, nil })
	h := webhook.NewPagerDutyHandler(webhook.Deps{
		Publisher: pub, Secrets: func() [][]byte { return [][]byte{secretNew} }, Verify: verify, Decode: decode,
		Registerer: reg, Limiter: webhook.NewLimiter(2, reg), Now: fixtureNow,
	})
	ready := make(chan struct{}, 3)
	srv := httptest.NewServer(signalFirstRead(h, ready))
	t.Cleanup(srv.Close)
	body := fixture(t, "incident.triggered.json")

	// Two slow senders hold both slots.
	slow := make([]net.Conn, 2)
	for i := range slow {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		id := fmt.Sprintf("E-slow-%d", i)
		b := noIDFree(body, id)
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: alaya\r\nX-PagerDuty-Signature: %s\r\nContent-Length: %d\r\n\r\n", sign(secretNew, b), len(b))
		slow[i] = c
		<-ready
	}
	status, hdr, resp := do(t, srv.Client(), signedRequest(srv.URL, body))
	if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" || !strings.Contains(toJSON(resp), "in flight") {
		t.Errorf("third webhook while two are in flight: %d Retry-After=%q %v", status, hdr.Get("Retry-After"), resp)
	}
	if n := refusedCount(t, reg, "pagerduty", "busy"); n != 1 {
		t.Errorf("busy refusals counted: %v", n)
	}
	// The first slow sender finishes; its slot serves the next webhook.
	b := noIDFree(body, "E-slow-0")
	slow[0].Write(b)
	line, err := bufio.NewReader(slow[0]).ReadString('\n')
	if err != nil || !strings.Contains(line, "202") {
		t.Fatalf("slow sender: %q %v", line, err)
	}
	if status, _, resp := do(t, srv.Client(), signedRequest(srv.URL, body)); status != http.StatusAccepted {
		t.Errorf("after a slot freed: %d %v", status, resp)
	}
}

func signedRequest(url string, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set(webhook.HeaderSignature, sign(secretNew, body))
	return req
}

// refusedCount returns the refusal counter of source and reason in reg (0 if absent).
func refusedCount(t *testing.T, reg *prometheus.Registry, source, reason string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "alaya_webhook_refused_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["source"] == source && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestStaleAndFutureEventsAreRefused: a signed delivery is only as good as its time. One older
// than the de-duplication window is a replay the stream no longer recognises, and one from
// the future is forged or from a broken clock: both are refused with 422, which PagerDuty does
// not retry, and counted. Events inside the window are accepted, including the small skew
// between PagerDuty's clock and ours.
func TestStaleAndFutureEventsAreRefused(t *testing.T) {
	reg := prometheus.NewRegistry()
	pub := &capture{events: map[string]*incident.Event{}}
	h := webhook.NewPagerDutyHandler(webhook.Deps{
		Publisher: pub, Secrets: func() [][]byte { return [][]byte{secretNew} }, Verify: verify, Decode: decode,
		Registerer: reg,
	})
	body := fixture(t, "incident.triggered.json")
	at := func(id string, when time.Time) []byte {
		return bytes.Replace(noIDFree(body, id), []byte("2026-03-14T03:02:11.412Z"), []byte(when.UTC().Format(time.RFC3339Nano)), 1)
	}
	now := time.Now()
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
		reason string
	}{
		{"a delivery from 2020", at("E-2020", time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)), 422, "stale"},
		{"just older than the window", at("E-old", now.Add(-webhook.DefaultMaxAge-time.Minute)), 422, "stale"},
		{"an hour in the future", at("E-future", now.Add(time.Hour)), 422, "future"},
		{"inside the window", at("E-recent", now.Add(-webhook.DefaultMaxAge+time.Hour)), 202, ""},
		{"a minute ahead (clock skew)", at("E-skew", now.Add(time.Minute)), 202, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := recordServe(h, httptestRequest(tc.body, sign(secretNew, tc.body)))
			if rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body.String(), tc.status)
			}
			if tc.reason != "" && !strings.Contains(rec.Body.String(), "occurred_at") {
				t.Errorf("refusal does not say why: %s", rec.Body.String())
			}
		})
	}
	if len(pub.events) != 2 {
		t.Errorf("%d events published, want the 2 fresh ones", len(pub.events))
	}
	if s, f := refusedCount(t, reg, "pagerduty", "stale"), refusedCount(t, reg, "pagerduty", "future"); s != 2 || f != 1 {
		t.Errorf("refusals counted: stale %v, future %v", s, f)
	}
}
