package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/webhook"
)

func TestHealthz(t *testing.T) {
	rec := recordServe(webhook.Healthz(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("healthz %d", rec.Code)
	}
}

func TestReadyz(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  func(context.Context) error
		status int
		want   string
	}{
		{"ready", func(context.Context) error { return nil }, 200, "ready"},
		{"not ready says why", func(context.Context) error { return errors.New("nats not connected") }, 503, "nats not connected"},
		{"a hanging check is bounded", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, 503, "deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := recordServe(webhook.Readyz(tc.check), httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("%d %s", rec.Code, rec.Body.String())
			}
		})
	}
}

// Readyz on a real queue follows NATS: down while the server is, up again after it returns.
func TestReadyzFollowsNATS(t *testing.T) {
	e := newEnv(t, nil, time.Second)
	h := webhook.Readyz(e.q.Ready)
	get := func() int { return recordServe(h, httptest.NewRequest(http.MethodGet, "/readyz", nil)).Code }
	if code := get(); code != 200 {
		t.Fatalf("fresh queue: %d", code)
	}
	e.srv.Shutdown()
	if code := get(); code != 503 {
		t.Errorf("NATS down: %d", code)
	}
	e.srv.Restart()
	waitReady(t, e)
	if code := get(); code != 200 {
		t.Errorf("NATS back: %d", code)
	}
}
