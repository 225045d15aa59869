package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/alaya-sre/alaya/app"
	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

// TestHealthAndMetricsOnlyOnTheAdminListener: the webhook listener is the one exposed to the
// internet; /metrics there told anyone the process's internals and request counts.
func TestHealthAndMetricsOnlyOnTheAdminListener(t *testing.T) {
	srv := natsserver.Start(t)
	env := map[string]string{"ALAYA_NATS_URLS": srv.URL(), "ALAYA_EVIDENCE_DIR": t.TempDir(),
		"ALAYA_RECEIVER_WEBHOOK_SECRETS": webhookSecret}
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	worker, err := queue.Connect(ctx, app.QueueConfig(cfg), nil, nil) // declares, as a worker does
	if err != nil {
		t.Fatal(err)
	}
	defer worker.Close()
	r, err := app.NewReceiver(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rl, al := listen(t), listen(t)
	r.ServeAdminOn(al)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, rl) }()
	public, admin := "http://"+rl.Addr().String(), "http://"+al.Addr().String()
	waitHTTP(t, admin+"/readyz", http.StatusOK)

	for _, tc := range []struct {
		method, url string
		want        int
	}{
		{"GET", public + "/metrics", http.StatusNotFound},
		{"GET", public + "/healthz", http.StatusNotFound},
		{"GET", public + "/readyz", http.StatusNotFound},
		{"POST", public + "/v1/webhooks/pagerduty", http.StatusUnauthorized}, // unsigned
		{"GET", admin + "/metrics", http.StatusOK},
		{"GET", admin + "/healthz", http.StatusOK},
		{"GET", admin + "/readyz", http.StatusOK},
		{"POST", admin + "/v1/webhooks/pagerduty", http.StatusNotFound},
	} {
		req, _ := http.NewRequestWithContext(ctx, tc.method, tc.url, http.NoBody)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.url, resp.StatusCode, tc.want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}
