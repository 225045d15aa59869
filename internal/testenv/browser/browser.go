// Package browser starts headless Chromium for tests that look at a page the way a responder
// would: on a phone-sized screen, with no network beyond the machine (the flags turn off
// Chromium's own background traffic, which this sandbox refuses). Chromium comes from
// scripts/install-deps.sh; without it tests skip on a laptop and fail under CI.
package browser

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/alaya-sre/alaya/internal/testenv"
)

const chromiumPath = "/usr/bin/chromium"

// executable finds Chromium or applies the missing-prerequisite policy.
func executable(tb testing.TB) string {
	tb.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return chromiumPath
	}
	p, err := exec.LookPath("chromium")
	testenv.Require(tb, "chromium (scripts/install-deps.sh installs it)", err == nil)
	return p
}

// New starts headless Chromium with a fresh profile and a phone-sized viewport and returns a
// chromedp context for it; everything is stopped when the test ends.
func New(tb testing.TB) context.Context {
	tb.Helper()
	exe := executable(tb)
	profile, err := os.MkdirTemp("", "alaya-chromium-")
	if err != nil {
		tb.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	tb.Cleanup(func() {
		bcancel()
		acancel()
		cancel()
		_ = os.RemoveAll(profile) // best effort: the browser's children may still be writing
	})
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateScale(2))); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	return bctx
}
