package page_test

import (
	"context"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/testenv/browser"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// newBrowser starts headless Chromium with a fresh profile and a phone-sized viewport.
func newBrowser(t *testing.T) context.Context { return browser.New(t) }

// trustedProxy stands in for an authenticating proxy such as Pomerium: it forwards to backend
// and vouches for email with a freshly signed identity assertion on every request.
func trustedProxy(t *testing.T, backend, email string) *httptest.Server {
	t.Helper()
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
		pr.Out.Header.Set(assertionHeader, assertion(email, time.Now(), nil))
	}}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("ALAYA_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, img, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

func TestBrowserPage(t *testing.T) {
	ctx := newBrowser(t)
	f := newFixture(t, time.Now)
	direct := httptest.NewServer(f.h)
	t.Cleanup(direct.Close)

	t.Run("direct: plan and command, no buttons", func(t *testing.T) {
		must(t, chromedp.Do(ctx, chromedp.Navigate(direct.URL+f.url()), chromedp.WaitVisible(chromedp.ID("plan"))))
		plan := run(t, ctx, chromedp.Text(chromedp.ID("plan")))
		if !strings.Contains(plan, "lb_detach app-3") || !strings.Contains(plan, "<script>alert('x')</script>") {
			t.Fatalf("plan shown as %q", plan)
		}
		if cmd := run(t, ctx, chromedp.Value(chromedp.ID("command"))); cmd != "/alaya approve "+f.req.Code {
			t.Fatalf("command = %q", cmd)
		}
		if run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("approve") !== null`)) {
			t.Fatal("approve button shown without a trusted identity")
		}
		if why := run(t, ctx, chromedp.Text(chromedp.ID("nodecide"))); !strings.Contains(why, "post the note") {
			t.Fatalf("explanation = %q", why)
		}
		// The countdown is the nonce'd inline script: it ran under the CSP.
		run(t, ctx, chromedp.Poll[bool](`document.getElementById("expires").textContent.includes("s left")`, chromedp.WithPollingTimeout(5*time.Second)))
		screenshot(t, ctx, "approval-readonly")
	})

	t.Run("trusted proxy: approve publishes the note", func(t *testing.T) {
		proxy := trustedProxy(t, direct.URL, "oncall@example.com")
		must(t, chromedp.Do(ctx, chromedp.Navigate(proxy.URL+f.url()), chromedp.WaitVisible(chromedp.ID("approve"))))
		if who := run(t, ctx, chromedp.Text(chromedp.ID("identity"))); who != "oncall@example.com" {
			t.Fatalf("identity shown = %q", who)
		}
		screenshot(t, ctx, "approval-trusted")
		_, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.ID("approve"))))
		must(t, err)
		must(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("sent"))))
		screenshot(t, ctx, "approval-sent")
		if run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("approve") !== null`)) {
			t.Fatal("buttons still offered after the decision was sent")
		}
		evs := f.pub.Events()
		if len(evs) != 1 || evs[0].Note == nil || evs[0].Note.Content != "/alaya approve "+f.req.Code || evs[0].Note.Author.ID != "PONCALL" {
			t.Fatalf("published %+v", evs)
		}
	})
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
