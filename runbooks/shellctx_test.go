package runbooks

import (
	"os/exec"
	"testing"

	"github.com/alaya-sre/alaya/internal/testenv"
)

// dquoteRunbook is the command from issue 8: a placeholder inside a double-quoted string.
const dquoteRunbook = `
name: dquote
owner: sre
match: "true"
targets: {expr: '"app-1"'}
steps:
  - name: echo
    run: 'printf %s "Investigating: {{ incident.title }}"'
`

// TestPlaceholderInDoubleQuotesIsData is the reproduction from issue 8: inside double quotes
// the value's single quotes were literal, so a command substitution in an incident title ran.
func TestPlaceholderInDoubleQuotesIsData(t *testing.T) {
	_, err := exec.LookPath("sh")
	testenv.Require(t, "a POSIX sh", err == nil)
	const title = "DQTEST $(touch MARKER) `touch MARKER` ${IFS}"
	p, err := planWith(t, dquoteRunbook, title)
	if err != nil {
		t.Fatal(err)
	}
	out, left := sh(t, p.Steps[0].Commands["app-1"])
	if want := "Investigating: " + title; out != want || len(left) > 0 {
		t.Fatalf("got %q (files left: %v), want %q and no files", out, left, want)
	}
}
