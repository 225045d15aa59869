package evidence

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// minEncodedLen is the shortest encoded form of a secret worth looking for: a base64 piece of
// a few characters would match unrelated base64 text by chance.
const minEncodedLen = 6

// literal is one form of a configured secret to look for.
type literal struct {
	text []byte
	// fold: text is lower case and is searched for in the lower-cased input, so one search
	// finds the plain, upper-case, lower-case and mixed-case forms of an ASCII secret.
	fold bool
}

// literalSet is every form of the configured secrets worth looking for, longest first so that
// the longest match wins. A secret reaches text in more forms than its own: a tool prints it
// upper-cased, an Authorization header or a Kubernetes secret carries it in base64, a dump
// shows it in hex, a URL percent-encodes it, a JSON encoder escapes <, > and &.
func literalSet(secrets []string) []literal {
	var out []literal
	for _, s := range secrets {
		if len(s) >= MinSecretLen {
			out = append(out, secretForms(s)...)
		}
	}
	slices.SortFunc(out, func(a, b literal) int {
		return cmp.Or(len(b.text)-len(a.text), bytes.Compare(a.text, b.text), compareBool(a.fold, b.fold))
	})
	return slices.CompactFunc(out, func(a, b literal) bool { return a.fold == b.fold && bytes.Equal(a.text, b.text) })
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// secretForms lists s as plain text (any ASCII case), hex, URL- and JSON-escaped, and base64.
func secretForms(s string) []literal {
	folded := func(t string) literal { return literal{text: asciiLower([]byte(t)), fold: true} }
	out := []literal{folded(s), folded(hex.EncodeToString([]byte(s))),
		folded(url.QueryEscape(s)), folded(url.PathEscape(s)), folded(jsonEscape(s))}
	if upper, lower := strings.ToUpper(s), strings.ToLower(s); upper != s || lower != s {
		// Non-ASCII letters change case outside what folding covers.
		out = append(out, literal{text: []byte(upper)}, literal{text: []byte(lower)})
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for _, piece := range base64Pieces(enc, []byte(s)) {
			out = append(out, literal{text: piece})
		}
	}
	return out
}

// base64Pieces are the parts of enc's encoding of b that depend on b's bytes alone, for b
// starting at each of the three offsets a byte can have in a longer base64 text: a secret
// inside a base64 blob ("user:secret" in a Basic header) is found wherever it sits.
func base64Pieces(enc *base64.Encoding, b []byte) [][]byte {
	var out [][]byte
	for k := range 3 {
		padded := append(make([]byte, k), b...)
		e := enc.EncodeToString(padded)
		// Character i holds bits [6i, 6i+6); the secret's bits are [8k, 8(k+len(b))).
		from, to := (8*k+5)/6, 8*(k+len(b))/6
		if to-from >= minEncodedLen {
			out = append(out, []byte(e[from:to]))
		}
	}
	return out
}

// jsonEscape is s as encoding/json writes it inside a string, without the quotes.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
