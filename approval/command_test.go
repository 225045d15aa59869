package approval_test

import (
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/approval"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name string
		note string
		want approval.Command
		ok   bool
	}{
		{"approve", "/alaya approve K7Q2XA", approval.Command{Verb: "approve", Code: "K7Q2XA"}, true},
		{"reject with reason", "/alaya reject K7Q2XA disk is fine, it was a blip", approval.Command{Verb: "reject", Code: "K7Q2XA", Reason: "disk is fine, it was a blip"}, true},
		{"mixed case verb and prefix", "/Alaya APPROVE K7Q2XA", approval.Command{Verb: "approve", Code: "K7Q2XA"}, true},
		{"lowercase code", "/alaya approve k7q2xa", approval.Command{Verb: "approve", Code: "K7Q2XA"}, true},
		{"surrounding whitespace", "  \n\t/alaya approve K7Q2XA  \r\n\n", approval.Command{Verb: "approve", Code: "K7Q2XA"}, true},
		{"own line among others", "checked the graphs\n/alaya approve K7Q2XA\nthanks", approval.Command{Verb: "approve", Code: "K7Q2XA"}, true},
		{"backticks", "`/alaya approve K7Q2XA`", approval.Command{Verb: "approve", Code: "K7Q2XA"}, true},
		{"without code", "/alaya approve", approval.Command{}, false},
		{"unknown verb", "/alaya restart K7Q2XA", approval.Command{}, false},
		{"code with excluded letter", "/alaya approve K7Q2XO", approval.Command{}, false},
		{"code too short", "/alaya approve K7Q2X", approval.Command{}, false},
		{"not on its own line", "please /alaya approve K7Q2XA", approval.Command{}, false},
		{"prefix glued to verb", "/alayaapprove K7Q2XA", approval.Command{}, false},
		{"two commands", "/alaya approve K7Q2XA\n/alaya reject K7Q2XA", approval.Command{}, false},
		{"one good one bad", "/alaya approve K7Q2XA\n/alaya approve", approval.Command{}, false},
		{"ordinary note", "Restarted by hand, looks good now.", approval.Command{}, false},
		{"empty", "", approval.Command{}, false},
		{"alaya's own note", "Plan for app-3 (hash 3f2a…)\n" + approval.Instructions("K7Q2XA"), approval.Command{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := approval.ParseCommand(tt.note)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("ParseCommand(%q) = %+v, %v; want %+v, %v", tt.note, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNewCode(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := approval.NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := approval.NormalizeCode(c); !ok || n != c {
			t.Fatalf("NewCode gave %q, not a normalized code", c)
		}
		if strings.ContainsAny(c, "0O1IL") {
			t.Fatalf("code %q has an ambiguous symbol", c)
		}
		seen[c] = true
	}
	if len(seen) < 199 {
		t.Fatalf("only %d distinct codes in 200", len(seen))
	}
}
