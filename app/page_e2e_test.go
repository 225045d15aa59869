package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"

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
      command: echo restarted-{{ incident.id }} >> DIR/restarts
      verify_command: test -s DIR/restarts
`

var reviewRe = regexp.MustCompile(`Review: (\S+)`)

// assertingProxy stands in for an authenticating proxy (Pomerium, Cloudflare Access, IAP):
// it forwards to the page's own listener and adds a freshly signed identity assertion for
// the person it authenticated. The receiver trusts its key through a JWKS file.
type assertingProxy struct {
	*httptest.Server
	key   *ecdsa.PrivateKey
	email string
}

const (
	proxyIssuer   = "https://authenticate.example.test"
	proxyAudience = "alaya-approvals"
	proxyHeader   = "X-Pomerium-Jwt-Assertion"
)

func newAssertingProxy(t *testing.T, email string) *assertingProxy {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &assertingProxy{key: key, email: email}
}

// start forwards to the page at base.
func (p *assertingProxy) start(t *testing.T, base string) {
	target, _ := url.Parse(base)
	p.Server = httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
		pr.Out.Header.Del(proxyHeader) // a client cannot bring its own
		pr.Out.Header.Set(proxyHeader, p.sign(p.email))
	}})
	t.Cleanup(p.Close)
}

func (p *assertingProxy) sign(email string) string {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": proxyIssuer, "aud": proxyAudience, "email": email,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	tok.Header["kid"] = "proxy-1"
	s, err := tok.SignedString(p.key)
	if err != nil {
		panic(err)
	}
	return s
}

// configure writes the proxy's JWKS and points the receiver's page at it.
func (p *assertingProxy) configure(t *testing.T, dir string, env map[string]string) {
	b := func(n []byte) string { return base64.RawURLEncoding.EncodeToString(n) }
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "EC", "crv": "P-256", "kid": "proxy-1",
		"x": b(p.key.X.FillBytes(make([]byte, 32))), "y": b(p.key.Y.FillBytes(make([]byte, 32)))}}})
	writeFile(t, filepath.Join(dir, "proxy-jwks.json"), string(jwks))
	env["ALAYA_RECEIVER_PAGE_JWT_HEADER"] = proxyHeader
	env["ALAYA_RECEIVER_PAGE_JWT_JWKS_FILE"] = filepath.Join(dir, "proxy-jwks.json")
	env["ALAYA_RECEIVER_PAGE_JWT_ISSUER"] = proxyIssuer
	env["ALAYA_RECEIVER_PAGE_JWT_AUDIENCE"] = proxyAudience
}

// TestApprovalPageInChromium is the responder approving from the approval page instead of a
// note: behind an authenticating proxy that signs an identity assertion for Dana, the page in
// headless Chromium shows the plan and an Approve button; the click goes through the same
// policy as a note, and the worker resumes the run.
func TestApprovalPageInChromium(t *testing.T) {
	ctx := browser.New(t)
	restarts := restartDir(t)
	proxy := newAssertingProxy(t, "dana@example.com")
	var pageURL string
	h := newHarness(t, func(dir string, env map[string]string) {
		os.Remove(filepath.Join(dir, "runbooks", "diag.yaml"))
		writeFile(t, filepath.Join(dir, "runbooks", "page.yaml"), strings.ReplaceAll(pageRunbook, "DIR", restarts))
		proxy.configure(t, dir, env)
		proxy.start(t, "http://"+env["ALAYA_RECEIVER_PAGE_LISTEN"])
		env["ALAYA_RECEIVER_PAGE_URL"] = proxy.URL
		pageURL = proxy.URL
	})
	h.pd.SetOnCall("PEP0001", "PONCALL")
	link := h.pageGate(t, "PPAGE01", "ev-page-001")
	if !strings.HasPrefix(link, pageURL+"/approvals/") {
		t.Fatalf("the plan note's link %q does not go through the proxy", link)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("approve"))); err != nil {
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
		return strings.Contains(string(b), "restarted-PPAGE01")
	}, "the approved restart on the target")
	if ms := h.manifest(context.Background(), "PPAGE01"); len(ms.Approvals) != 1 || ms.Approvals[0].Via != "page" {
		t.Errorf("manifest approvals = %+v, want one, via the page", ms.Approvals)
	}
}

// pageGate triggers incident id through the webhook and returns the page link of its gate.
func (h *harness) pageGate(t *testing.T, id, eventID string) string {
	t.Helper()
	h.pd.AddIncident(incident.Incident{ID: id, Title: "checkout stuck", Status: incident.StatusTriggered,
		EscalationPolicy: incident.Ref{ID: "PEP0001"},
		Alerts:           []incident.Alert{{ID: "A" + id, Summary: "stuck", Details: map[string]any{"host": "target-1", "case": "page"}}}})
	body, hdr := webhook(t, id, eventID, "checkout stuck", webhookSecret)
	if code, resp := h.post(body, hdr); code != http.StatusAccepted {
		t.Fatalf("webhook answered %d %s", code, resp)
	}
	m := reviewRe.FindStringSubmatch(h.waitNotes(context.Background(), id, 1)[0].Content)
	if m == nil {
		t.Fatal("the plan note has no approval page link")
	}
	return m[1]
}
