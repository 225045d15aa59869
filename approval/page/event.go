package page

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
)

// Source marks events published by the page.
const Source = incident.SourceApprovalPage

// decisionEvent is the decision as the note a person would have posted, signed with the
// page's key so that the worker believes it came from the page (see approval.SignNote).
// Its id is one decision: this person's verb on the form they were shown. A double click or a
// retried POST of the same form is one message in the stream (JetStream's duplicate window);
// another person's decision, or the same person's from a newly loaded page, is a message of
// its own and is never swallowed as a duplicate. So is a press on the same form after the gate
// was given back (approval.Store.Reopen): the first press's note is spent, the second is a new
// decision, not something to reload the page for.
func decisionEvent(key []byte, req *approval.Request, author incident.Ref, verb, reason, form string, now time.Time) *incident.Event {
	id := EventID(req.Incident, req.Code, verb, author.ID, form, req.Reopens)
	content := strings.TrimSpace(approval.CommandPrefix + " " + verb + " " + req.Code + " " + reason)
	ev := &incident.Event{
		ID:         id,
		Type:       incident.TypeAnnotated,
		Source:     Source,
		OccurredAt: now.UTC().Truncate(time.Second),
		Agent:      author,
		Incident:   incident.Incident{ID: req.Incident, Title: req.IncidentTitle, HTMLURL: req.IncidentURL},
		Note:       &incident.Note{ID: id, Content: content, Author: author},
	}
	ev.Note.Signature = approval.SignNote(key, ev)
	return ev
}

// EventID is the id of one decision on the page: a gate, a verb, who decided, the form token
// they decided on, and how many times the gate had been reopened.
func EventID(incident, code, verb, author, form string, reopens int) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{incident, code, verb, author, form, strconv.Itoa(reopens)}, "\x00")))
	return Source + "-" + hex.EncodeToString(sum[:16])
}
