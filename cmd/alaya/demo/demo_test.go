package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/evidence"
)

// TestDemo runs the README's first command in-process: it needs nothing but Go.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	res, err := Run(context.Background(), Options{Dir: t.TempDir(), Out: &out, Timeout: 60 * time.Second})
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{"Alaya · host-basics", "1/1 hosts ok", "✓ demo-app-1", "load average", "OutOfMemoryError", "Evidence: http"} {
		if !strings.Contains(res.Note, want) {
			t.Errorf("note lacks %q:\n%s", want, res.Note)
		}
	}
	if !strings.Contains(out.String(), "answered 202") {
		t.Errorf("the story does not show the webhook accepted:\n%s", out.String())
	}
	if len(res.Notes) != 4 || !strings.Contains(res.Notes[1], "/alaya approve") ||
		!strings.Contains(res.Notes[2], "approved by Dana Oncall") || !strings.Contains(res.Notes[3], "restarted checkout") {
		t.Errorf("the approval path did not run as expected; notes:\n%s", strings.Join(res.Notes, "\n-----\n"))
	}
	if b, _ := os.ReadFile(filepath.Join(res.Dir, "checkout.state")); !strings.Contains(string(b), "restarted") {
		t.Errorf("the approved restart did not run: state file %q", b)
	}
	manifests, _ := filepath.Glob(filepath.Join(res.Evidence, "*", "manifest.json"))
	if len(manifests) != 1 {
		t.Fatalf("want one manifest under %s, found %v", res.Evidence, manifests)
	}
	var m evidence.Manifest
	b, _ := os.ReadFile(manifests[0])
	if err := json.Unmarshal(b, &m); err != nil || len(m.Objects) < 12 {
		t.Fatalf("manifest %s: %v, %d objects", manifests[0], err, len(m.Objects))
	}
	store, err := evidence.NewFS(filepath.Join(res.Dir, "evidence"), "http://127.0.0.1", []byte("0123456789abcdef0123"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(context.Background(), store); err != nil {
		t.Errorf("evidence does not match its manifest: %v", err)
	}
}
