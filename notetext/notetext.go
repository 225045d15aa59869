// Package notetext makes text that came from outside (alert titles, target names from alerts,
// service names, host output, error replies) safe to print inside the text Alaya writes for
// people: the notes on an incident and the per-host reports.
//
// Notes are read by people and, when they come back through the webhook, by Alaya itself. A
// value that could start a line of its own could pose as one of Alaya's lines ("✓ host ok",
// "Review: https://…") or as a command to Alaya ("/alaya approve CODE"). So every outside
// value is escaped to stay on the line it is printed on (Inline, Sprintf), and multi-line
// output is printed with a prefix of Alaya's own on every line (Block).
package notetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Inline returns s escaped so that it stays on the line it is printed on and shows what it
// holds: line breaks (\n, \r, \v, \f, U+0085, U+2028, U+2029), every other control character
// (ANSI escape sequences among them), invisible format characters (bidirectional overrides,
// zero-width spaces) and invalid UTF-8 are written as Go escapes (\n, \x1b, \u202e). Tabs are
// kept: they cannot end a line.
func Inline(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case escaped(r):
			b.WriteString(escape(r))
		default:
			b.WriteString(s[i : i+size])
		}
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i, r := range s {
		if escaped(r) || r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return true
		}
	}
	return false
}

// escaped reports whether r may not be printed as it is: it could break the line, or hide
// or reorder what is around it.
func escaped(r rune) bool {
	if r == '\t' {
		return false
	}
	return unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp, unicode.Cf)
}

func escape(r rune) string {
	switch r {
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\v':
		return `\v`
	case '\f':
		return `\f`
	}
	if r < 0x80 {
		return fmt.Sprintf(`\x%02x`, r)
	}
	return fmt.Sprintf(`\u%04x`, r)
}

// Sprintf is fmt.Sprintf with every string, error and fmt.Stringer argument passed through
// Inline: the format is Alaya's (it may hold line breaks), the arguments may come from
// outside. Numbers and other values print as fmt prints them.
func Sprintf(format string, args ...any) string {
	safe := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			safe[i] = Inline(v)
		case error:
			safe[i] = Inline(v.Error())
		case fmt.Stringer:
			safe[i] = Inline(v.String())
		default:
			safe[i] = a
		}
	}
	return fmt.Sprintf(format, safe...)
}

// Block prints text, line by line, each line inlined and after a prefix: first before the
// first line and rest before every other, so no line of text can begin a line of the result.
// rest must not be blank (white space alone does not stop a line being read as a command);
// it is where Alaya marks output as output. Trailing carriage returns (CRLF output) are
// dropped; the result ends with a newline unless text is empty.
func Block(first, rest, text string) string {
	var b strings.Builder
	prefix := first
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		b.WriteString(prefix + Inline(line) + "\n")
		prefix = rest
	}
	return b.String()
}
