package approval

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"

	"github.com/alaya-sre/alaya/incident"
)

// A decision taken on the approval page or with a Slack button reaches the worker through the
// queue, not through PagerDuty, so PagerDuty cannot vouch for it. The receiver, which checked
// the person (the page's proxy identity, Slack's request signature), signs it with the link
// key, which the workers hold too; a worker acts on such a decision only with a valid
// signature. Whoever can publish to the queue without the key cannot make one, nor change
// where a signed one came from: the source and the chat action are signed with the note.

// SignNote returns the signature of ev's note: an HMAC-SHA256 under key over the event id,
// source, incident, the note's id, content and author, the time, and the chat action if any.
func SignNote(key []byte, ev *incident.Event) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("alaya-page-decision")) // the page's name from before Slack, kept so queued decisions verify
	for _, f := range noteFields(ev) {
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// VerifyNote reports whether ev carries a decision the receiver signed under key.
func VerifyNote(key []byte, ev *incident.Event) bool {
	if len(key) == 0 || ev == nil || ev.Note == nil || ev.Note.Signature == "" {
		return false
	}
	return hmac.Equal([]byte(ev.Note.Signature), []byte(SignNote(key, ev)))
}

func noteFields(ev *incident.Event) []string {
	n := ev.Note
	if n == nil {
		n = &incident.Note{}
	}
	fields := []string{ev.ID, ev.Source, ev.Incident.ID, n.ID, n.Content, n.Author.ID, n.Author.Type,
		strconv.FormatInt(ev.OccurredAt.Unix(), 10)}
	if c := ev.Chat; c != nil {
		// Appended only when present, so a page decision signs as before chat actions existed;
		// the marker keeps a chat action from reading as more note fields.
		fields = append(fields, "chat", c.Team, c.User, c.Channel, c.MessageTS, c.ThreadTS, c.ResponseURL)
	}
	return fields
}
