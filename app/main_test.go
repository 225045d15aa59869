package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/app"
	"github.com/alaya-sre/alaya/config"
)

func TestMainVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := app.Main(context.Background(), "alaya-worker", []string{"-version"}, func(string) string { return "" },
		&stdout, &stderr, app.RunWorker)
	if code != 0 || !strings.HasPrefix(stdout.String(), "alaya-worker ") || !strings.Contains(stdout.String(), " commit ") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

// TestProcessesRefuseConfigsTheyCannotServe: a receiver without any webhook secret used to start,
// report ready and refuse every delivery; a worker without an inventory said only
// "inventory: open : no such file or directory". Both now stop at once and name the key.
func TestProcessesRefuseConfigsTheyCannotServe(t *testing.T) {
	tests := []struct {
		name string
		run  func(context.Context, *config.Config, *slog.Logger) error
		env  map[string]string
		want string
	}{
		{"alaya-receiver", app.RunReceiver, nil, "receiver.webhook_secrets: required"},
		{"alaya-worker", app.RunWorker, map[string]string{"ALAYA_WORKER_RUNBOOKS": "testdata"}, "worker.inventory: required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"ALAYA_EVIDENCE_DIR": t.TempDir(), "ALAYA_NATS_URLS": "nats://127.0.0.1:1"}
			for k, v := range tt.env {
				env[k] = v
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			code := app.Main(ctx, tt.name, nil, func(k string) string { return env[k] }, &stdout, &stderr, tt.run)
			if code == 0 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q\nwant a failure naming %q", code, stderr.String(), tt.want)
			}
		})
	}
}

func TestLogsWriteDurationsPeopleRead(t *testing.T) {
	var buf bytes.Buffer
	app.NewLogger(&buf, "info").Info("step done", "took", 36723860*time.Nanosecond,
		slog.Group("worker", "grace", 90*time.Second))
	for _, want := range []string{`"took":"36.72386ms"`, `"grace":"1m30s"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log line %s\ndoes not contain %s", buf.String(), want)
		}
	}
}
