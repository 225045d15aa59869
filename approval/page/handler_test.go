package page_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/approval/internal/approvaltest"
	"github.com/alaya-sre/alaya/approval/page"
	"github.com/alaya-sre/alaya/incident"
)

const (
	trustedAddr   = "127.0.0.1:40000"
	untrustedAddr = "10.9.8.7:40000"
)

// untrusted marks a request that reaches the page without the proxy: it carries a plain
// identity header, which the page must ignore.
const untrusted = untrustedAddr

func identify(r *http.Request, remote, email string) {
	r.RemoteAddr = remote
	if email == "" {
		return
	}
	if remote == untrusted {
		r.Header.Set(page.DefaultIdentityHeader, email)
		return
	}
	r.Header.Set(assertionHeader, assertion(email, time.Now(), nil))
}

func get(h http.Handler, target, remote, email string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	identify(r, remote, email)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func post(h http.Handler, target, remote, email string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	identify(r, remote, email)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// decisionForm loads the page as email through the trusted proxy and returns its form.
func decisionForm(t *testing.T, f *fixture, email, verb string) url.Values {
	t.Helper()
	w := get(f.h, f.url(), trustedAddr, email)
	m := csrfRe.FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("no decision form for %s:\n%s", email, w.Body.String())
	}
	return url.Values{"t": {page.Token(testKey, f.req.Incident, f.req.Code)}, "csrf": {m[1]}, "hash": {f.req.PlanHash}, "verb": {verb}}
}

func TestShowLinks(t *testing.T) {
	f := newFixture(t, time.Now)
	tests := []struct {
		name   string
		target string
		want   int
	}{
		{"signed link", f.url(), http.StatusOK},
		{"no token", "/approvals/Q1PAGE/" + f.req.Code, http.StatusNotFound},
		{"token of another code", "/approvals/Q1PAGE/" + f.req.Code + "?t=" + page.Token(testKey, "Q1PAGE", "ZZZZZZ"), http.StatusNotFound},
		{"signed link to unknown code", page.URL("", testKey, "Q1PAGE", "ZZZZZZ"), http.StatusNotFound},
		{"token under another key", page.URL("", []byte("other"), "Q1PAGE", f.req.Code), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := get(f.h, tt.target, untrustedAddr, ""); w.Code != tt.want {
				t.Fatalf("GET %s = %d, want %d", tt.target, w.Code, tt.want)
			}
		})
	}
}

func TestShowPlanSafely(t *testing.T) {
	f := newFixture(t, time.Now)
	w := get(f.h, f.url(), untrustedAddr, "")
	body := w.Body.String()
	for _, want := range []string{
		"/alaya approve " + f.req.Code, "jvm-oom", "9f3c2ab", "sha256:6b1f0c9d2e", "app-3.prod",
		"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", "$(reboot)", "https://evidence.example.com/Q1PAGE/run-1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, `href="javascript:`) {
		t.Error("incident data reached the page unescaped")
	}
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'nonce-") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if w.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Error("the link token could leak through Referer")
	}
}

func TestButtonsOnlyForTrustedIdentity(t *testing.T) {
	f := newFixture(t, time.Now)
	tests := []struct {
		name, remote, email string
		buttons             bool
	}{
		{"no header", trustedAddr, "", false},
		{"plain header without an assertion", untrustedAddr, "oncall@example.com", false},
		{"signed assertion from the proxy", trustedAddr, "oncall@example.com", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := get(f.h, f.url(), tt.remote, tt.email).Body.String()
			if got := strings.Contains(body, `id="approve"`); got != tt.buttons {
				t.Fatalf("approve button shown = %v, want %v", got, tt.buttons)
			}
			if !tt.buttons && !strings.Contains(body, `id="nodecide"`) {
				t.Fatal("no explanation where the buttons would be")
			}
		})
	}
}

func TestSubmitPublishesTheNote(t *testing.T) {
	f := newFixture(t, time.Now)
	form := decisionForm(t, f, "oncall@example.com", approval.VerbApprove)
	for range 2 { // a double click
		w := post(f.h, "/approvals/"+f.req.Incident+"/"+f.req.Code, trustedAddr, "oncall@example.com", form)
		if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "sent=approve") {
			t.Fatalf("POST = %d %q\n%s", w.Code, w.Header().Get("Location"), w.Body.String())
		}
	}
	evs := f.pub.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events stored, want 1 (same id for a double click)", len(evs))
	}
	ev := evs[0]
	if ev.Type != incident.TypeAnnotated || ev.Source != page.Source || ev.Incident.ID != "Q1PAGE" ||
		ev.Agent.ID != "PONCALL" || ev.Note == nil || ev.Note.Author.ID != "PONCALL" || ev.ID != page.EventID("Q1PAGE", f.req.Code, "approve", "PONCALL", form.Get("csrf"), 0) ||
		!approval.VerifyNote(testKey, ev) {
		t.Fatalf("event = %+v", ev)
	}
	cmd, ok := approval.ParseCommand(ev.Note.Content)
	if !ok || cmd.Verb != approval.VerbApprove || cmd.Code != f.req.Code {
		t.Fatalf("the published note %q does not parse as the approval", ev.Note.Content)
	}
}

// Two people deciding (after an on-call hand-over) are two decisions: the second is not
// swallowed as a duplicate of the first while the page says "sent".
func TestEveryDecisionHasItsOwnEventID(t *testing.T) {
	f := newFixture(t, time.Now)
	target := "/approvals/" + f.req.Incident + "/" + f.req.Code
	first := decisionForm(t, f, "oncall@example.com", approval.VerbApprove)
	if w := post(f.h, target, trustedAddr, "oncall@example.com", first); w.Code != http.StatusSeeOther {
		t.Fatalf("first decision: %d", w.Code)
	}
	f.policy.OnCall = fakeOnCall{"PEP": {"PNEXT"}} // hand-over
	second := decisionForm(t, f, "next@example.com", approval.VerbApprove)
	if w := post(f.h, target, trustedAddr, "next@example.com", second); w.Code != http.StatusSeeOther {
		t.Fatalf("second decision: %d\n%s", w.Code, w.Body.String())
	}
	evs := f.pub.Events()
	if len(evs) != 2 || evs[0].ID == evs[1].ID || evs[1].Note.Author.ID != "PNEXT" {
		t.Fatalf("published %d events, want 2 with their own ids", len(evs))
	}
}

// A press on a page loaded before the gate was given back (a cooldown refused the approved
// change) is a new decision: the first press's note is spent, the second approves.
func TestPressAfterReopenIsANewDecision(t *testing.T) {
	f := newFixture(t, time.Now)
	form := decisionForm(t, f, "oncall@example.com", approval.VerbApprove)
	target := "/approvals/" + f.req.Incident + "/" + f.req.Code
	press := func() *incident.Event {
		t.Helper()
		if w := post(f.h, target, trustedAddr, "oncall@example.com", form); w.Code != http.StatusSeeOther {
			t.Fatalf("POST = %d\n%s", w.Code, w.Body.String())
		}
		evs := f.pub.Events()
		return evs[len(evs)-1]
	}
	ctx := t.Context()
	decide := func(ev *incident.Event) error {
		_, err := f.store.Decide(ctx, f.req.Incident, f.req.Code, approval.Decision{State: approval.StateApproved,
			By: "PONCALL", PlanHash: f.req.PlanHash, Note: ev.Note.ID})
		return err
	}
	if err := decide(press()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Reopen(ctx, f.req.Incident, f.req.Code, approval.Reopening{Reason: "cooldown", Window: time.Hour}); err != nil {
		t.Fatal(err)
	}
	again := press()
	if n := len(f.pub.Events()); n != 2 {
		t.Fatalf("%d events after the second press, want 2", n)
	}
	if err := decide(again); err != nil {
		t.Fatalf("the press after the reopen does not approve: %v", err)
	}
}

func TestSubmitRefusals(t *testing.T) {
	clk := approvaltest.NewClock()
	f := newFixture(t, clk.Now)
	good := decisionForm(t, f, "oncall@example.com", approval.VerbApprove)
	with := func(k, v string) url.Values {
		c := url.Values{}
		for key, vals := range good {
			c[key] = vals
		}
		c.Set(k, v)
		return c
	}
	target := "/approvals/" + f.req.Incident + "/" + f.req.Code
	tests := []struct {
		name, remote, email string
		form                url.Values
		crossSite           bool
		want                int
	}{
		{"untrusted address", untrustedAddr, "oncall@example.com", good, false, http.StatusForbidden},
		{"no identity", trustedAddr, "", good, false, http.StatusForbidden},
		{"form of another identity", trustedAddr, "dev@example.com", good, false, http.StatusForbidden},
		{"no form token", trustedAddr, "oncall@example.com", with("csrf", ""), false, http.StatusForbidden},
		{"cross-site post", trustedAddr, "oncall@example.com", good, true, http.StatusForbidden},
		{"bad link token", trustedAddr, "oncall@example.com", with("t", "x"), false, http.StatusNotFound},
		{"other plan hash", trustedAddr, "oncall@example.com", with("hash", "sha256:other"), false, http.StatusConflict},
		{"unknown verb", trustedAddr, "oncall@example.com", with("verb", "restart"), false, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(tt.form.Encode()))
			identify(r, tt.remote, tt.email)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.crossSite {
				r.Header.Set("Sec-Fetch-Site", "cross-site")
			}
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("POST = %d, want %d\n%s", w.Code, tt.want, w.Body.String())
			}
		})
	}
	if n := len(f.pub.Events()); n != 0 {
		t.Fatalf("%d events published by refused posts", n)
	}
}

func TestSubmitGoesThroughThePolicy(t *testing.T) {
	clk := approvaltest.NewClock()
	f := newFixture(t, clk.Now)
	target := "/approvals/" + f.req.Incident + "/" + f.req.Code

	dev := decisionForm(t, f, "dev@example.com", approval.VerbApprove)
	if w := post(f.h, target, trustedAddr, "dev@example.com", dev); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "on call") {
		t.Fatalf("not on call: %d\n%s", w.Code, w.Body.String())
	}

	f.incs["Q1PAGE"].Status = incident.StatusResolved
	onCall := decisionForm(t, f, "oncall@example.com", approval.VerbApprove)
	if w := post(f.h, target, trustedAddr, "oncall@example.com", onCall); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "resolved") {
		t.Fatalf("resolved: %d\n%s", w.Code, w.Body.String())
	}
	f.incs["Q1PAGE"].Status = incident.StatusAcknowledged

	clk.Advance(approval.DefaultExpiry)
	if w := post(f.h, target, trustedAddr, "oncall@example.com", onCall); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "expired") {
		t.Fatalf("expired: %d\n%s", w.Code, w.Body.String())
	}
	if n := len(f.pub.Events()); n != 0 {
		t.Fatalf("%d events published by refused decisions", n)
	}
}
