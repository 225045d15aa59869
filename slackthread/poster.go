package slackthread

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/outbox"
	"github.com/alaya-sre/alaya/slack"
)

// API is the part of the Slack client a Poster uses (slack.Client).
type API interface {
	PostMessage(ctx context.Context, m slack.Message) (string, error)
	UpdateMessage(ctx context.Context, channel, ts string, m slack.Message) error
	LookupUserByEmail(ctx context.Context, email string) (string, error)
	Respond(ctx context.Context, responseURL, text string) error
	FindNote(ctx context.Context, channel, threadTS string, oldest time.Time, note string) (string, bool, error)
}

// People finds who is on call now and their emails (an adapter over PagerDuty).
type People interface {
	approval.OnCall
	User(ctx context.Context, id string) (approval.User, error)
}

// Poster delivers outbox.SlackMessage through the Slack Web API (outbox.SlackPoster).
type Poster struct {
	API API
	// People resolves mentions; nil: top messages mention only user groups.
	People People
	// MaxLevel is the deepest escalation level mentioned (default 1: who is paged first).
	MaxLevel int
	Log      *slog.Logger

	breaker  breaker
	mentionC mentionCache
}

var (
	_ outbox.SlackPoster = (*Poster)(nil)
	_ outbox.SlackReader = (*Poster)(nil)
)

// PostSlack posts, updates or answers m, and returns the ts of the message.
func (p *Poster) PostSlack(ctx context.Context, m outbox.SlackMessage) (string, error) {
	if !p.breaker.allow() {
		return "", errSlackAway
	}
	ts, err := p.post(ctx, m)
	p.breaker.record(err)
	return ts, err
}

func (p *Poster) post(ctx context.Context, m outbox.SlackMessage) (string, error) {
	if m.ResponseURL != "" {
		return "", classify(p.API.Respond(ctx, m.ResponseURL, Escape(m.Content)))
	}
	if m.Channel == "" {
		return "", outbox.Permanent(errors.New("slack: no channel for this message (its thread was never started)"))
	}
	msg := slack.Message{Channel: m.Channel, ThreadTS: m.ThreadTS, Text: Escape(strings.TrimRight(m.Content, "\n")), Note: m.Note}
	if m.Top {
		mentions, err := p.cachedMentions(ctx, m.Mention)
		if err != nil {
			return "", err
		}
		msg.Text += mentions
	}
	switch {
	case m.Buttons != nil:
		msg.Blocks = gateBlocks(msg.Text, m.Buttons)
		msg.Text = firstLine(msg.Text)
	case m.Decided != "":
		msg.Blocks = append(sections(msg.Text), slack.Context(Escape(m.Decided)))
		msg.Text = firstLine(msg.Text)
	}
	msg = slack.Clip(msg)
	if m.UpdateTS != "" {
		return m.UpdateTS, classify(p.API.UpdateMessage(ctx, m.Channel, m.UpdateTS, msg))
	}
	ts, err := p.API.PostMessage(ctx, msg)
	return ts, classify(err)
}

// FindSlack looks for the message an earlier attempt posted for m.Note (outbox.SlackReader),
// by the metadata PostMessage gave it. It shares the breaker with PostSlack, so a hanging
// Slack costs one timeout, not one for the look and one for the post.
func (p *Poster) FindSlack(ctx context.Context, m outbox.SlackMessage, since time.Time) (string, bool, error) {
	if !p.breaker.allow() {
		return "", false, errSlackAway
	}
	ts, found, err := p.API.FindNote(ctx, m.Channel, m.ThreadTS, since, m.Note)
	p.breaker.record(err)
	return ts, found, classify(err)
}

// classify turns the Slack client's failure into the outbox's terms.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if d, ok := slack.RetryAfter(err); ok {
		return outbox.RetryAfter(err, d)
	}
	if !slack.Temporary(err) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return outbox.Permanent(err)
	}
	return err
}

// Escape makes text from outside inert in mrkdwn: Slack reads <…> as links and mentions
// (<!channel> would page everyone) and & as the start of an entity; these three are what its
// documentation says to escape.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// gateBlocks lays a gate's message out as sections (a section holds at most 3,000
// characters, so the text is split between lines) followed by the two buttons.
func gateBlocks(text string, b *outbox.Buttons) []slack.Block {
	return append(sections(text), slack.Actions(
		slack.Button{ActionID: slack.ActionApprove, Text: "Approve", Style: "primary",
			Value: slack.ButtonValue(incident.VerbApprove, b.Incident, b.Code)},
		slack.Button{ActionID: slack.ActionReject, Text: "Reject", Style: "danger",
			Value: slack.ButtonValue(incident.VerbReject, b.Incident, b.Code)},
	))
}

// sections lays text out as section blocks, split between lines to fit Slack's limit.
func sections(text string) []slack.Block {
	var blocks []slack.Block
	for _, part := range splitLines(text, slack.MaxSectionTextLen) {
		blocks = append(blocks, slack.Section(part))
	}
	return blocks
}

// splitLines cuts s into parts of at most max runes, between lines where it can.
func splitLines(s string, max int) []string {
	var parts []string
	var cur strings.Builder
	n := 0
	for _, line := range strings.SplitAfter(s, "\n") {
		l := len([]rune(line))
		if n+l > max && n > 0 {
			parts = append(parts, cur.String())
			cur.Reset()
			n = 0
		}
		cur.WriteString(line)
		n += l
	}
	if n > 0 {
		parts = append(parts, cur.String())
	}
	return parts
}

// mentions is the line that mentions who is on call now and the user groups. A person who
// cannot be found in Slack is named instead; a lookup Slack rate-limits is tried again later.
func (p *Poster) mentions(ctx context.Context, m *outbox.Mention) (string, error) {
	if m == nil {
		return "", nil
	}
	var parts []string
	people, err := p.onCall(ctx, m.EscalationPolicy)
	if err != nil {
		p.Log.WarnContext(ctx, "slack: on-call not mentioned", "escalation_policy", m.EscalationPolicy, "err", err)
		parts = append(parts, "(on call: lookup failed)")
	}
	for _, u := range people {
		id, err := p.API.LookupUserByEmail(ctx, u.Email)
		if d, ok := slack.RetryAfter(err); ok {
			return "", outbox.RetryAfter(err, d)
		}
		if err != nil || id == "" {
			parts = append(parts, Escape(approval.Name(u.Ref())))
			continue
		}
		parts = append(parts, "<@"+id+">")
	}
	var groups []string
	for _, g := range m.Groups {
		groups = append(groups, "<!subteam^"+g+">")
	}
	switch {
	case len(parts) > 0 && len(groups) > 0:
		return "\nOn call now: " + strings.Join(parts, " ") + " · " + strings.Join(groups, " "), nil
	case len(parts) > 0:
		return "\nOn call now: " + strings.Join(parts, " "), nil
	case len(groups) > 0:
		return "\nFor: " + strings.Join(groups, " "), nil
	}
	return "", nil
}

// onCall lists the people on call now, up to MaxLevel, with their emails.
func (p *Poster) onCall(ctx context.Context, ep string) ([]approval.User, error) {
	if p.People == nil || ep == "" {
		return nil, nil
	}
	duty, err := p.People.OnCalls(ctx, ep)
	if err != nil {
		return nil, err
	}
	var out []approval.User
	for _, d := range duty {
		if d.Level < 1 || d.Level > max(p.MaxLevel, 1) {
			continue
		}
		u, err := p.People.User(ctx, d.UserID)
		if err != nil {
			return out, fmt.Errorf("user %s: %w", d.UserID, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// Users looks Slack users up for the approval flow, its failures classified like the
// outbox's (outbox.IsPermanent: the person cannot be mapped; anything else: try again).
type Users struct {
	API interface {
		UserEmail(ctx context.Context, userID string) (string, error)
	}
}

// UserEmail returns the email of a Slack user (users.info).
func (u Users) UserEmail(ctx context.Context, userID string) (string, error) {
	email, err := u.API.UserEmail(ctx, userID)
	return email, classify(err)
}

// Groups lists user group members for the approval flow, failures classified like Users'.
type Groups struct {
	API interface {
		GroupMembers(ctx context.Context, groupID string) ([]string, error)
	}
}

// GroupMembers returns the user ids in a user group (usergroups.users.list).
func (g Groups) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	ids, err := g.API.GroupMembers(ctx, groupID)
	return ids, classify(err)
}
