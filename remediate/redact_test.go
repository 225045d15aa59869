package remediate_test

import (
	"strings"
	"testing"
)

// TestPlanTextIsRedactedWhereItIsMade: a token in a command of the plan is redacted in the
// approval request (what the approval page serves and the approvals bucket stores), not only
// in the note.
func TestPlanTextIsRedactedWhereItIsMade(t *testing.T) {
	const token = "tok-1234567890abcdef"
	rb := strings.Replace(gatedRunbook, "command: restart-it,",
		"command: \"curl -H 'Authorization: Bearer "+token+"' http://127.0.0.1/restart\",", 1)
	b := newBedWith(t, rb)
	code, _ := b.park(t, b.newP("w1"), "PRED1")
	req, _, err := b.approv.Get(t.Context(), "PRED1", code)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(req.PlanText, "Bearer [REDACTED]") || strings.Contains(req.PlanText, token) {
		t.Errorf("plan text of the request:\n%s", req.PlanText)
	}
	if note := b.pd.find("Approval needed"); strings.Contains(note, token) {
		t.Errorf("the token is in the note:\n%s", note)
	}
}
