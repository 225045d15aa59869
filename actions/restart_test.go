package actions_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/inventory"
)

// fakeSystemd puts testdata/fake-systemctl on PATH as systemctl and returns its state dir.
func fakeSystemd(t *testing.T) string {
	bin, state := t.TempDir(), t.TempDir()
	script, err := os.ReadFile("testdata/fake-systemctl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "systemctl"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	t.Setenv("FAKE_SYSTEMD", state)
	return state
}

func localHost(name string) *inventory.Host {
	return &inventory.Host{Endpoint: inventory.Endpoint{Name: name}, Transport: inventory.TransportLocal}
}

func write(t *testing.T, path, content string) {
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRestart(t *testing.T) {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer healthy.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer sick.Close()
	tests := []struct {
		name        string
		setup       func(state string)
		params      map[string]string
		wantErr     error
		wantSummary string
	}{
		{"active and healthy", nil, map[string]string{"service": "web", "health_url": healthy.URL},
			nil, "restarted web on app-3: active (after"},
		{"activating then active", func(s string) { write(t, s+"/web.activating", "2") },
			map[string]string{"service": "web"}, nil, "restarted web on app-3: active (after"},
		{"health check failing", nil, map[string]string{"service": "web", "health_url": sick.URL, "settle": "300ms"},
			actions.ErrVerify, "restarted web on app-3: active (after"},
		{"never active", func(s string) { write(t, s+"/web.activating", "1000") },
			map[string]string{"service": "web", "settle": "300ms"}, actions.ErrVerify, "restarted web on app-3 but it is not active"},
		{"restart refused by systemd", func(s string) { write(t, s+"/web.refuse", "") },
			map[string]string{"service": "web"}, nil, "restart of web on app-3 failed: systemctl: exit 1: Job for web.service failed"},
		{"custom command and health command", nil,
			map[string]string{"command": "true", "verify_command": "echo running", "health_check": "echo ok"},
			nil, "restarted true on app-3: running (after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := fakeSystemd(t)
			if tt.setup != nil {
				tt.setup(state)
			}
			p, err := actions.ParseRestartParams(tt.params)
			if err != nil {
				t.Fatal(err)
			}
			p.Poll = 20 * time.Millisecond
			o, err := actions.Restart(t.Context(), executor.NewLocal(), localHost("app-3"), p)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && strings.Contains(tt.name, "refused") == (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if !strings.HasPrefix(o.Summary, tt.wantSummary) || o.OK != (err == nil) || o.Kind != "restart" {
				t.Fatalf("outcome %+v\nwant summary starting %q", o, tt.wantSummary)
			}
			t.Logf("%s\n%s\n%q", o.Summary, o.Detail, o.Commands)
		})
	}
}

func TestRestartReportsHealthFailureAndActiveState(t *testing.T) {
	fakeSystemd(t)
	p := actions.RestartParams{Service: "web", HealthCommand: "echo 'connection refused' >&2; exit 7", Settle: 200 * time.Millisecond, Poll: 20 * time.Millisecond}
	o, err := actions.Restart(t.Context(), executor.NewLocal(), localHost("app-3"), p)
	if !errors.Is(err, actions.ErrVerify) || actions.IsRetryable(err) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"active state: active", "health: echo: exit 7: connection refused"} {
		if !strings.Contains(o.Detail, want) {
			t.Errorf("detail %q lacks %q", o.Detail, want)
		}
	}
	if !strings.Contains(o.Summary, "health FAILING") {
		t.Errorf("summary %q", o.Summary)
	}
}

func TestRestartQuotesServiceName(t *testing.T) {
	state := fakeSystemd(t)
	p := actions.RestartParams{Service: "web; touch " + state + "/pwned", Settle: 100 * time.Millisecond, Poll: 20 * time.Millisecond}
	actions.Restart(t.Context(), executor.NewLocal(), localHost("app-3"), p)
	if _, err := os.Stat(state + "/pwned"); err == nil {
		t.Fatal("service name was executed as code")
	}
}
