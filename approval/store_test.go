package approval_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/approval"
)

func newRequest(incident string) *approval.Request {
	return &approval.Request{
		Incident: incident, Run: "run-1", Runbook: "jvm-oom", RunbookVersion: "abc123",
		Gate: "restart", PlanHash: "sha256:plan-1", PlanText: "restart app on app-3",
		Resume: approval.ResumePoint{Step: 3},
	}
}

func TestStoreCreateGet(t *testing.T) {
	ctx := testCtx(t)
	clk := newClock()
	s := approval.NewStore(newKV(t), clk.Now)

	r := newRequest("Q1ABCDEF")
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	if r.Code == "" || r.State != approval.StatePending || !r.Expires.Equal(clk.Now().Add(approval.DefaultExpiry)) {
		t.Fatalf("defaults not filled: %+v", r)
	}
	got, rev, err := s.Get(ctx, "Q1ABCDEF", r.Code)
	if err != nil || rev == 0 {
		t.Fatalf("Get: %v (rev %d)", err, rev)
	}
	if got.PlanHash != r.PlanHash || got.Resume.Step != 3 || got.Code != r.Code {
		t.Fatalf("round trip: got %+v", got)
	}

	dup := newRequest("Q1ABCDEF")
	dup.Code = r.Code
	if err := s.Create(ctx, dup); !errors.Is(err, approval.ErrExists) {
		t.Fatalf("Create with a taken code: %v, want ErrExists", err)
	}
	if _, _, err := s.Get(ctx, "Q1ABCDEF", "ZZZZZZ"); !errors.Is(err, approval.ErrNotFound) {
		t.Fatalf("Get unknown: %v, want ErrNotFound", err)
	}
	if _, _, err := s.Get(ctx, "Q1ABCDEF", "not a code"); !errors.Is(err, approval.ErrNotFound) {
		t.Fatalf("Get malformed: %v, want ErrNotFound", err)
	}
}

func TestStoreIncidentIDsThatAreNotKeyTokens(t *testing.T) {
	ctx := testCtx(t)
	s := approval.NewStore(newKV(t), newClock().Now)
	odd := `{}:{alertname="Disk full", env="prod"}`
	r := newRequest(odd)
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, odd, r.Code); err != nil {
		t.Fatal(err)
	}
	p, err := s.Pending(ctx, odd)
	if err != nil || len(p) != 1 {
		t.Fatalf("Pending: %v, %d", err, len(p))
	}
}

func TestDecideRace(t *testing.T) {
	ctx := testCtx(t)
	s := approval.NewStore(newKV(t), newClock().Now)
	r := newRequest("Q1RACE")
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}

	const deciders = 8
	var wg sync.WaitGroup
	errs := make([]error, deciders)
	start := make(chan struct{})
	for i := range deciders {
		wg.Go(func() {
			<-start
			state := approval.StateApproved
			if i%2 == 1 {
				state = approval.StateRejected
			}
			_, errs[i] = s.Decide(ctx, r.Incident, r.Code, approval.Decision{State: state, By: "PUSER", PlanHash: r.PlanHash})
		})
	}
	close(start)
	wg.Wait()

	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, approval.ErrAlreadyDecided):
			t.Fatalf("loser got %v, want ErrAlreadyDecided", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d deciders won, want exactly 1", wins)
	}
}

func TestDecideReplayed(t *testing.T) {
	ctx := testCtx(t)
	clk := newClock()
	s := approval.NewStore(newKV(t), clk.Now)
	r := newRequest("Q1REPLAY")
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	d := approval.Decision{State: approval.StateApproved, By: "PUSER", ByName: "Ada", PlanHash: r.PlanHash}
	got, err := s.Decide(ctx, r.Incident, r.Code, d)
	if err != nil || got.State != approval.StateApproved || got.DecidedBy != "PUSER" || !got.DecidedAt.Equal(clk.Now()) {
		t.Fatalf("first decision: %+v, %v", got, err)
	}
	got, err = s.Decide(ctx, r.Incident, r.Code, d)
	if !errors.Is(err, approval.ErrAlreadyDecided) || !errors.Is(err, approval.ErrNotPending) {
		t.Fatalf("replay: %v, want ErrAlreadyDecided", err)
	}
	var ref *approval.Refusal
	if !errors.As(err, &ref) || ref.Request.State != approval.StateApproved || got.DecidedByName != "Ada" {
		t.Fatalf("replay should carry the existing decision, got %+v / %v", got, err)
	}
}

func TestDecideRefusesWithoutWriting(t *testing.T) {
	ctx := testCtx(t)
	clk := newClock()
	s := approval.NewStore(newKV(t), clk.Now)
	r := newRequest("Q1REFUSE")
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		d    approval.Decision
		want error
	}{
		{"other plan", approval.Decision{State: approval.StateApproved, PlanHash: "sha256:other"}, approval.ErrPlanChanged},
		{"approval without hash", approval.Decision{State: approval.StateApproved}, approval.ErrPlanChanged},
		{"after expiry", approval.Decision{State: approval.StateApproved, PlanHash: r.PlanHash, At: r.Expires}, approval.ErrExpired},
	}
	for _, c := range cases {
		if _, err := s.Decide(ctx, r.Incident, r.Code, c.d); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if got, _, _ := s.Get(ctx, r.Incident, r.Code); got.State != approval.StatePending {
		t.Fatalf("a refused decision changed the state to %s", got.State)
	}
}

func TestExpireDue(t *testing.T) {
	ctx := testCtx(t)
	clk := newClock()
	s := approval.NewStore(newKV(t), clk.Now)
	short, long, decided := newRequest("Q1EXP"), newRequest("Q1EXP"), newRequest("Q2EXP")
	short.Expires = clk.Now().Add(10 * time.Minute)
	long.Expires = clk.Now().Add(time.Hour)
	decided.Expires = short.Expires
	for _, r := range []*approval.Request{short, long, decided} {
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Decide(ctx, decided.Incident, decided.Code, approval.Decision{State: approval.StateRejected, By: "P1"}); err != nil {
		t.Fatal(err)
	}

	if got, err := s.ExpireDue(ctx); err != nil || len(got) != 0 {
		t.Fatalf("nothing is due yet: %v, %d", err, len(got))
	}
	clk.Advance(10 * time.Minute)
	got, err := s.ExpireDue(ctx)
	if err != nil || len(got) != 1 || got[0].Code != short.Code || got[0].State != approval.StateExpired {
		t.Fatalf("ExpireDue at the deadline: %v, %+v", err, got)
	}
	if again, err := s.ExpireDue(ctx); err != nil || len(again) != 0 {
		t.Fatalf("an expiry is reported once: %v, %d", err, len(again))
	}
	p, err := s.Pending(ctx, "Q1EXP")
	if err != nil || len(p) != 1 || p[0].Code != long.Code {
		t.Fatalf("Pending after expiry: %v, %+v", err, p)
	}
}

func TestCancelIncident(t *testing.T) {
	ctx := testCtx(t)
	s := approval.NewStore(newKV(t), newClock().Now)
	a, b, other := newRequest("Q1RES"), newRequest("Q1RES"), newRequest("Q1RESX")
	for _, r := range []*approval.Request{a, b, other} {
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.CancelIncident(ctx, "Q1RES", "incident resolved")
	if err != nil || len(got) != 2 {
		t.Fatalf("CancelIncident: %v, %d cancelled", err, len(got))
	}
	for _, r := range got {
		if r.State != approval.StateCancelled || r.Reason != "incident resolved" {
			t.Fatalf("cancelled request: %+v", r)
		}
	}
	if again, err := s.CancelIncident(ctx, "Q1RES", "again"); err != nil || len(again) != 0 {
		t.Fatalf("second cancel: %v, %d", err, len(again))
	}
	if p, _ := s.Pending(ctx, "Q1RESX"); len(p) != 1 {
		t.Fatal("another incident (sharing a key prefix) was cancelled too")
	}
	if _, err := s.Decide(ctx, "Q1RES", a.Code, approval.Decision{State: approval.StateApproved, PlanHash: a.PlanHash}); !errors.Is(err, approval.ErrAlreadyDecided) {
		t.Fatalf("approving a cancelled gate: %v", err)
	}
}
