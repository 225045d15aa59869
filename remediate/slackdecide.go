package remediate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/notetext"
	"github.com/alaya-sre/alaya/outbox"
)

// A press of a gate's button in Slack reaches the worker as a note event from the receiver,
// "/alaya approve CODE" by the Slack user, signed with the link key (the receiver checked
// Slack's signature; the queue is no authority). It goes through the same flow as any note:
// verify (the receiver's signature, then the Slack user → email → the PagerDuty user with
// that email), find the gate, authorize (the same policy), bind, decide, start. A refusal is
// answered to the presser alone, through the interaction's response_url.

// SlackUsers looks a Slack user's email up (users.info).
type SlackUsers interface {
	UserEmail(ctx context.Context, userID string) (string, error)
}

// SlackGroups lists the members of a Slack user group (usergroups.users.list).
type SlackGroups interface {
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
}

// verifySlack checks the receiver's signature and maps the Slack user to the person who
// decides: the PagerDuty user with the same email, or, for an incident PagerDuty does not
// have, the Slack user itself (authorizeSlack then allows only the runbook's named people).
func (p *Pipeline) verifySlack(ctx context.Context, n *note) error {
	if !approval.VerifyNote(p.Gates.PageKey, n.ev) {
		return refusal(approval.ErrNotAllowed, "the press does not carry the receiver's signature")
	}
	if n.ev.Chat != nil {
		n.answerTo = n.ev.Chat.ResponseURL
	}
	if p.Chat == nil || p.Chat.Users == nil {
		return refusal(approval.ErrNotAllowed, "this worker cannot look Slack users up")
	}
	slackID := n.ev.Note.Author.ID
	email, err := p.Chat.Users.UserEmail(ctx, slackID)
	if err != nil {
		if outbox.IsPermanent(err) {
			return refusal(approval.ErrNotAllowed, "your Slack account shows no email Alaya can match to a person")
		}
		return classify(fmt.Errorf("approval: slack user %s: %w", slackID, err))
	}
	if !p.inPagerDuty(n.ev.Incident.ID) {
		n.author = incident.Ref{ID: slackID, Type: incident.AuthorSlackUser, Summary: email}
		return nil
	}
	if p.Gates.Policy.Dir == nil {
		return refusal(approval.ErrNotAllowed, "this worker cannot look PagerDuty users up")
	}
	u, err := p.Gates.Policy.Dir.UserByEmail(ctx, email)
	if errors.Is(err, approval.ErrUnknown) {
		return refusal(approval.ErrNotAllowed, "no PagerDuty user has the email of your Slack account")
	} else if err != nil {
		return classify(fmt.Errorf("approval: pagerduty user for a slack user: %w", err))
	}
	n.author = u.Ref()
	return nil
}

// inPagerDuty reports whether the incident exists in PagerDuty (and so has an on-call).
func (p *Pipeline) inPagerDuty(incidentID string) bool {
	return p.Chat == nil || p.Chat.InPagerDuty == nil || p.Chat.InPagerDuty(incidentID)
}

// authorizeSlack decides a press on an incident that is not in PagerDuty: there is nobody
// on call to ask, so only the Slack users and user groups the runbook names may decide, and
// a runbook that names none cannot be decided from Slack at all.
func (p *Pipeline) authorizeSlack(ctx context.Context, n *note) error {
	rb := p.Catalog().Runbook(n.req.Runbook)
	if rb == nil || rb.Slack.Approvers.Empty() {
		return refusal(approval.ErrNotAllowed, "this incident is not in PagerDuty and runbook %s names no Slack approvers", n.req.Runbook)
	}
	a := rb.Slack.Approvers
	if slices.Contains(a.Users, n.author.ID) {
		return nil
	}
	for _, g := range a.Groups {
		if p.Chat.Members == nil {
			break
		}
		members, err := p.Chat.Members.GroupMembers(ctx, g)
		if err != nil && !outbox.IsPermanent(err) {
			return classify(fmt.Errorf("approval: members of slack group %s: %w", g, err))
		}
		if slices.Contains(members, n.author.ID) {
			return nil
		}
	}
	return refusal(approval.ErrNotAllowed, "runbook %s allows only its named Slack approvers; %s is not one of them", n.req.Runbook, approval.Name(n.author))
}

// respondSlack answers a refused press to the presser alone, with the reason and nothing
// more about the gate. The answer goes through the outbox (once per press). A press without
// the receiver's signature is only logged (verifySlack set no answerTo): its response URL was
// chosen by whoever put it on the queue, not by Slack, and Alaya calls no URL it cannot vouch for.
func (p *Pipeline) respondSlack(ctx context.Context, n *note, detail string) error {
	url := n.answerTo
	p.Logger.InfoContext(ctx, "slack decision refused", "incident", n.ev.Incident.ID, "slack_user", n.ev.Note.Author.ID,
		"reason", detail, "answered", url != "")
	if url == "" {
		return nil
	}
	what := "decision"
	switch n.cmd.Verb {
	case approval.VerbApprove:
		what = "approval"
	case approval.VerbReject:
		what = "rejection"
	}
	content := notetext.Sprintf("Alaya · your %s was not accepted: %s. Nothing was executed.", what, oneLine(detail))
	dest := outbox.Dest{Slack: &outbox.Slack{ResponseURL: url}}
	p.chatSend(ctx, "respond."+digest(n.ev.ID), dest, n.ev.Incident.ID, p.Redactor.String(content))
	return nil
}
