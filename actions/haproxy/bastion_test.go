package haproxy_test

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/actions/haproxy"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/internal/testenv"
	thaproxy "github.com/alaya-sre/alaya/internal/testenv/haproxy"
	"github.com/alaya-sre/alaya/internal/testenv/sshbed"
)

// The runtime socket sits on the load-balancer host (target-1, reachable only through the
// bastion) and is reached as an OpenSSH direct-streamlocal channel: no socat, no remote shell.
func TestDetachAttachThroughBastion(t *testing.T) {
	bed := sshbed.Start(t)
	inv := bed.Inventory(t)
	ex := executor.NewSSH(inv, nil)
	defer ex.Close()
	lb, err := inv.Lookup(bed.Target().Name)
	if err != nil {
		t.Fatal(err)
	}
	p := thaproxy.Start(t, 3, thaproxy.SocketUser(sshbed.TargetUser))
	dial := haproxy.Remote(ex, lb, p.Socket)
	requireStreamLocal(t, dial)
	b := &haproxy.Balancer{Client: &haproxy.Client{Dial: dial},
		DrainTimeout: 2 * time.Second, HealthyTimeout: 5 * time.Second, Poll: 20 * time.Millisecond}
	ctx := t.Context()
	params := actions.LBParams{Member: actions.Member{Pool: "app", Name: "app-1"}, MinHealthy: 2}

	o, err := actions.LBDetach(ctx, b, "app-1", params)
	if err != nil || !o.OK {
		t.Fatalf("detach through bastion: %v %+v", err, o)
	}
	if hits := p.Hits(ctx, t, 40); hits["app-1"] != 0 {
		t.Fatalf("traffic still reaches app-1: %v", hits)
	}
	refused, err := actions.LBDetach(ctx, b, "app-2", actions.LBParams{Member: actions.Member{Pool: "app", Name: "app-2"}, MinHealthy: 2})
	if err == nil || refused.StillDetached {
		t.Fatalf("guard through bastion did not refuse: %+v", refused)
	}
	if _, err := actions.LBAttach(ctx, b, "app-1", params); err != nil {
		t.Fatalf("attach through bastion: %v", err)
	}
	if hits := p.Hits(ctx, t, 30); hits["app-1"] == 0 {
		t.Fatalf("traffic does not return to app-1: %v", hits)
	}
	t.Logf("%s / %s", o.Summary, refused.Summary)
}

// requireStreamLocal checks that the target's sshd lets the login user open a Unix socket.
// OpenSSH (through 9.x at least) grants direct-streamlocal only when local TCP forwarding is
// allowed too (session.c sets the forwarding permissions from AllowTcpForwarding alone), so a
// load-balancer host needs "AllowTcpForwarding local" besides AllowStreamLocalForwarding.
func requireStreamLocal(t *testing.T, d haproxy.Dialer) {
	t.Helper()
	c, err := d(t.Context())
	var denied *ssh.OpenChannelError
	if errors.As(err, &denied) {
		testenv.Require(t, "sshbed target allowing direct-streamlocal (sshd needs AllowTcpForwarding local): "+err.Error(), false)
	}
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
