package pagerduty

import (
	"context"
	"unicode/utf8"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/alaya-sre/alaya/incident"
)

// MaxNoteLen is the most characters PagerDuty accepts in one incident note.
const MaxNoteLen = 65535

// AddNote posts content as a note on the incident, as the Config.From user, and returns the
// note's id. Content longer than MaxNoteLen characters is cut to fit: callers should shorten
// it themselves with a link to the full text, this is only the last guard so a long note is
// never refused outright.
//
// A note whose request fails without an answer is retried; if PagerDuty had in fact stored it,
// the incident shows it twice. Alaya prefers a duplicate to a lost note.
func (c *Client) AddNote(ctx context.Context, incidentID, content string) (string, error) {
	op := "add note to incident " + incidentID
	if err := checkID("incident", incidentID); err != nil {
		return "", c.classify(ctx, op, err, nil)
	}
	if n := utf8.RuneCountInString(content); n > MaxNoteLen {
		c.log.Warn("pagerduty: note cut to the API limit", "incident", incidentID, "chars", n, "limit", MaxNoteLen)
		content = Truncate(content, MaxNoteLen)
	}
	var note *pd.IncidentNote
	err := c.call(ctx, op, func(ctx context.Context) (err error) {
		// go-pagerduty sends note.User.Summary as the From header.
		note, err = c.pd.CreateIncidentNoteWithContext(ctx, incidentID, pd.IncidentNote{
			Content: content,
			User:    pd.APIObject{Summary: c.from},
		})
		return err
	})
	if err != nil {
		return "", err
	}
	return note.ID, nil
}

// Truncate returns s cut to at most n characters (runes), never splitting a UTF-8 sequence.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// IncidentNotes lists the notes on the incident as PagerDuty has them, each with its author.
// The approval path reads a note back here before it believes the webhook that announced it:
// a webhook proves only that someone holds the signing secret, the API proves the note exists
// and who wrote it. PagerDuty returns an incident's notes in one answer (no pagination).
func (c *Client) IncidentNotes(ctx context.Context, incidentID string) ([]incident.Note, error) {
	op := "list notes of incident " + incidentID
	if err := checkID("incident", incidentID); err != nil {
		return nil, c.classify(ctx, op, err, nil)
	}
	var notes []pd.IncidentNote
	err := c.call(ctx, op, func(ctx context.Context) (err error) {
		notes, err = c.pd.ListIncidentNotesWithContext(ctx, incidentID)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]incident.Note, 0, len(notes))
	for _, n := range notes {
		out = append(out, incident.Note{ID: n.ID, Content: n.Content, Author: toRef(n.User)})
	}
	return out, nil
}
