package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/app"
	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/pdstandin"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/internal/testenv/s3server"
	"github.com/alaya-sre/alaya/internal/testenv/sshbed"
	"github.com/alaya-sre/alaya/pagerduty"
)

const (
	pdToken       = "u+e2eTOKENdoNotLeak"
	webhookSecret = "whsec-e2e-do-not-leak"
	botEmail      = "alaya-bot@example.com"
	amToken       = "am-bearer-do-not-leak"
)

// diagRunbook runs one diagnostic on the host named by the alert. hostname -I prints the
// addresses of the network namespace the command ran in, which only the target has.
const diagRunbook = `name: diag
owner: sre
match: any(alerts, .details.host != "")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: system
    run: uname -a; uptime; hostname -I
    report:
      lines: 3
`

// harness is the whole system on one machine: real JetStream, real S3 (versitygw), real sshd
// behind a real bastion in network namespaces, the PagerDuty stand-in, and the receiver and
// worker running in-process exactly as the daemons run them.
type harness struct {
	t        testing.TB
	nats     *natsserver.Server
	s3       *s3server.Server
	bed      *sshbed.Bed
	pd       *pdstandin.Server
	cfg      *config.Config
	store    evidence.Store
	receiver string // base URL of the webhook listener
	// receiverAdmin is the base URL of its health and metrics listener.
	receiverAdmin string
	page          string // the approval page's own listener (base URL)
	worker        string // base URL
	logs          *syncBuffer
	dir           string             // runbooks/ and inventory.yaml live here
	ctx           context.Context    // lives until the harness is cleaned up
	stopW         context.CancelFunc // stops the running worker
	workerOK      chan struct{}      // closed when the running worker returned
}

// harnessOption adjusts the files and environment before the system starts.
type harnessOption func(dir string, env map[string]string)

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	h := &harness{t: t, logs: &syncBuffer{}}
	h.bed = sshbed.Start(t)
	h.s3 = s3server.Start(t)
	h.nats = natsserver.Start(t, natsserver.WithPort(freePort(t)))
	var pdURL string
	h.pd, pdURL = pdstandin.StartTest(t, pdstandin.WithToken(pdToken))
	h.pd.AddUser("PBOT001", "Alaya", botEmail)
	h.pd.AddUser("PONCALL", "Dana Oncall", "dana@example.com")

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "runbooks", "diag.yaml"), diagRunbook)
	inv := string(h.bed.InventoryYAML()) + fmt.Sprintf(
		"  - name: target-badkey\n    address: %s\n    port: %d\n    user: %s\n    key: %s\n    known_hosts: %s\n    bastion: %s\n",
		h.bed.Target().Addr, h.bed.Target().Port, h.bed.Target().User, h.bed.Target().KeyFile,
		h.bed.WrongKnownHosts(t, h.bed.Target()), h.bed.Bastion.Name)
	writeFile(t, filepath.Join(dir, "inventory.yaml"), inv)

	env := map[string]string{
		"ALAYA_NATS_URLS":                   h.nats.URL(),
		"ALAYA_RECEIVER_WEBHOOK_SECRETS":    "old-secret-rotating-out," + webhookSecret,
		"ALAYA_RECEIVER_PUBLISH_TIMEOUT":    "1s",
		"ALAYA_RECEIVER_LINK_KEY":           "link-key-for-e2e-tests-0123456789",
		"ALAYA_RECEIVER_PAGE_LISTEN":        fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"ALAYA_RECEIVER_ALERTMANAGER_TOKEN": amToken,
		"ALAYA_WORKER_RUNBOOKS":             filepath.Join(dir, "runbooks"),
		"ALAYA_WORKER_INVENTORY":            filepath.Join(dir, "inventory.yaml"),
		"ALAYA_WORKER_ACK_WAIT":             "5s",
		"ALAYA_WORKER_SHUTDOWN_GRACE":       "5s",
		"ALAYA_PAGERDUTY_API_URL":           pdURL,
		"ALAYA_PAGERDUTY_TOKEN":             pdToken,
		"ALAYA_PAGERDUTY_FROM":              botEmail,
		"ALAYA_EVIDENCE_BUCKET":             h.s3.Bucket,
		"ALAYA_EVIDENCE_ENDPOINT":           h.s3.Endpoint,
		"ALAYA_EVIDENCE_REGION":             h.s3.Region,
		"ALAYA_EVIDENCE_PATH_STYLE":         "true",
	}
	for _, o := range opts {
		o(dir, env)
	}
	h.dir = dir
	h.page = "http://" + env["ALAYA_RECEIVER_PAGE_LISTEN"]
	var err error
	h.cfg, err = config.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	h.store, err = evidence.NewS3(context.Background(), h.s3.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.start()
	return h
}

// start runs the receiver and the worker until the test ends.
func (h *harness) start() {
	t := h.t
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The worker declares the stream and buckets; the receiver binds to them.
	h.ctx = ctx
	h.startWorker(ctx, log.With("process", "worker"))
	r, err := app.NewReceiver(ctx, h.cfg, log.With("process", "receiver"))
	if err != nil {
		t.Fatal(err)
	}
	rl, al := listen(t), listen(t)
	h.receiver, h.receiverAdmin = "http://"+rl.Addr().String(), "http://"+al.Addr().String()
	r.ServeAdminOn(al)
	done := make(chan struct{}, 1)
	go func() { _ = r.Run(ctx, rl); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-h.workerOK
		for _, secret := range []string{pdToken, webhookSecret, amToken, canary} {
			if strings.Contains(h.logs.String(), secret) {
				t.Errorf("a secret reached the logs: %q", secret)
			}
		}
	})
	waitHTTP(t, h.receiverAdmin+"/readyz", http.StatusOK)
}

// startWorker runs a worker built from h.cfg until ctx ends or restartWorker replaces it.
func (h *harness) startWorker(ctx context.Context, log *slog.Logger) {
	t := h.t
	w, err := app.NewWorker(ctx, h.cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	wl := listen(t)
	h.worker = "http://" + wl.Addr().String()
	wctx, stop := context.WithCancel(ctx)
	ok := make(chan struct{})
	h.stopW, h.workerOK = stop, ok
	go func() { _ = w.Run(wctx, wl); close(ok) }()
	waitHTTP(t, h.worker+"/readyz", http.StatusOK)
}

// restartWorker stops the worker and starts a new one from the files as they are now, as a
// redeploy would: runbooks and inventory are read again.
func (h *harness) restartWorker() {
	h.stopW()
	<-h.workerOK
	h.startWorker(h.ctx, slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("process", "worker"))
}

// seed creates an incident on the stand-in whose alert names host.
func (h *harness) seed(id, host string) {
	h.pd.AddIncident(incident.Incident{
		ID: id, Title: "High load on " + host, Status: incident.StatusTriggered, Urgency: "high",
		Service:          incident.Ref{ID: "PSVC001", Summary: "checkout"},
		EscalationPolicy: incident.Ref{ID: "PEP0001", Summary: "Checkout on-call"},
		Assignees:        []incident.Ref{{ID: "PONCALL", Summary: "Dana Oncall"}},
		Alerts: []incident.Alert{{ID: "A" + id, Summary: "load5 > 8 on " + host, Status: "triggered",
			Severity: "critical", Details: map[string]any{"host": host, "load5": 9.1}}},
	})
}

// webhook returns a signed incident.triggered delivery for id in PagerDuty's V3 shape,
// occurring now.
func webhook(t testing.TB, id, eventID, title string, secret string) ([]byte, http.Header) {
	return webhookAt(t, id, eventID, title, secret, time.Now())
}

// webhookAt is webhook with the event's occurred_at: the receiver refuses signed events older
// than its replay window.
func webhookAt(t testing.TB, id, eventID, title, secret string, at time.Time) ([]byte, http.Header) {
	raw, err := os.ReadFile("testdata/incident.triggered.json")
	if err != nil {
		t.Fatal(err)
	}
	titleJSON, _ := json.Marshal(title)
	body := strings.NewReplacer("INCIDENT_ID", id, "EVENT_ID", eventID, `"TITLE"`, string(titleJSON),
		"2026-11-21T03:02:11.412Z", at.UTC().Format("2006-01-02T15:04:05.000Z")).Replace(string(raw))
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("User-Agent", "PagerDuty-Webhook/V3.0")
	hdr.Set("X-Webhook-Id", "wh-"+eventID)
	hdr.Set("X-PagerDuty-Signature", pagerduty.Sign([]byte(secret), []byte(body)))
	return []byte(body), hdr
}

func (h *harness) post(body []byte, hdr http.Header) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, h.receiver+"/v1/webhooks/pagerduty", bytes.NewReader(body))
	req.Header = hdr.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric returns the value of one series from the worker's /metrics, or 0.
func (h *harness) metric(series string) float64 { return scrape(h.worker+"/metrics", series) }

// scrape returns the value of one series from a /metrics URL, or 0.
func scrape(url, series string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, series+" ") {
			var v float64
			fmt.Sscan(strings.TrimPrefix(line, series+" "), &v)
			return v
		}
	}
	return 0
}

func waitHTTP(t testing.TB, url string, want int) {
	t.Helper()
	eventually(t, 20*time.Second, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == want
	}, "GET "+url)
}

// eventually polls cond until it holds or the deadline passes. It waits on a condition in
// another process's view of the world (HTTP, S3), where no channel can tell us.
func eventually(t testing.TB, d time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func listen(t testing.TB) net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func freePort(t testing.TB) int {
	l := listen(t)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// restartDir is a directory the target's login user can write: the restart runs there as
// that user, who cannot enter the test's private temporary directory.
func restartDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "alaya-page-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// postAlertmanager posts body to the receiver's Alertmanager webhook with token as the bearer
// token and returns the status.
func postAlertmanager(t testing.TB, receiver, token string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, receiver+"/v1/webhooks/alertmanager", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
