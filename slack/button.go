package slack

import (
	"errors"
	"strings"

	"github.com/alaya-sre/alaya/incident"
)

// A gate's buttons carry what they decide in their value, "approve|<incident id>|<code>" or
// "reject|<incident id>|<code>": the press names the incident (so the receiver can queue it
// on that incident's subject) and the gate's code (so the worker decides exactly that gate,
// as a note "/alaya approve CODE" would). The value is not a credential: who may decide is
// checked by the worker, from the person behind the press.

const valueSep = "|"

// Action ids of a gate's buttons. The receiver queues presses of these and answers any other
// with 200, queueing nothing.
const (
	ActionApprove = "alaya_approve"
	ActionReject  = "alaya_reject"
)

// VerbOf returns the verb a gate button's action id stands for, and whether it is one.
func VerbOf(actionID string) (string, bool) {
	switch actionID {
	case ActionApprove:
		return incident.VerbApprove, true
	case ActionReject:
		return incident.VerbReject, true
	}
	return "", false
}

// ErrBadButtonValue: the value is not one of ours.
var ErrBadButtonValue = errors.New("slack: button value is not verb|incident|code")

// ButtonValue is the value of a gate button for verb (incident.VerbApprove or VerbReject).
func ButtonValue(verb, incidentID, code string) string {
	return verb + valueSep + incidentID + valueSep + code
}

// ParseButtonValue splits a value made by ButtonValue, refusing anything else.
func ParseButtonValue(v string) (verb, incidentID, code string, err error) {
	parts := strings.Split(v, valueSep)
	if len(v) > MaxButtonValueLen || len(parts) != 3 {
		return "", "", "", ErrBadButtonValue
	}
	verb, incidentID, code = parts[0], parts[1], parts[2]
	if verb != incident.VerbApprove && verb != incident.VerbReject {
		return "", "", "", ErrBadButtonValue
	}
	if !printableID(incidentID, 256) || !alnum(code, 32) {
		return "", "", "", ErrBadButtonValue
	}
	return verb, incidentID, code, nil
}

// printableID reports whether s is 1..max bytes of printable ASCII without spaces.
func printableID(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := range len(s) {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// alnum reports whether s is 1..max ASCII letters and digits.
func alnum(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
