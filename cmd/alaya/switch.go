package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/app"
	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/safety"
)

func init() {
	register("switch", "turn the fleet-wide kill switch or dry-run on or off: switch kill|dry-run on|off", runSwitch)
}

// runSwitch is the 3 a.m. brake: every worker reads the switches before every step.
func runSwitch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	guard, rest, closeQ, code := guardCommand(ctx, "switch", args, stderr)
	if guard == nil {
		return code
	}
	defer closeQ()
	switch {
	case len(rest) == 2 && (rest[1] == "on" || rest[1] == "off"):
		if err := guard.SetSwitch(ctx, rest[0], rest[1] == "on"); err != nil {
			fmt.Fprintf(stderr, "alaya switch: %v\n", err)
			return 2
		}
	case len(rest) != 0:
		fmt.Fprintln(stderr, "usage: alaya switch [-config FILE] [kill|dry-run on|off]")
		return 2
	}
	s, err := guard.Switches(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "alaya switch: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "kill: %s\ndry-run: %s\n", onOff(s.Kill), onOff(s.DryRun))
	return 0
}

// guardCommand is the front of the operator commands that read or set the fleet's safety
// state: it parses -config, binds to the fleet and returns the guard, the other arguments and
// the func that closes the connection; with a nil guard, the exit status to return.
func guardCommand(ctx context.Context, name string, args []string, stderr io.Writer) (*safety.Guard, []string, func(), int) {
	fs := flag.NewFlagSet("alaya "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", os.Getenv("ALAYA_CONFIG"), "Alaya config file (for nats.urls)")
	if err := fs.Parse(args); err != nil {
		return nil, nil, nil, 2
	}
	guard, closeQ, err := fleetGuard(ctx, *cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "alaya %s: %v\n", name, err)
		return nil, nil, nil, 1
	}
	return guard, fs.Args(), closeQ, 0
}

func fleetGuard(ctx context.Context, cfgPath string) (*safety.Guard, func(), error) {
	q, err := fleetQueue(ctx, cfgPath)
	if err != nil {
		return nil, nil, err
	}
	// The switches, and the run ledger where older versions kept them (read to migrate). The
	// CLI takes no leases, so the operator's NATS user needs no access to them (deploy/nats).
	var kvs [2]jetstream.KeyValue
	for i, b := range []string{queue.BucketRuns, queue.BucketSwitches} {
		if kvs[i], err = q.KV(ctx, b); err != nil {
			q.Close()
			return nil, nil, err
		}
	}
	return safety.New(nil, kvs[0], kvs[1]), func() { q.Close() }, nil
}

// fleetQueue connects to the NATS the config names, with the same identity and TLS settings
// as the daemons, for commands that read or change what the workers share (the run ledger,
// the switches). It binds to what exists and never declares anything.
func fleetQueue(ctx context.Context, cfgPath string) (*queue.Queue, error) {
	cfg, err := config.Load(cfgPath, os.Getenv)
	if err != nil {
		return nil, err
	}
	return app.ConnectOperator(ctx, cfg)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
