package app_test

import (
	"io"
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
)

var (
	csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	hashRe = regexp.MustCompile(`name="hash" value="([^"]+)"`)
)

// tryApprove does what a browser does on the page at link, through base (a proxy or a load
// balancer), with hdr adding the attacker's headers: load the page, and if it offers the
// form, post Approve. It returns the status of the last answer and whether a form was offered.
func tryApprove(t *testing.T, base, link string, hdr func(*http.Request)) (int, bool) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	target := strings.TrimRight(base, "/") + u.RequestURI()
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	hdr(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf, hash := csrfRe.FindSubmatch(body), hashRe.FindSubmatch(body)
	if csrf == nil || hash == nil {
		return resp.StatusCode, false
	}
	form := url.Values{"t": {u.Query().Get("t")}, "csrf": {string(csrf[1])}, "hash": {string(hash[1])}, "verb": {"approve"}}
	post, _ := http.NewRequest(http.MethodPost, strings.TrimRight(base, "/")+u.Path, strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hdr(post)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.Do(post)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, true
}

// passThrough is a load balancer in front of target that forwards whatever the client sends.
func passThrough(t *testing.T, target string) *httptest.Server {
	u, _ := url.Parse(target)
	lb := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Host = pr.In.Host
		pr.Out.Header = pr.In.Header.Clone()
	}})
	t.Cleanup(lb.Close)
	return lb
}

// neverRestarted asserts that nothing ran for incident id during a short settle.
func neverRestarted(t *testing.T, h *harness, dir, id string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(dir, "restarts"))
		if strings.Contains(string(b), "restarted-"+id) {
			t.Fatalf("the restart ran for %s; notes:\n%v", id, h.pd.Notes(id))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, n := range h.pd.Notes(id) {
		if strings.Contains(n.Content, "approved by") {
			t.Fatalf("an approval was taken for %s: %s", id, n.Content)
		}
	}
}

// An internet client passes through the load balancer in front of the public webhook
// listener with Dana's email in the identity header: the page is not there, and on its own
// listener a plain header (no signed assertion) offers no decision.
func TestPageRefusesSpoofedIdentityHeader(t *testing.T) {
	restarts := restartDir(t)
	proxy := newAssertingProxy(t, "dana@example.com")
	h := newHarness(t, func(dir string, env map[string]string) {
		os.Remove(filepath.Join(dir, "runbooks", "diag.yaml"))
		writeFile(t, filepath.Join(dir, "runbooks", "page.yaml"), strings.ReplaceAll(pageRunbook, "DIR", restarts))
		proxy.configure(t, dir, env)
	})
	h.pd.SetOnCall("PEP0001", "PONCALL")
	link := h.pageGate(t, "PSPOOF1", "ev-spoof-001")
	spoof := func(r *http.Request) { r.Header.Set("X-Forwarded-Email", "dana@example.com") }
	for name, base := range map[string]string{
		"through the load balancer to the webhook listener": passThrough(t, h.receiver).URL,
		"straight to the page's listener":                   h.page,
	} {
		status, offered := tryApprove(t, base, link, spoof)
		if offered || status == http.StatusSeeOther {
			t.Errorf("%s: a spoofed header was offered the decision (status %d)", name, status)
		}
	}
	neverRestarted(t, h, restarts, "PSPOOF1")
}

// The opt-in plain-header mode: the client sends its own identity header and the proxy adds
// its own; two values are refused rather than the client's winning.
func TestPageRefusesTwoIdentityHeaders(t *testing.T) {
	restarts := restartDir(t)
	var pageAddr string
	h := newHarness(t, func(dir string, env map[string]string) {
		os.Remove(filepath.Join(dir, "runbooks", "diag.yaml"))
		writeFile(t, filepath.Join(dir, "runbooks", "page.yaml"), strings.ReplaceAll(pageRunbook, "DIR", restarts))
		env["ALAYA_RECEIVER_PAGE_HEADER_TRUSTED_PROXIES"] = "127.0.0.1/32"
		pageAddr = "http://" + env["ALAYA_RECEIVER_PAGE_LISTEN"]
	})
	h.pd.AddUser("PNOTON1", "Sam Bystander", "sam@example.com")
	h.pd.SetOnCall("PEP0001", "PONCALL")
	if !strings.Contains(h.logs.String(), "trusts a plain identity header") {
		t.Error("no warning at start about the plain-header opt-in")
	}
	link := h.pageGate(t, "PTWOHDR", "ev-twohdr-001")
	target, _ := url.Parse(pageAddr)
	// The proxy authenticated Sam and appends his email; the client brought Dana's.
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
		pr.Out.Header = pr.In.Header.Clone()
		pr.Out.Header.Add("X-Forwarded-Email", "sam@example.com")
	}})
	t.Cleanup(proxy.Close)
	status, offered := tryApprove(t, proxy.URL, link, func(r *http.Request) { r.Header.Set("X-Forwarded-Email", "dana@example.com") })
	if offered || status == http.StatusSeeOther {
		t.Errorf("two identity headers were offered the decision (status %d)", status)
	}
	neverRestarted(t, h, restarts, "PTWOHDR")
}
