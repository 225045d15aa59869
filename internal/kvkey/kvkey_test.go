package kvkey

import (
	"regexp"
	"testing"
)

func TestToken(t *testing.T) {
	valid := regexp.MustCompile(`^[-/_=.a-zA-Z0-9]+$`) // JetStream's key characters
	for _, s := range []string{"PGR0VU2", "app-1", "app.3", "{}:{alertname=\"x\"}", "a>b", "*", "", "ünï"} {
		tok := Token(s)
		if s != "" && !valid.MatchString(tok) {
			t.Errorf("Token(%q) = %q is not a valid key token", s, tok)
		}
		if len(tok) > 0 && tok[0] != '=' && tok != s {
			t.Errorf("Token(%q) = %q changed a plain name", s, tok)
		}
		for _, r := range tok {
			if r == '.' || r == '*' || r == '>' {
				t.Errorf("Token(%q) = %q holds a separator or wildcard", s, tok)
			}
		}
	}
	if Token("app.3") == Token("app_3") {
		t.Error("two names share a token")
	}
}
