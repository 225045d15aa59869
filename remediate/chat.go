package remediate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/notetext"
	"github.com/alaya-sre/alaya/outbox"
	"github.com/alaya-sre/alaya/runbooks"
)

// A run's Slack thread: one top message when the run starts (the incident, the runbook and why
// it matched, who is on call now), updated with the run's state at a glance, and every note
// the run writes on the incident as a reply under it. All of it goes through the outbox, like
// the notes on the incident, so a 429 or a crash delays a message but cannot lose it; the top
// message's ts is kept in the bucket by the outbox, so any worker's reply finds its thread.

// Chat is the Slack side of the pipeline; nil in Deps: no Slack.
type Chat struct {
	// Channel is the channel when the runbook names none: the config's per-service channel,
	// else its default. "" leaves the run without a thread.
	Channel func(inc *incident.Incident) string
	// MentionGroups are user groups mentioned in every top message (config slack.user_group).
	MentionGroups []string
	// Users maps the Slack user behind a button press to an email; nil: presses are refused.
	Users SlackUsers
	// Members lists a user group's members, for runbooks whose Slack approvers name groups;
	// nil: groups match nobody.
	Members SlackGroups
	// InPagerDuty reports whether an incident exists in PagerDuty; nil: all do.
	InPagerDuty func(incidentID string) bool
}

// Thread states shown on the top message.
const (
	stateDiagnosing = "🔎 diagnosing"
	stateWaiting    = "⏸ waiting for approval"
	stateExecuting  = "▶ executing"
	stateDone       = "✅ done"
	stateFailed     = "❌ failed"
	stateStopped    = "⚠ stopped"         // ran in part, then stopped (kill switch, storm mode, deadline)
	stateUnknown    = "❓ outcome unknown" // a change whose end nobody saw: look at the host
)

func topID(runID string) string { return runID + ".slack.top" }

// channel is where a run's thread goes: the runbook's channel, else the config's.
func (p *Pipeline) channel(rb *runbooks.Runbook, inc *incident.Incident) string {
	if rb != nil && rb.Slack.Channel != "" {
		return rb.Slack.Channel
	}
	if p.Chat == nil || p.Chat.Channel == nil {
		return ""
	}
	return p.Chat.Channel(inc)
}

// threadTop posts or updates the run's top message with state. A run without a channel has
// no thread.
func (p *Pipeline) threadTop(ctx context.Context, run *Run, state string) {
	if p.Chat == nil {
		return
	}
	inc := &run.Event.Incident
	ch := p.channel(run.Runbook, inc)
	if ch == "" {
		return
	}
	groups := slices.Concat(run.Runbook.Slack.MentionGroups, p.Chat.MentionGroups)
	dest := outbox.Dest{Slack: &outbox.Slack{Channel: ch, Thread: run.ID, Top: true,
		Mention: &outbox.Mention{EscalationPolicy: inc.EscalationPolicy.ID, Groups: slices.Compact(groups)}}}
	p.chatSend(ctx, topID(run.ID), dest, inc.ID, p.topText(run, state))
}

// topText is the top message: state, incident, runbook and why it matched.
func (p *Pipeline) topText(run *Run, state string) string {
	inc := &run.Event.Incident
	var b strings.Builder
	printf(&b, "Alaya · %s · %s\n", state, run.Runbook.Name)
	title := oneLine(p.Redactor.String(inc.Title))
	if inc.HTMLURL != "" {
		printf(&b, "Incident: %s (%s)\n", title, inc.HTMLURL)
	} else {
		printf(&b, "Incident: %s\n", title)
	}
	printf(&b, "Runbook: %s (%s)\n", run.Runbook.Name, run.Runbook.Version)
	p.renderWhy(&b, run.Decision)
	return b.String()
}

// threadReply puts content, redacted already, under the run's thread (buttons: a gate's).
// Nothing happens when Slack is off; a run whose thread was never started has no channel, and the outbox drops its
// replies after waiting for a top message that never comes.
func (p *Pipeline) threadReply(ctx context.Context, runID, incidentID, id, content string, buttons *outbox.Buttons) {
	if p.Chat == nil {
		return
	}
	dest := outbox.Dest{Slack: &outbox.Slack{Thread: runID, Buttons: buttons}}
	p.chatSend(ctx, runID+".slack."+id, dest, incidentID, content)
}

// slackGate is a gate note as the thread shows it: the buttons below it are the way to
// decide, so the note's how-to-write-a-note lines give way to one that says so (and, for an
// incident in PagerDuty, that a note there decides too).
func (p *Pipeline) slackGate(content, incidentID, code string) string {
	say := "Decide with the buttons below.\n"
	if p.inPagerDuty(incidentID) {
		say = fmt.Sprintf("Decide with the buttons below, or with a note on the PagerDuty incident: %s %s %s\n",
			approval.CommandPrefix, approval.VerbApprove, code)
	}
	return strings.Replace(content, approval.Instructions(code), say, 1)
}

// inlineSlack bounds the try of a Slack message inside the run. Slack takes one message a
// second per channel, so during a storm a channel's turn can be minutes away: the client then
// says so at once (its limiter does not wait past the deadline), and the message is left to the
// outbox's sweeper at its turn instead of holding the run.
const inlineSlack = 5 * time.Second

// chatSend enqueues a Slack message and tries it now, briefly. A Slack message never fails a
// run: one that cannot be queued is logged (the incident's own note carries the same content).
func (p *Pipeline) chatSend(ctx context.Context, id string, dest outbox.Dest, incidentID, content string) {
	if err := p.Outbox.EnqueueTo(ctx, id, dest, incidentID, content); err != nil {
		p.Logger.WarnContext(ctx, "slack message not queued", "id", id, "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, inlineSlack)
	defer cancel()
	if err := p.Outbox.Deliver(ctx, id); err != nil {
		p.Logger.DebugContext(ctx, "slack message not posted yet; the outbox will retry", "id", id, "err", err)
	}
}

// finalState is the top message's state for a finished run: what a responder glancing at the
// channel must do differs between a run that failed, one that stopped part way, and one whose
// change may or may not have happened.
func finalState(run *Run) string {
	switch {
	case run.unknown():
		return stateUnknown
	case run.failedHosts() > 0 || run.Failure != "" && len(run.Results) == 0:
		return stateFailed
	case run.Failure != "":
		return stateStopped
	}
	return stateDone
}

// stepReply posts one executed step's outcome per host into the thread: during the part of a
// run that changes systems, the channel follows it step by step.
func (p *Pipeline) stepReply(ctx context.Context, run *Run, index int, step *runbooks.Step) {
	if p.Chat == nil || run.Approval == nil {
		return
	}
	var b strings.Builder
	printf(&b, "Step %d/%d %s (%s):\n", index+1, len(run.Plan.Steps), step.Name, step.Kind)
	for _, host := range run.Plan.Targets {
		res := run.result(host, step.Name)
		if res == nil || res.Earlier {
			continue
		}
		mark, text := "✓", "ok"
		switch {
		case res.Skipped != "":
			mark, text = "–", "skipped ("+res.Skipped+")"
		case res.Outcome != nil:
			text = clip(res.Outcome.Summary)
			if !res.Outcome.OK {
				mark = "✗"
			}
		case res.Err != "":
			mark, text = "✗", clip(firstLine(res.Err))
		case res.ExitCode != 0:
			mark, text = "✗", fmt.Sprintf("exit %d", res.ExitCode)
		}
		printf(&b, "%s %s: %s\n", mark, host, notetext.Inline(text))
	}
	p.threadReply(ctx, run.ID, run.Event.Incident.ID, fmt.Sprintf("step.%02d", index), p.Redactor.String(b.String()), nil)
}

// gateDecided replaces the buttons of the gate's message in the thread by what became of the
// gate, so nobody presses a button that can no longer decide anything.
func (p *Pipeline) gateDecided(ctx context.Context, req *approval.Request, what string) {
	if p.Chat == nil {
		return
	}
	slot := "gate." + req.Code
	if req.Reopens > 0 {
		slot = fmt.Sprintf("reopen.%s.%d", req.Code, req.Reopens) // the gate's message since it was reopened
	}
	gate := req.Run + ".slack." + slot
	dest := outbox.Dest{Slack: &outbox.Slack{Thread: req.Run, Edit: gate}}
	p.chatSend(ctx, gate+".decided", dest, req.Incident, p.Redactor.String(notetext.Inline(what)))
}
