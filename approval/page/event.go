package page

import (
	"crypto/sha256"
	"encoding/hex"
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
// its own and is never swallowed as a duplicate.
func decisionEvent(key []byte, req *approval.Request, author incident.Ref, verb, reason, form string, now time.Time) *incident.Event {
	id := EventID(req.Incident, req.Code, verb, author.ID, form)
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

// EventID is the id of one decision on the page: a gate, a verb, who decided and the form
// token they decided on.
func EventID(incident, code, verb, author, form string) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{incident, code, verb, author, form}, "\x00")))
	return Source + "-" + hex.EncodeToString(sum[:16])
}
