package runbooks

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// hashed is the part of a plan that executes. Why, refusals and report settings are left out:
// they change what is said, not what is done, so rewording a note does not invalidate an
// approval, while any change to a target, a command or a gate does.
type hashed struct {
	Runbook  string       `json:"runbook"`
	Version  string       `json:"version"`
	Incident string       `json:"incident"`
	Targets  []string     `json:"targets"`
	Steps    []hashedStep `json:"steps"`
}

type hashedStep struct {
	Name            string                       `json:"name"`
	Kind            string                       `json:"kind"`
	Mutating        bool                         `json:"mutating"`
	Timeout         int64                        `json:"timeout_ns"`
	ContinueOnError bool                         `json:"continue_on_error"`
	When            string                       `json:"when"`
	Commands        map[string]string            `json:"commands"`
	Paths           map[string][]string          `json:"paths"`
	Action          map[string]map[string]string `json:"action"`
	Gate            *Gate                        `json:"gate"`
}

// Hash is the hex SHA-256 of a canonical JSON encoding of everything the plan would execute:
// runbook, version, incident, targets and every step with its commands, paths, action
// parameters and gate. encoding/json writes map keys sorted and struct fields in declaration
// order, which makes the encoding canonical.
func (p *Plan) Hash() string {
	h := hashed{Runbook: p.Runbook, Version: p.Version, Incident: p.Incident, Targets: p.Targets}
	for _, s := range p.Steps {
		h.Steps = append(h.Steps, hashedStep{
			Name: s.Name, Kind: s.Kind, Mutating: s.Mutating, Timeout: int64(s.Timeout),
			ContinueOnError: s.ContinueOnError, When: s.When, Commands: s.Commands, Paths: s.Paths,
			Action: s.Action, Gate: s.Gate,
		})
	}
	b, err := json.Marshal(h)
	if err != nil {
		panic("runbooks: plan is not JSON-encodable: " + err.Error()) // only strings, ints and maps of them
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
