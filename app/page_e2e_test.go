package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/testenv/browser"
)

const pageRunbook = `name: page-restart
owner: sre
match: any(alerts, .details.case == "page")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: look
    run: uptime
  - name: approve
    gate: {}
  - name: restart
    restart:
      service: demo
      command: echo restarted >> DIR/restarts
      verify_command: test -s DIR/restarts
`

var reviewRe = regexp.MustCompile(`Review: (\S+)`)

// TestApprovalPageInChromium is the responder approving from the approval page instead of a
// note: behind an authenticating proxy (here a reverse proxy vouching for Dana's email, as
// oauth2-proxy would), the page in headless Chromium shows the plan and an Approve button;
// the click goes through the same policy as a note, and the worker resumes the run.
func TestApprovalPageInChromium(t *testing.T) {
	ctx := browser.New(t)
	restarts := restartDir(t)
	var receiver atomic.Value
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		target, _ := url.Parse(receiver.Load().(string))
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
		pr.Out.Header.Set("X-Forwarded-Email", "dana@example.com")
	}})
	t.Cleanup(proxy.Close)
	h := newHarness(t, func(dir string, env map[string]string) {
		os.Remove(filepath.Join(dir, "runbooks", "diag.yaml"))
		writeFile(t, filepath.Join(dir, "runbooks", "page.yaml"), strings.ReplaceAll(pageRunbook, "DIR", restarts))
		env["ALAYA_RECEIVER_PUBLIC_URL"] = proxy.URL
		env["ALAYA_RECEIVER_TRUSTED_PROXIES"] = "127.0.0.1/32"
	})
	receiver.Store(h.receiver)
	h.pd.SetOnCall("PEP0001", "PONCALL")
	h.pd.AddIncident(incident.Incident{ID: "PPAGE01", Title: "checkout stuck", Status: incident.StatusTriggered,
		EscalationPolicy: incident.Ref{ID: "PEP0001"},
		Alerts:           []incident.Alert{{ID: "APAGE01", Summary: "stuck", Details: map[string]any{"host": "target-1", "case": "page"}}}})
	body, hdr := webhook(t, "PPAGE01", "ev-page-001", "checkout stuck", webhookSecret)
	if code, resp := h.post(body, hdr); code != http.StatusAccepted {
		t.Fatalf("webhook answered %d %s", code, resp)
	}
	m := reviewRe.FindStringSubmatch(h.waitNotes(context.Background(), "PPAGE01", 1)[0].Content)
	if m == nil || !strings.HasPrefix(m[1], proxy.URL+"/approvals/") {
		t.Fatalf("the plan note has no approval page link behind the proxy: %v", m)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(m[1]), chromedp.WaitVisible(chromedp.ID("approve"))); err != nil {
		t.Fatalf("approval page in Chromium: %v", err)
	}
	plan, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("plan")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.ID("approve")))); err != nil {
		t.Fatalf("click Approve: %v", err)
	}
	if !strings.Contains(plan, "restart") || !strings.Contains(plan, "target-1") {
		t.Errorf("the page does not show the plan: %q", plan)
	}
	notes := h.waitNotes(context.Background(), "PPAGE01", 3)
	if !strings.Contains(notes[1].Content, "approved by Dana Oncall") || !strings.Contains(notes[2].Content, "✓ target-1") {
		t.Errorf("after the click: %q / %q", notes[1].Content, notes[2].Content)
	}
	eventually(t, 10*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(restarts, "restarts"))
		return strings.Contains(string(b), "restarted")
	}, "the approved restart on the target")
	if ms := h.manifest(context.Background(), "PPAGE01"); len(ms.Approvals) != 1 || ms.Approvals[0].Via != "page" {
		t.Errorf("manifest approvals = %+v, want one, via the page", ms.Approvals)
	}
}
