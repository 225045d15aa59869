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

// Switches reads the fleet-wide switches from their own bucket, which nothing expires. A
// switch never written there yet is read once from where earlier versions kept it (the state
// bucket, whose TTL would delete it) and copied over, so an upgrade keeps a kill or a dry-run
// that was on.
func (g *Guard) Switches(ctx context.Context) (Switches, error) {
	var s Switches
	for name, dst := range map[string]*bool{SwitchKill: &s.Kill, SwitchDryRun: &s.DryRun} {
		on, err := g.readSwitch(ctx, name)
		if err != nil {
			return s, fmt.Errorf("safety: switch %s: %w", name, err)
		}
		*dst = on
	}
	return s, nil
}

func (g *Guard) readSwitch(ctx context.Context, name string) (bool, error) {
	e, err := g.switches.Get(ctx, switchKey(name))
	if err == nil {
		return string(e.Value()) == "on", nil
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, err
	}
	old, err := g.state.Get(ctx, switchKey(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	// Create, not Put: a switch set since (by an operator, in the new place) wins.
	if _, err := g.switches.Create(ctx, switchKey(name), old.Value()); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return false, fmt.Errorf("migrate: %w", err)
	}
	e, err = g.switches.Get(ctx, switchKey(name))
	if err != nil {
		return false, err
	}
	return string(e.Value()) == "on", nil
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
	if _, err := g.switches.Put(ctx, switchKey(name), []byte(v)); err != nil {
		return fmt.Errorf("safety: set %s: %w", name, err)
	}
	return nil
}
