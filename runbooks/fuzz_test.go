package runbooks

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/yamlfile"
)

// FuzzLoad feeds arbitrary bytes to the loader. It must never panic; every error must be a
// positioned problem in the file; and a runbook that loads must plan without panicking.
// Seeds: testdata/fuzz/FuzzLoad (the good and bad fixtures).
func FuzzLoad(f *testing.F) {
	f.Add([]byte(injectRunbook))
	inv := testInventory(f)
	ev := event(func(i *incident.Incident) { i.Title = "$(touch MARKER)" })
	f.Fuzz(func(t *testing.T, data []byte) {
		rb, err := Parse("fuzz.yaml", data, inv)
		if err != nil {
			for _, e := range unjoin(err) {
				var ye *yamlfile.Error
				if !errors.As(e, &ye) || !strings.HasPrefix(e.Error(), "fuzz.yaml") {
					t.Fatalf("unpositioned error %T: %v", e, e)
				}
			}
			return
		}
		p, err := rb.Plan(ev, inv)
		if err == nil {
			_ = p.Hash()
		}
	})
}

// FuzzRender renders arbitrary incident data into a command and runs it with the real sh:
// the value must come out byte for byte, or the plan must be refused for a NUL byte.
// Seeds: testdata/fuzz/FuzzRender (the injection corpus).
func FuzzRender(f *testing.F) {
	if _, err := exec.LookPath("sh"); err != nil {
		f.Skip("no sh")
	}
	for _, v := range injection {
		if len(v) < 1000 {
			f.Add(v)
		}
	}
	f.Fuzz(func(t *testing.T, value string) {
		if len(value) > 32<<10 {
			t.Skip("beyond what one argument may hold")
		}
		p, err := injectPlan(t, value)
		if strings.IndexByte(value, 0) >= 0 {
			if !errors.Is(err, ErrNUL) {
				t.Fatalf("NUL not refused: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		out, left := sh(t, p.Steps[0].Commands["app-1"])
		if out != value || len(left) > 0 {
			t.Fatalf("got %q (files %v), want %q", out, left, value)
		}
	})
}
