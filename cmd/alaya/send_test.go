package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/pagerduty"
)

func TestSendSignsLikePagerDuty(t *testing.T) {
	secret := []byte("whsec-send-test")
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !pagerduty.VerifySignature(r.Header.Get("X-PagerDuty-Signature"), body, [][]byte{secret}) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got = body
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"status":"accepted"}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, append([]byte("# rotating\nold-secret\n"), append(secret, '\n')...), 0o600)
	event := "../../app/testdata/incident.triggered.json"

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"send", "--url", srv.URL, "--event", event, "--secret-file", secretFile}, &out, &errOut)
	want, _ := os.ReadFile(event)
	if code != 0 || !strings.HasPrefix(out.String(), "202 ") {
		t.Fatalf("send: code %d out %q err %q", code, out.String(), errOut.String())
	}
	// A recorded event is sent as happening now, so the receiver's replay window accepts it.
	ev, err := pagerduty.DecodeWebhook(got)
	if err != nil || time.Since(ev.OccurredAt).Abs() > time.Minute {
		t.Errorf("sent occurred_at %v (%v), want now", ev.OccurredAt, err)
	}
	out.Reset()
	code = run(context.Background(), []string{"send", "--url", srv.URL, "--event", event, "--secret-file", secretFile, "--keep-time"}, &out, &errOut)
	if code != 0 || !bytes.Equal(got, want) {
		t.Errorf("--keep-time: code %d, body changed: %v", code, !bytes.Equal(got, want))
	}

	os.WriteFile(secretFile, []byte("wrong"), 0o600)
	if code := run(context.Background(), []string{"send", "--url", srv.URL, "--event", event, "--secret-file", secretFile}, &out, &errOut); code != 1 {
		t.Errorf("a refused delivery exited %d, want 1", code)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"event":{}}`), 0o600)
	errOut.Reset()
	if code := run(context.Background(), []string{"send", "--url", srv.URL, "--event", bad, "--secret-file", secretFile}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "bad.json") {
		t.Errorf("a malformed event: code %d, stderr %q (want it to name the file)", code, errOut.String())
	}
}
