package pagerduty

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzDecodeWebhook feeds arbitrary bodies to the decoder the receiver runs on every signed
// delivery. Whatever the bytes, it must not panic, must refuse with ErrMalformed (the
// receiver's 400), and an accepted event must carry what the rest of Alaya relies on: an id
// (the stream's message id), a type, the source, and an incident for every note. Seeds:
// testdata/fuzz/FuzzDecodeWebhook (the webhook and malformed samples).
func FuzzDecodeWebhook(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := DecodeWebhook(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || ev != nil {
				t.Fatalf("refusal %v (event %+v) does not wrap ErrMalformed", err, ev)
			}
			return
		}
		if ev.ID == "" || ev.Type == "" || ev.Source != Source {
			t.Fatalf("accepted event without id, type or source: %+v", ev)
		}
		if ev.Note != nil && ev.Incident.ID == "" {
			t.Fatalf("note without its incident: %+v", ev)
		}
	})
}

// FuzzDecodeWebhookDifferential checks the one-pass decoder against the per-type one on
// arbitrary bodies: the optimisation may never change what Alaya sees, nor accept what the
// careful path refuses. Seeds: testdata/fuzz/FuzzDecodeWebhookDifferential.
func FuzzDecodeWebhookDifferential(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ferr := DecodeWebhook(body)
		slow, serr := decodeWebhookByType(body)
		if (ferr == nil) != (serr == nil) {
			t.Fatalf("one pass: %v; per type: %v", ferr, serr)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("one pass gave %+v; per type gave %+v", fast, slow)
		}
	})
}
