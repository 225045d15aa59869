package remediate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/safety"
)

// A run stays running in the ledger while a handler owns it or its event can still come back
// to be adopted. When neither is true any more (the worker died and its event was acknowledged
// by another installation, terminated, deleted from the stream or out of deliveries), nothing
// would ever end it: every worker sweeps for such runs and ends them abandoned, with the steps
// that had started unknown, their hosts held, and a note on the incident.

// SweepAbandoned ends every run whose record nobody has written for longer than a live
// handler can stay silent (Options.HandlerTimeout) plus the longest its event can still be
// delivered again (Deps.Redelivery, from the live consumer). Any number of workers may sweep
// at once: the ledger's compare-and-swap lets one of them end each run, and a handler that
// writes meanwhile keeps its run.
func (p *Pipeline) SweepAbandoned(ctx context.Context) error {
	if p.Redelivery == nil {
		return nil
	}
	horizon, err := p.Redelivery(ctx)
	if errors.Is(err, queue.ErrNoHorizon) {
		return nil // every event can come back: waiting proves nothing
	}
	if err != nil {
		return fmt.Errorf("abandoned runs: %w", err)
	}
	quiet := p.Options.HandlerTimeout + horizon
	silent, err := p.Ledger.Silent(ctx, quiet)
	if err != nil {
		return fmt.Errorf("abandoned runs: %w", err)
	}
	var errs []error
	for _, h := range silent {
		errs = append(errs, p.abandon(ctx, h, quiet))
	}
	return errors.Join(errs...)
}

// RunAbandonSweep calls SweepAbandoned every interval until ctx ends.
func (p *Pipeline) RunAbandonSweep(ctx context.Context, every time.Duration) {
	p.tick(ctx, every, func() {
		if err := p.SweepAbandoned(ctx); err != nil {
			p.Logger.WarnContext(ctx, "abandoned run sweep", "err", err)
		}
	})
}

// abandon ends one silent run, then holds the hosts of its unknown changes and posts the
// note. A run found already abandoned but not yet noted (its sweeper stopped half way) gets
// only the holds and the note, both of which are idempotent.
func (p *Pipeline) abandon(ctx context.Context, h *ledger.Handle, quiet time.Duration) error {
	rec := h.Record()
	if rec.State == ledger.StateRunning {
		why := fmt.Sprintf("lost: no worker has written to this run since %s, more than %s ago "+
			"(the handler deadline plus the longest its event could still be delivered again); "+
			"its worker stopped, and its event was consumed elsewhere, terminated or deleted",
			h.Written().UTC().Format("2006-01-02 15:04:05Z"), quiet.Round(time.Second))
		unknown, err := h.Abandon(ctx, why)
		if errors.Is(err, ledger.ErrLost) {
			return nil // its handler was alive after all, or another worker ended it
		}
		if err != nil {
			return fmt.Errorf("abandon run %s: %w", rec.ID, err)
		}
		p.Metrics.runs.WithLabelValues(rec.Runbook, "abandoned").Inc()
		p.Logger.WarnContext(ctx, "run abandoned", "run", rec.ID, "incident", rec.Incident,
			"last_write", h.Written(), "unknown_steps", unknown)
		rec = h.Record()
	}
	held := p.holdAbandoned(ctx, rec)
	if err := p.note(ctx, rec.ID+".abandoned", rec.Incident, p.abandonedNote(rec, held)); err != nil {
		return err
	}
	if err := h.Update(ctx, func(r *ledger.Record) { r.Noted = true }); err != nil && !errors.Is(err, ledger.ErrLost) {
		return fmt.Errorf("abandon run %s: %w", rec.ID, err)
	}
	return nil
}

// holdAbandoned puts on hold every host where a change of the run has an unknown outcome,
// and returns them. A read-only step left unknown changed nothing: its host is not held.
func (p *Pipeline) holdAbandoned(ctx context.Context, rec ledger.Record) []string {
	var held []string
	for _, key := range unknownSteps(rec) {
		_, host, _ := ledger.ParseStepKey(key)
		if !rec.Steps[key].Mutating || slices.Contains(held, host) {
			continue
		}
		held = append(held, host)
		if p.Safety == nil {
			continue
		}
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishWrite)
		err := p.Safety.Guard.HoldHost(hctx, safety.Hold{Host: host, Run: rec.ID, Step: key, Since: time.Now(),
			Reason: "the run was abandoned while this change was under way"})
		cancel()
		if err != nil {
			p.Logger.ErrorContext(ctx, "host not put on hold after an abandoned run", "run", rec.ID, "host", host, "err", err)
		}
	}
	return held
}

// abandonedNote says on the incident that the run was lost, since when, and what is unknown.
func (p *Pipeline) abandonedNote(rec ledger.Record, held []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Alaya · %s: run abandoned, %s. Nothing more of it will execute.\n", rec.Runbook, rec.Reason)
	unknown := unknownSteps(rec)
	if len(unknown) == 0 {
		b.WriteString("No step was under way.\n")
	}
	for _, key := range unknown {
		i, host, _ := ledger.ParseStepKey(key)
		kind := "read only, changed nothing"
		if rec.Steps[key].Mutating {
			kind = "changes a system: it may or may not have taken effect"
		}
		fmt.Fprintf(&b, "? %s on %s: outcome unknown (%s)\n", p.stepName(rec, i), host, kind)
	}
	if len(held) > 0 && p.Safety != nil {
		fmt.Fprintf(&b, "Alaya will not change %s again until a person checks and runs `alaya holds clear %s`.\n",
			strings.Join(held, ", "), strings.Join(held, " "))
	} else if len(held) > 0 {
		fmt.Fprintf(&b, "Check %s before changing %s again.\n", strings.Join(held, ", "), pluralIt(len(held)))
	}
	fmt.Fprintf(&b, "Run %s", rec.ID)
	return b.String()
}

// unknownSteps are the keys of the record's steps whose outcome is unknown, in plan order.
func unknownSteps(rec ledger.Record) []string {
	var keys []string
	for k, s := range rec.Steps {
		if _, _, ok := ledger.ParseStepKey(k); ok && s.Status == ledger.StepUnknown {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		ia, ha, _ := ledger.ParseStepKey(a)
		ib, hb, _ := ledger.ParseStepKey(b)
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(ha, hb)
	})
	return keys
}

// stepName is the name of the run's step at index, from the runbook of the run's version
// when it is still loaded; otherwise its position.
func (p *Pipeline) stepName(rec ledger.Record, index int) string {
	if rb := p.Catalog().Runbook(rec.Runbook); rb != nil && rb.Version == rec.Version {
		if names := rb.StepNames(); index < len(names) {
			return names[index]
		}
	}
	return fmt.Sprintf("step %d", index+1)
}
