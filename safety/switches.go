package safety

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Switches stop or soften every run in the fleet. Workers read them before every step, so a
// change takes effect between steps, without a restart.
type Switches struct {
	Kill   bool // stop every run before its next step
	DryRun bool // report steps that change a system as not executed
}

// Switch names, as `alaya switch` takes them.
const (
	SwitchKill   = "kill"
	SwitchDryRun = "dry-run"
)

func switchKey(name string) string { return "switch." + token(name) }

// Switches reads the fleet-wide switches.
func (g *Guard) Switches(ctx context.Context) (Switches, error) {
	var s Switches
	for name, dst := range map[string]*bool{SwitchKill: &s.Kill, SwitchDryRun: &s.DryRun} {
		e, err := g.state.Get(ctx, switchKey(name))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		} else if err != nil {
			return s, fmt.Errorf("safety: switch %s: %w", name, err)
		}
		*dst = string(e.Value()) == "on"
	}
	return s, nil
}

// SetSwitch turns a switch on or off for every worker.
func (g *Guard) SetSwitch(ctx context.Context, name string, on bool) error {
	if name != SwitchKill && name != SwitchDryRun {
		return fmt.Errorf("safety: unknown switch %q (expected %s or %s)", name, SwitchKill, SwitchDryRun)
	}
	v := "off"
	if on {
		v = "on"
	}
	if _, err := g.state.Put(ctx, switchKey(name), []byte(v)); err != nil {
		return fmt.Errorf("safety: set %s: %w", name, err)
	}
	return nil
}
