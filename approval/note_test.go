package approval_test

import (
	"context"
	"errors"
	"testing"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
)

func TestApplyNote(t *testing.T) {
	ctx := testCtx(t)
	clk := newClock()
	s := approval.NewStore(newKV(t), clk.Now)
	p := &approval.Policy{OnCall: &fakeOnCall{byPolicy: map[string][]string{"PEP": {"PONCALL"}}}, SelfUserID: "PALAYA"}
	r := newRequest("Q1NOTE")
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	inc := &incident.Incident{ID: "Q1NOTE", Status: incident.StatusTriggered, EscalationPolicy: incident.Ref{ID: "PEP"}}
	planHash := r.PlanHash
	hash := func(context.Context, *approval.Request) (string, error) { return planHash, nil }
	note := func(author, content string) *incident.Note {
		return &incident.Note{Content: content, Author: incident.Ref{ID: author, Summary: author}}
	}
	approve := "/alaya approve " + r.Code

	steps := []struct {
		name string
		note *incident.Note
		want error
	}{
		{"alaya's own plan note", note("PALAYA", approval.Instructions(r.Code)), approval.ErrSelf},
		{"alaya quoting the command", note("PALAYA", approve), approval.ErrSelf},
		{"chatter", note("PONCALL", "looking into it"), approval.ErrNoCommand},
		{"wrong code", note("PONCALL", "/alaya approve ZZZZZZ"), approval.ErrNotFound},
		{"not on call", note("PDEV", approve), approval.ErrNotAllowed},
		{"on call", note("PONCALL", approve), nil},
		{"replayed", note("PONCALL", approve), approval.ErrAlreadyDecided},
		{"late rejection", note("PONCALL", "/alaya reject "+r.Code), approval.ErrAlreadyDecided},
	}
	for _, st := range steps {
		got, _, err := approval.ApplyNote(ctx, s, p, st.note, inc, hash)
		if !errors.Is(err, st.want) || (st.want == nil && err != nil) {
			t.Fatalf("%s: %v, want %v", st.name, err, st.want)
		}
		if st.want == nil && (got.State != approval.StateApproved || got.DecidedBy != "PONCALL") {
			t.Fatalf("%s: decided %+v", st.name, got)
		}
	}

	changed := newRequest("Q1NOTE")
	if err := s.Create(ctx, changed); err != nil {
		t.Fatal(err)
	}
	planHash = "sha256:plan-2"
	if _, _, err := approval.ApplyNote(ctx, s, p, note("PONCALL", "/alaya approve "+changed.Code), inc, hash); !errors.Is(err, approval.ErrPlanChanged) {
		t.Fatalf("changed plan: %v", err)
	}
}
