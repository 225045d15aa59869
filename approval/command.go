package approval

import (
	"strings"

	"github.com/alaya-sre/alaya/incident"
)

// CommandPrefix starts every command line in a note.
const CommandPrefix = "/alaya"

// Verbs a note may carry (the incident package's vocabulary).
const (
	VerbApprove = incident.VerbApprove
	VerbReject  = incident.VerbReject
)

// Command is a decision typed into a note.
type Command struct {
	Verb   string // VerbApprove or VerbReject
	Code   string // normalized (upper case)
	Reason string // free text after the code, may be empty
}

// ParseCommand finds the one command in a note. The command must stand on a line of its own
// ("/alaya approve K7Q2XA", optionally followed by a reason); verb and code are
// case-insensitive, surrounding whitespace and backticks are tolerated.
//
// A note with no command line, a malformed one, or more than one is not a command: guessing
// which of two commands a person meant is how the wrong thing gets restarted. This is also
// what keeps Alaya's own notes (see Instructions) from parsing, since they list both verbs.
func ParseCommand(note string) (Command, bool) {
	var found []string
	for line := range strings.Lines(note) {
		line = strings.Trim(strings.TrimSpace(line), "`")
		fields := strings.Fields(line)
		if len(fields) > 0 && strings.EqualFold(fields[0], CommandPrefix) {
			found = append(found, line)
		}
	}
	if len(found) != 1 {
		return Command{}, false
	}
	return parseLine(found[0])
}

// parseLine parses "/alaya <verb> <code> [reason...]".
func parseLine(line string) (Command, bool) {
	fields := strings.Fields(line)
	if len(fields) < 3 {
		return Command{}, false
	}
	verb := strings.ToLower(fields[1])
	if verb != VerbApprove && verb != VerbReject {
		return Command{}, false
	}
	code, ok := NormalizeCode(fields[2])
	if !ok {
		return Command{}, false
	}
	return Command{Verb: verb, Code: code, Reason: strings.Join(fields[3:], " ")}, true
}

// Instructions is the text Alaya puts in its plan note so that a responder can copy a command.
// It lists both verbs, each on its own line, so the note itself never parses as a command
// even if Alaya's own note comes back through the webhook.
func Instructions(code string) string {
	return "To approve, add a note with the line:\n" +
		CommandPrefix + " " + VerbApprove + " " + code + "\n" +
		"To reject (reason optional):\n" +
		CommandPrefix + " " + VerbReject + " " + code + " <reason>\n"
}
