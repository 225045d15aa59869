package sshbed_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/testenv/sshbed"
)

// TestTopology proves the facts the executor tests rely on: the bastion is reachable from the
// host, a target only from the bastion, and each bed has its own names and addresses.
func TestTopology(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t, sshbed.Targets(2))
	ctx := t.Context()

	c, err := net.DialTimeout("tcp", bed.Bastion.SSHAddr(), 2*time.Second)
	if err != nil {
		t.Fatalf("bastion from host: %v", err)
	}
	c.Close()

	for _, tgt := range bed.Targets {
		dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		c, err := (&net.Dialer{}).DialContext(dctx, "tcp", tgt.SSHAddr())
		cancel()
		if err == nil {
			c.Close()
			t.Fatalf("%s reachable from the host; it must only be reachable through the bastion", tgt.Name)
		}
		c, err = bed.DialFrom(ctx, bed.Bastion, tgt.SSHAddr())
		if err != nil {
			t.Fatalf("%s from the bastion: %v", tgt.Name, err)
		}
		c.Close()
	}

	out, err := bed.Command(ctx, bed.Bastion, "sysctl", "-n", "net.ipv4.ip_forward").Output()
	if err != nil || string(out) != "0\n" {
		t.Fatalf("bastion ip_forward = %q, %v; want 0", out, err)
	}
	if _, err := os.Stat(bed.Target().KnownHosts); err != nil {
		t.Fatal(err)
	}
	inv := bed.Inventory(t)
	if h, err := inv.Lookup("target-2"); err != nil || h.Bastion != "bastion-1" {
		t.Fatalf("inventory: %v, %+v", err, h)
	}
}

// TestParallelBeds shows that two beds in one process (as in two test packages) get
// different slots and so different namespaces and subnets.
func TestParallelBeds(t *testing.T) {
	t.Parallel()
	a := sshbed.Start(t)
	b := sshbed.Start(t)
	if a.Slot == b.Slot || a.Bastion.Namespace == b.Bastion.Namespace || a.Target().Addr == b.Target().Addr {
		t.Fatalf("beds share a slot: %d %d", a.Slot, b.Slot)
	}
	var ne net.Error
	_, err := net.DialTimeout("tcp", b.Target().SSHAddr(), 300*time.Millisecond)
	if err == nil || !(errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("target dial from host: %v, want a timeout", err)
	}
}
