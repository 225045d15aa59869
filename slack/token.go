package slack

import "log/slog"

// Token is the bot token (xoxb-…). It prints as [REDACTED] in logs, errors, %v, %#v and JSON,
// so a Config or Client passed to a logger cannot leak it; Reveal is the one way to the value.
type Token string

const redacted = "[REDACTED]"

// Reveal returns the token's value, for the Authorization header only.
func (t Token) Reveal() string { return string(t) }

func (t Token) String() string { return redacted }

// GoString keeps %#v from printing the value.
func (t Token) GoString() string { return redacted }

// LogValue makes slog print the placeholder, whatever the handler.
func (t Token) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON writes the placeholder.
func (t Token) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText writes the placeholder.
func (t Token) MarshalText() ([]byte, error) { return []byte(redacted), nil }
