package slackstandin_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/slackstandin"
	"github.com/alaya-sre/alaya/slack"
)

// TestSignedInteractionVerifies: what the stand-in signs, Alaya's verifier accepts, and the
// payload parses to the press it describes. The two sides share no signing code.
func TestSignedInteractionVerifies(t *testing.T) {
	s := slackstandin.New(t)
	body, h := s.SignedInteraction(slackstandin.Press{User: "U0ANA", Channel: "C0ALERTS", MessageTS: "1764500000.000200",
		ThreadTS: "1764500000.000100", ActionID: "approve", Value: "approve|Q1ABC|K7Q2XA"})
	v := &slack.Verifier{Secrets: func() [][]byte { return [][]byte{[]byte(s.SigningSecret())} }}
	if err := v.Verify(h, body); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	in, err := slack.ParseInteraction(body)
	if err != nil {
		t.Fatal(err)
	}
	if in.User != "U0ANA" || in.Team != slackstandin.DefaultTeam || in.Value != "approve|Q1ABC|K7Q2XA" ||
		in.ThreadTS != "1764500000.000100" || !strings.HasPrefix(in.ResponseURL, s.ResponseOrigin()) {
		t.Errorf("parsed %+v", in)
	}
	stale, sh := s.SignedInteraction(slackstandin.Press{User: "U0ANA", Channel: "C0ALERTS", MessageTS: "1.2",
		ActionID: "approve", Value: "v", At: time.Now().Add(-6 * time.Minute)})
	if err := v.Verify(sh, stale); err != slack.ErrStale {
		t.Errorf("stale press: %v", err)
	}
}

func TestResponseURLRefusesTokens(t *testing.T) {
	s := slackstandin.New(t, slackstandin.ExpectRefusals())
	req, _ := http.NewRequestWithContext(t.Context(), "POST", s.ResponseOrigin()+"/actions/T/1/x",
		strings.NewReader(`{"response_type":"ephemeral","text":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(s.Violations()) != 1 || len(s.Responses()) != 0 {
		t.Errorf("status %d, violations %v", resp.StatusCode, s.Violations())
	}
}

// recordingTB stands for a test, keeping what the stand-in reports.
type recordingTB struct {
	testing.TB
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) { r.errs = append(r.errs, format) }

// TestViolationsFailTheTest: without ExpectRefusals a refused request fails the test using
// the stand-in, so a client bug cannot pass unnoticed behind a handled error.
func TestViolationsFailTheTest(t *testing.T) {
	rec := &recordingTB{TB: t}
	s := slackstandin.New(rec)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", s.URL()+"chat.postMessage", strings.NewReader(`{"text":"x"}`))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+s.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(rec.errs) != 1 {
		t.Errorf("reported %d failures, want 1", len(rec.errs))
	}
}
