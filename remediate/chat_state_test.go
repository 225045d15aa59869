package remediate

import "testing"

// The top message's last state tells a responder what to do: nothing, look at a failure, see
// why a run stopped part way, or check a host whose change nobody saw end.
func TestFinalState(t *testing.T) {
	ok := &HostResult{}
	failed := &HostResult{ExitCode: 1}
	unknown := &HostResult{Unknown: true}
	for name, tc := range map[string]struct {
		run  *Run
		want string
	}{
		"all ok":        {&Run{Results: map[string]map[string]*HostResult{"h": {"s": ok}}}, stateDone},
		"a host failed": {&Run{Results: map[string]map[string]*HostResult{"h": {"s": failed}}}, stateFailed},
		"not run":       {&Run{Failure: "planning failed"}, stateFailed},
		"stopped":       {&Run{Failure: "kill switch is on", Results: map[string]map[string]*HostResult{"h": {"s": ok}}}, stateStopped},
		"unknown":       {&Run{Failure: "stopped", Results: map[string]map[string]*HostResult{"h": {"s": unknown}}}, stateUnknown},
	} {
		if got := finalState(tc.run); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}
