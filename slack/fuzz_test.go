package slack_test

import (
	"errors"
	"testing"

	"github.com/alaya-sre/alaya/slack"
)

// FuzzParseInteraction: whatever arrives, the parser returns an interaction that passed every
// check or one of its errors, and never panics. Seeds are in testdata/fuzz.
func FuzzParseInteraction(f *testing.F) {
	f.Add(pressPayload(nil))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := slack.ParseInteraction(body)
		if err != nil {
			if in != nil {
				t.Fatal("an interaction with an error")
			}
			if !errors.Is(err, slack.ErrMalformedPayload) && !errors.Is(err, slack.ErrNotBlockActions) &&
				!errors.Is(err, slack.ErrInteractionTooLong) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if in.User == "" || in.Team == "" || in.Channel == "" || in.MessageTS == "" || in.ActionID == "" || in.ResponseURL == "" {
			t.Fatalf("accepted an incomplete interaction %+v", in)
		}
		if len(in.Value) > slack.MaxButtonValueLen {
			t.Fatal("accepted an over-long value")
		}
		if _, _, _, err := slack.ParseButtonValue(in.Value); err != nil && !errors.Is(err, slack.ErrBadButtonValue) {
			t.Fatalf("ParseButtonValue: unclassified %v", err)
		}
	})
}
