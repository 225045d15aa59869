package remediate

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/runbooks"
)

func TestCutNoteKeepsTheLinkAndTheLimit(t *testing.T) {
	tail := "Evidence: https://evidence.example/x?sig=abc\nRun r1"
	tests := []struct {
		name string
		body string
		cut  bool
	}{
		{"short", "✓ app-1\n", false},
		{"exactly at the limit", strings.Repeat("a", MaxNote-len(tail)), false},
		{"one over", strings.Repeat("a", MaxNote-len(tail)+1), true},
		{"multibyte at the cut", strings.Repeat("é", MaxNote), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cutNote(tt.body, tail, "https://evidence.example/x?sig=abc")
			if len(got) > MaxNote {
				t.Errorf("note is %d bytes, over PagerDuty's %d", len(got), MaxNote)
			}
			if !strings.HasSuffix(got, tail) {
				t.Errorf("the evidence link and run id were not kept whole")
			}
			if !utf8.ValidString(got) {
				t.Errorf("cut split a character")
			}
			if cut := strings.Contains(got, "cut to fit"); cut != tt.cut {
				t.Errorf("cut marker present = %v, want %v", cut, tt.cut)
			}
		})
	}
}

func TestTellingLines(t *testing.T) {
	out := "header\nline 1\n\nERROR disk full\nline 3\nERROR again\nlast\n"
	tests := []struct {
		name   string
		report runbooks.Report
		res    HostResult
		want   []string
	}{
		{"tail by default", runbooks.Report{}, HostResult{Stdout: out},
			[]string{"  s: line 3", "   │ ERROR again", "   │ last"}},
		{"matching lines", runbooks.Report{Match: "^ERROR", Lines: 5}, HostResult{Stdout: out},
			[]string{"  s: ERROR disk full", "   │ ERROR again"}},
		{"label and count", runbooks.Report{Label: "disk", Lines: 1}, HostResult{Stdout: out},
			[]string{"  disk: last"}},
		{"failure shows stderr and exit", runbooks.Report{Lines: 1}, HostResult{ExitCode: 2, Stdout: out, Stderr: "boom\n"},
			[]string{"  s (exit 2): boom"}},
		{"no output", runbooks.Report{}, HostResult{}, []string{"  s: (no output)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tellingLines(runbooks.Step{Name: "s", Report: tt.report}, &tt.res)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestClipLongLines(t *testing.T) {
	long := strings.Repeat("x", 500)
	if got := clip(long); utf8.RuneCountInString(got) != maxLineRunes || !strings.HasSuffix(got, "…") {
		t.Errorf("clip gave %d runes", utf8.RuneCountInString(got))
	}
}

// A rule too long for one line is broken between its clauses: every sub-expression and the
// value it saw stays whole, where the old single line was cut mid-expression.
func TestLongMatchIsBrokenBetweenClauses(t *testing.T) {
	p := &Pipeline{Deps: Deps{Redactor: evidence.NewRedactor(nil)}}
	clauses := []string{
		`service in ["checkout", "payments", "storefront"] is true (service is "checkout")`,
		`any(alerts, .details.check == "jvm_heap" && .details.heap_pct > 90) is true (.details.check of alerts is ["jvm_heap"])`,
		`incident.urgency == "high" is true (incident.urgency is "high")`,
	}
	var b strings.Builder
	p.renderWhy(&b, runbooks.Decision{Why: strings.Join(clauses, " and "), Clauses: clauses})
	got := b.String()
	for _, c := range clauses {
		if !strings.Contains(got, "  · "+c+"\n") {
			t.Errorf("clause not whole on its own line: %q\nnote:\n%s", c, got)
		}
	}
	short := runbooks.Decision{Why: `service == "checkout" is true`, Clauses: []string{`service == "checkout" is true`}}
	b.Reset()
	p.renderWhy(&b, short)
	if b.String() != "Matched: service == \"checkout\" is true\n" {
		t.Errorf("short reason: %q", b.String())
	}
}
