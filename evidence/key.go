package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// maxPartLen bounds one key segment. S3 keys hold at most 1024 bytes and file names 255; a
// segment this long leaves room for the layout's six segments and a prefix.
const maxPartLen = 120

// Key joins parts into an object key, making each part one safe segment: characters other
// than ASCII letters, digits, '.', '_' and '-' become '_', a leading '.' becomes '_' (so no
// segment is "." or ".." and none is hidden), an empty part becomes "_", and an over-long part
// is cut and suffixed with a hash of the original so distinct parts stay distinct.
//
// Parts come from incidents (ids, host names, step names) and may hold anything an attacker
// can put in an alert; after Key, none can climb out of the store's prefix, start with '/',
// or carry a NUL. The mapping is not injective ("a/b" and "a_b" give the same segment): keep
// ids that are already safe, as PagerDuty's are.
func Key(parts ...string) string {
	segs := make([]string, len(parts))
	for i, p := range parts {
		segs[i] = sanitizePart(p)
	}
	return strings.Join(segs, "/")
}

func sanitizePart(p string) string {
	if p == "" {
		return "_"
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '.' && b.Len() == 0:
			b.WriteByte('_')
		case safeByte(c):
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > maxPartLen {
		sum := sha256.Sum256([]byte(p))
		s = s[:maxPartLen-9] + "-" + hex.EncodeToString(sum[:4])
	}
	return s
}

func safeByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// checkKey refuses keys a store must never touch: empty, absolute, with empty or dot-led
// segments ("..", and hidden files such as a store's temporary files or the link key kept
// beside local evidence), backslashes, or control characters. Keys made by Key always pass;
// checking again in the stores keeps a hand-built key from escaping too.
func checkKey(key string) error {
	if key == "" || len(key) > 1024 {
		return fmt.Errorf("%q: %w", key, ErrInvalidKey)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg[0] == '.' {
			return fmt.Errorf("%q: %w", key, ErrInvalidKey)
		}
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return fmt.Errorf("%q: %w", key, ErrInvalidKey)
		}
	}
	return nil
}
