package app

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/slack"
	"github.com/alaya-sre/alaya/webhook"
)

// A Slack button press comes to the receiver, which is the only part of Alaya that can check
// Slack's signature. It queues the press as the note a person would have posted
// ("/alaya approve CODE"), signed with the link key like a page decision, and the worker
// decides it through the same approval flow: who the Slack user is in PagerDuty, whether they
// may decide, and the answer to them, all happen there.

// slackVerifier checks presses against slack.signing_secrets (several during a rotation).
func (r *Receiver) slackVerifier() *slack.Verifier {
	secrets := make([][]byte, len(r.cfg.Slack.SigningSecrets))
	for i, s := range r.cfg.Slack.SigningSecrets {
		secrets[i] = []byte(s.Reveal())
	}
	return &slack.Verifier{Secrets: func() [][]byte { return secrets }}
}

// decodeSlack turns a verified interaction body into the press's event, signed with key. A
// press of a button that is not a gate's, or an interaction of another kind, is ignored; a
// press from a workspace other than team (when set) is refused.
func decodeSlack(key []byte, team string, now func() time.Time) func([]byte) (*incident.Event, error) {
	return func(body []byte) (*incident.Event, error) {
		in, err := slack.ParseInteraction(body)
		if errors.Is(err, slack.ErrNotBlockActions) {
			return nil, fmt.Errorf("%w: %v", webhook.ErrIgnored, err)
		}
		if err != nil {
			return nil, err
		}
		if team != "" && in.Team != team {
			return nil, fmt.Errorf("%w: a press from workspace %s; slack.team is %s", webhook.ErrForbidden, short(in.Team), team)
		}
		verb, ok := slack.VerbOf(in.ActionID)
		if !ok {
			return nil, fmt.Errorf("%w: action %q is not a gate button", webhook.ErrIgnored, short(in.ActionID))
		}
		valueVerb, incidentID, code, err := slack.ParseButtonValue(in.Value)
		if err != nil {
			return nil, err
		}
		if valueVerb != verb {
			return nil, fmt.Errorf("button %s carries a %s value", in.ActionID, valueVerb)
		}
		return pressEvent(key, in, verb, incidentID, code, now()), nil
	}
}

// pressEvent is the press as a signed note on the incident.
func pressEvent(key []byte, in *slack.Interaction, verb, incidentID, code string, now time.Time) *incident.Event {
	author := incident.Ref{ID: in.User, Type: incident.AuthorSlackUser, Summary: in.UserName}
	ev := &incident.Event{
		ID:         in.EventID(),
		Type:       incident.TypeAnnotated,
		Source:     incident.SourceSlack,
		OccurredAt: now.UTC().Truncate(time.Second),
		Agent:      author,
		Incident:   incident.Incident{ID: incidentID},
		Note: &incident.Note{ID: in.EventID(), Author: author,
			Content: strings.Join([]string{approval.CommandPrefix, verb, code}, " ")},
		Chat: &incident.ChatAction{Team: in.Team, User: in.User, Channel: in.Channel, MessageTS: in.MessageTS,
			ThreadTS: in.ThreadTS, ResponseURL: in.ResponseURL},
	}
	ev.Note.Signature = approval.SignNote(key, ev)
	return ev
}

// short keeps an id from a request readable in a log line.
func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
