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
const Source = "approval-page"

// decisionEvent is the decision as the note a person would have posted: the worker handles it
// exactly like an incident.annotated webhook. Its id depends only on (incident, code, verb),
// so a double click or a retried POST is one message in the stream (JetStream's duplicate
// window), and the store's compare-and-swap settles anything later.
func decisionEvent(req *approval.Request, author incident.Ref, verb, reason string, now time.Time) *incident.Event {
	id := EventID(req.Incident, req.Code, verb)
	content := strings.TrimSpace(approval.CommandPrefix + " " + verb + " " + req.Code + " " + reason)
	return &incident.Event{
		ID:         id,
		Type:       incident.TypeAnnotated,
		Source:     Source,
		OccurredAt: now,
		Agent:      author,
		Incident:   incident.Incident{ID: req.Incident, Title: req.IncidentTitle, HTMLURL: req.IncidentURL},
		Note:       &incident.Note{ID: id, Content: content, Author: author},
	}
}

// EventID is the id of the page's decision event for one gate and verb.
func EventID(incident, code, verb string) string {
	sum := sha256.Sum256([]byte(incident + "\x00" + code + "\x00" + verb))
	return Source + "-" + hex.EncodeToString(sum[:16])
}
