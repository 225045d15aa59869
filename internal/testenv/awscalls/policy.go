package awscalls

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Policy is an IAM policy document as deploy/aws writes it. Only what Alaya's policies use is
// understood; anything else (NotAction, Condition, ...) fails the decode rather than being
// silently ignored by the check.
type Policy struct {
	Version   string
	Statement []Statement
}

// Statement is one Allow or Deny.
type Statement struct {
	Sid      string
	Effect   string
	Action   strings1
	Resource strings1
}

// strings1 is IAM's "a string or a list of strings".
type strings1 []string

func (s *strings1) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(s))
}

// Placeholders the deploy/aws policies use, and what each may stand for: the operator fills them
// in (CloudFormation Fn::Sub, Terraform templatefile, sed), the check accepts any value of the
// right shape, so a policy cannot pass by matching only the test's bucket.
var placeholders = map[string]string{
	"${EvidenceBucket}": `[a-z0-9][a-z0-9.-]*`,
	"${EvidencePrefix}": `(?:[^/*]+/)*`,
	"${TargetGroupArn}": `arn:aws:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/[A-Za-z0-9-]+/[0-9a-f]+`,
}

// ParsePolicy decodes a policy strictly.
func ParsePolicy(data []byte) (*Policy, error) {
	var p Policy
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if p.Version != "2012-10-17" {
		return nil, fmt.Errorf("policy: version %q, want 2012-10-17", p.Version)
	}
	return &p, nil
}

// Check returns one line per problem with calls of the services whose IAM prefix is in
// services ("s3", "elasticloadbalancing"): a call no Allow statement covers (or a Deny does),
// and, when complete is true (every test of those services ran), an allowed action no call
// needed.
func (p *Policy) Check(calls []Call, services []string, complete bool) []string {
	var problems []string
	ours := func(action string) bool {
		return slices.Contains(services, strings.SplitN(action, ":", 2)[0])
	}
	for _, c := range calls {
		if !ours(c.Action) {
			continue
		}
		if !p.allows(c) {
			problems = append(problems, fmt.Sprintf("Alaya calls %s (%s on %s) but the policy does not allow it", c.Operation, c.Action, c.Resource))
		}
	}
	if !complete {
		return dedupe(problems)
	}
	for _, s := range p.Statement {
		for _, a := range s.Action {
			if s.Effect == "Allow" && ours(a) && !slices.ContainsFunc(calls, func(c Call) bool { return match(a, c.Action, true) }) {
				problems = append(problems, fmt.Sprintf("statement %q allows %s, which Alaya never calls", s.Sid, a))
			}
		}
	}
	return dedupe(problems)
}

func (p *Policy) allows(c Call) bool {
	allowed := false
	for _, s := range p.Statement {
		if !slices.ContainsFunc(s.Action, func(a string) bool { return match(a, c.Action, true) }) ||
			!slices.ContainsFunc(s.Resource, func(r string) bool { return match(r, c.Resource, false) }) {
			continue
		}
		if s.Effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

// match applies an IAM pattern (* and ?, plus the placeholders) to s. Actions compare without
// regard to case, as IAM does.
func match(pattern, s string, action bool) bool {
	var b strings.Builder
	b.WriteString("^")
	if action {
		b.WriteString("(?i)")
	}
	for len(pattern) > 0 {
		if ph, ok := placeholderAt(pattern); ok {
			b.WriteString(placeholders[ph])
			pattern = pattern[len(ph):]
			continue
		}
		switch pattern[0] {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(pattern[:1]))
		}
		pattern = pattern[1:]
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()).MatchString(s)
}

func placeholderAt(s string) (string, bool) {
	for ph := range placeholders {
		if strings.HasPrefix(s, ph) {
			return ph, true
		}
	}
	return "", false
}

func dedupe(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
