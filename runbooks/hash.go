package runbooks

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
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
// order, which makes the encoding canonical. Commands, paths and parameters are Go-quoted
// first, because encoding/json turns invalid UTF-8 into U+FFFD and two commands differing
// only in such bytes must not share a hash.
func (p *Plan) Hash() string {
	h := hashed{Runbook: p.Runbook, Version: p.Version, Incident: p.Incident, Targets: quoteAll(p.Targets)}
	for _, s := range p.Steps {
		hs := hashedStep{
			Name: s.Name, Kind: s.Kind, Mutating: s.Mutating, Timeout: int64(s.Timeout),
			ContinueOnError: s.ContinueOnError, When: s.When, Commands: map[string]string{},
			Paths: map[string][]string{}, Action: map[string]map[string]string{}, Gate: s.Gate,
		}
		for host, c := range s.Commands {
			hs.Commands[strconv.Quote(host)] = strconv.Quote(c)
		}
		for host, ps := range s.Paths {
			hs.Paths[strconv.Quote(host)] = quoteAll(ps)
		}
		for host, params := range s.Action {
			q := map[string]string{}
			for k, v := range params {
				q[strconv.Quote(k)] = strconv.Quote(v)
			}
			hs.Action[strconv.Quote(host)] = q
		}
		h.Steps = append(h.Steps, hs)
	}
	b, err := json.Marshal(h)
	if err != nil {
		panic("runbooks: plan is not JSON-encodable: " + err.Error()) // only strings, ints and maps of them
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func quoteAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strconv.Quote(s)
	}
	return out
}
