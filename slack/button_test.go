package slack_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/slack"
)

func TestButtonValueRoundTrip(t *testing.T) {
	for _, tc := range []struct{ verb, id, code string }{
		{"approve", "Q1ABCDEF", "K7Q2XA"},
		{"reject", "am-3f2a9c1e", "K7Q2XA"},
		{"approve", "src:mackerel:2bX9", "ABC234"},
	} {
		v := slack.ButtonValue(tc.verb, tc.id, tc.code)
		verb, id, code, err := slack.ParseButtonValue(v)
		if err != nil || verb != tc.verb || id != tc.id || code != tc.code {
			t.Errorf("ParseButtonValue(%q) = %q %q %q %v", v, verb, id, code, err)
		}
	}
}

func TestParseButtonValueRefuses(t *testing.T) {
	for _, v := range []string{
		"", "approve", "approve|Q1", "approve|Q1|K7Q2XA|extra", "delete|Q1|K7Q2XA", "APPROVE|Q1|K7Q2XA",
		"approve||K7Q2XA", "approve|Q1|", "approve|Q 1|K7Q2XA", "approve|Q1|K7 Q2", "approve|Q1|K7Q2XA\n",
		"approve|Q1\x00|K7Q2XA", "approve|" + strings.Repeat("Q", 257) + "|K7Q2XA", "approve|Q1|" + strings.Repeat("A", 33),
	} {
		if _, _, _, err := slack.ParseButtonValue(v); !errors.Is(err, slack.ErrBadButtonValue) {
			t.Errorf("ParseButtonValue(%q) = %v, want ErrBadButtonValue", v, err)
		}
	}
}
