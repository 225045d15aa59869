package approval

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"

	"github.com/alaya-sre/alaya/incident"
)

// A decision taken on the approval page reaches the worker through the queue, not through
// PagerDuty, so PagerDuty cannot vouch for it. The receiver signs it with the link key, which
// the workers hold too; a worker acts on a page decision only with a valid signature. Whoever
// can publish to the queue without the key cannot make one.

// SignPageNote returns the signature of ev's note: an HMAC-SHA256 under key over the event
// id, the incident, the note's id, content and author.
func SignPageNote(key []byte, ev *incident.Event) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("alaya-page-decision"))
	for _, f := range pageFields(ev) {
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// VerifyPageNote reports whether ev carries a page decision signed under key.
func VerifyPageNote(key []byte, ev *incident.Event) bool {
	if len(key) == 0 || ev == nil || ev.Note == nil || ev.Note.Signature == "" {
		return false
	}
	return hmac.Equal([]byte(ev.Note.Signature), []byte(SignPageNote(key, ev)))
}

func pageFields(ev *incident.Event) []string {
	n := ev.Note
	if n == nil {
		n = &incident.Note{}
	}
	return []string{ev.ID, ev.Source, ev.Incident.ID, n.ID, n.Content, n.Author.ID, n.Author.Type,
		strconv.FormatInt(ev.OccurredAt.Unix(), 10)}
}
