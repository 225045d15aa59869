package approval_test

import (
	"errors"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/approval"
)

// An approval given back is pending again, waits its window from when the change may run,
// and the note that approved it cannot approve it again; a new note can.
func TestReopenGivesTheApprovalBack(t *testing.T) {
	ctx := testCtx(t)
	clk := newClock()
	s := approval.NewStore(newKV(t), clk.Now)
	r := newRequest("Q1REOPEN")
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	approve := func(note string) error {
		_, err := s.Decide(ctx, r.Incident, r.Code, approval.Decision{State: approval.StateApproved, By: "PONCALL",
			PlanHash: r.PlanHash, Note: note})
		return err
	}
	if err := approve("N1"); err != nil {
		t.Fatal(err)
	}
	notBefore := clk.Now().Add(time.Hour)
	got, err := s.Reopen(ctx, r.Incident, r.Code, approval.Reopening{Reason: "cooldown", NotBefore: notBefore, Window: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != approval.StatePending || !got.Expires.Equal(notBefore.Add(30*time.Minute)) || got.DecidedBy != "" || got.Reopens != 1 {
		t.Fatalf("reopened: %+v", got)
	}
	if err := approve("N1"); !errors.Is(err, approval.ErrSpent) {
		t.Fatalf("the spent note approved again: %v", err)
	}
	if _, err := s.Reopen(ctx, r.Incident, r.Code, approval.Reopening{Window: time.Minute}); !errors.Is(err, approval.ErrNotPending) {
		t.Fatalf("a pending gate reopened: %v", err)
	}
	if err := approve("N2"); err != nil {
		t.Fatalf("a new note cannot approve the reopened gate: %v", err)
	}
}
