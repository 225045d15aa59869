package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/kvkey"
	"github.com/alaya-sre/alaya/outbox"
)

// postedNotes records the id of every note Alaya posts, so that the approval flow recognises
// its own notes by a record only Alaya writes: not only by the author PagerDuty reports (the
// lookup of Alaya's own user can fail) and never by content (a note quotes hosts' output).
// The record lives in the runs bucket next to the outbox, under "posted.<note id>".
type postedNotes struct {
	next outbox.Poster
	kv   jetstream.KeyValue
	log  *slog.Logger
}

func postedKey(noteID string) string { return "posted." + kvkey.Token(noteID) }

// AddNote posts through next and records the note's id. A record that cannot be written is
// logged: the author check still recognises the note.
func (p *postedNotes) AddNote(ctx context.Context, incidentID, content string) (string, error) {
	id, err := p.next.AddNote(ctx, incidentID, content)
	if err != nil || id == "" {
		return id, err
	}
	if _, perr := p.kv.Put(ctx, postedKey(id), []byte(incidentID)); perr != nil {
		p.log.Warn("posted note not recorded as alaya's own", "note", id, "err", perr)
	}
	return id, nil
}

// Posted reports whether Alaya posted the note with this id.
func (p *postedNotes) Posted(ctx context.Context, noteID string) bool {
	if noteID == "" {
		return false
	}
	_, err := p.kv.Get(ctx, postedKey(noteID))
	return err == nil
}

// IncidentNotes lets the outbox read an incident back before it posts a note again
// (outbox.Reader), through next when next can.
func (p *postedNotes) IncidentNotes(ctx context.Context, incidentID string) ([]incident.Note, error) {
	r, ok := p.next.(outbox.Reader)
	if !ok {
		return nil, errors.New("notes cannot be read back here")
	}
	return r.IncidentNotes(ctx, incidentID)
}
