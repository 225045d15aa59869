package runbooks

import "github.com/alaya-sre/alaya/internal/yamlfile"

// GateAt is one gate of a runbook with where it is written, for checks that need the outside
// world (the worker and `alaya lint` resolve the approvers it names against PagerDuty).
type GateAt struct {
	Step string
	Pos  yamlfile.Pos
	Gate *Gate
}

// Gates lists the runbook's gates in step order.
func (r *Runbook) Gates() []GateAt {
	var out []GateAt
	for _, s := range r.steps {
		if s.gate != nil {
			out = append(out, GateAt{Step: s.name, Pos: s.pos, Gate: s.gate})
		}
	}
	return out
}
