package approval

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// CodeAlphabet leaves out 0, O, 1, I and L so that a code read aloud, typed on a phone or
// copied from a blurry screenshot cannot be mistaken for another.
const CodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// CodeLength gives 31^6 ≈ 8.9e8 codes: unguessable for the life of a gate (and links to the
// page carry a signed token on top), yet short enough to type.
const CodeLength = 6

// NewCode returns a fresh random code from crypto/rand.
func NewCode() (string, error) {
	// Rejection sampling keeps every symbol equally likely: bytes at or above the largest
	// multiple of the alphabet size are drawn again.
	const limit = 256 - 256%len(CodeAlphabet)
	var b strings.Builder
	buf := make([]byte, 16)
	for b.Len() < CodeLength {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("approval code: %w", err)
		}
		for _, c := range buf {
			if int(c) < limit && b.Len() < CodeLength {
				b.WriteByte(CodeAlphabet[int(c)%len(CodeAlphabet)])
			}
		}
	}
	return b.String(), nil
}

// NormalizeCode upper-cases s and reports whether it is a well-formed code.
func NormalizeCode(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != CodeLength {
		return "", false
	}
	for i := range len(s) {
		if strings.IndexByte(CodeAlphabet, s[i]) < 0 {
			return "", false
		}
	}
	return s, true
}
