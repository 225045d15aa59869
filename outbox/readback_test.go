package outbox

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/alaya-sre/alaya/incident"
)

// landingNotes stores every note, like PagerDuty, but the first answer never reaches the
// worker: the connection is cut, or the worker dies, after PagerDuty took the note.
type landingNotes struct {
	mu     sync.Mutex
	stored []string
	lost   int // answers still to lose
}

func (l *landingNotes) AddNote(_ context.Context, _, content string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stored = append(l.stored, content)
	if l.lost > 0 {
		l.lost--
		return "", errors.New("read tcp: connection reset by peer")
	}
	return "N1", nil
}

func (l *landingNotes) IncidentNotes(context.Context, string) ([]incident.Note, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []incident.Note
	for _, c := range l.stored {
		out = append(out, incident.Note{ID: "N", Content: c})
	}
	return out, nil
}

// A post whose answer was lost may have landed. Before trying again, the outbox reads the
// incident back and does not post a note that is already there.
func TestANoteThatLandedWithoutAnAnswerIsNotPostedAgain(t *testing.T) {
	notes := &landingNotes{lost: 1}
	o := newOutbox(t, notes)
	ctx := t.Context()
	if err := o.Enqueue(ctx, "r1", "PINC1", "1/1 hosts ok"); err != nil {
		t.Fatal(err)
	}
	_ = o.Deliver(ctx, "r1") // landed, but the answer was lost
	drain(t, o, "r1")
	if len(notes.stored) != 1 {
		t.Errorf("the incident has the note %d times", len(notes.stored))
	}
}
