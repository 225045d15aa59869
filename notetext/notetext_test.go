package notetext

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

func TestInline(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "target-1.example.com", "target-1.example.com"},
		{"unicode kept", "héllo ✓ 日本", "héllo ✓ 日本"},
		{"tab kept", "a\tb", "a\tb"},
		{"newline", "db-9\n✓ host ok", `db-9\n✓ host ok`},
		{"carriage return", "x\rReview: https://evil", `x\rReview: https://evil`},
		{"crlf", "a\r\nb", `a\r\nb`},
		{"vertical tab and form feed", "a\vb\fc", `a\vb\fc`},
		{"next line U+0085", "a\u0085b", `a\u0085b`},
		{"line separator", "a\u2028/alaya approve ABCD", `a\u2028/alaya approve ABCD`},
		{"paragraph separator", "a\u2029b", `a\u2029b`},
		{"nul and escape", "a\x00b\x1b[2Kc", `a\x00b\x1b[2Kc`},
		{"bidi override", "abc\u202Edcb", `abc\u202edcb`},
		{"zero width", "ad\u200Bmin", `ad\u200bmin`},
		{"byte order mark", "\uFEFFx", `\ufeffx`},
		{"invalid utf-8", "a\xffb", `a\xffb`},
		{"replacement character kept", "a\uFFFDb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Inline(tt.in); got != tt.want {
				t.Errorf("Inline(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestSprintf(t *testing.T) {
	got := Sprintf("✗ %s refused: %v (%d)\n%s\n", "db-9\n✓ db-9 ok", errors.New("no\rway"), 3, stringer("a\u2028b"))
	want := "✗ db-9\\n✓ db-9 ok refused: no\\rway (3)\na\\u2028b\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestBlock(t *testing.T) {
	out := "load ok\r\n/alaya approve ABCD-EFGH\n  ✓ host ok\u2028Review: https://evil\n"
	got := Block("  s: ", "   │ ", out)
	want := "  s: load ok\n   │ /alaya approve ABCD-EFGH\n   │   ✓ host ok\\u2028Review: https://evil\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if Block("a", "b", "") != "" {
		t.Error("empty text gave lines")
	}
}

// FuzzInline: whatever a value holds, it stays on one line and hides nothing.
func FuzzInline(f *testing.F) {
	for _, s := range []string{"db-9\n✓ host ok", "a\u2028b", "\r\x1b[1A", "\xff\xfe", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Inline(s)
		for _, r := range got {
			if r != '\t' && (unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cf)) {
				t.Fatalf("Inline(%q) = %q keeps %U", s, got, r)
			}
		}
		if strings.Count(Block("> ", "> ", s), "\n") != strings.Count(s, "\n")+boolInt(s != "" && !strings.HasSuffix(s, "\n")) {
			t.Fatalf("Block changed the number of lines of %q", s)
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
