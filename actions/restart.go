package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/inventory"
)

// RestartParams are a restart step's parameters for one host. Either Service (systemd) or
// Command must be set; the other commands default to systemd's.
type RestartParams struct {
	Service string
	// Command restarts the service (default `systemctl restart SERVICE`); for hosts without
	// systemd, a runbook sets it per host group. Runbook-rendered, run as given.
	Command string
	// VerifyCommand exits 0 once the service is up (default `systemctl is-active SERVICE`).
	VerifyCommand string
	// HealthURL is fetched with curl on the host itself (services usually listen locally);
	// HealthCommand is an alternative that exits 0 when healthy. Both optional.
	HealthURL     string
	HealthCommand string
	// Settle bounds the time for the service to be active and healthy after the restart
	// (default 30s); Poll is the interval between checks (default 1s).
	Settle time.Duration
	Poll   time.Duration
	// Timeout bounds the restart command itself (default 2m).
	Timeout time.Duration
	// Sudo prefixes the default systemctl commands with `sudo -n`.
	Sudo bool
}

// Restart restarts a service on h and checks that it came back: first its active state, then
// the optional health check, both polled until Settle passes. The outcome reports both, so a
// service that is active but unhealthy is visible as such.
func Restart(ctx context.Context, r Runner, h *inventory.Host, p RestartParams) (Outcome, error) {
	o := begin(KindRestart, h.Name)
	name := p.name()
	if name == "" {
		return o.finish(refusef("restart on %s: parameter service or command is required", h.Name), "restart refused: no service named")
	}
	if _, err := run(ctx, r, h, &o, p.restartCommand(), orDefault(p.Timeout, 2*time.Minute)); err != nil {
		return o.finish(classifyExit(err), "restart of %s on %s failed: %v", name, h.Name, short(err))
	}
	deadline := time.Now().Add(orDefault(p.Settle, 30*time.Second))
	active, err := "not checked", error(nil)
	if vc := p.verifyCommand(); vc != "" {
		active, err = poll(ctx, r, h, &o, vc, deadline, p.Poll)
	}
	o.note("active state: %s", active)
	if err != nil {
		return o.finish(verifyFailed(err), "restarted %s on %s but it is not active: %s", name, h.Name, active)
	}
	health := "not configured"
	if hc := p.healthCommand(); hc != "" {
		health, err = poll(ctx, r, h, &o, hc, deadline, p.Poll)
		o.note("health: %s", health)
		if err != nil {
			return o.finish(verifyFailed(err), "restarted %s on %s: %s, health FAILING: %s", name, h.Name, active, health)
		}
	}
	return o.finish(nil, "restarted %s on %s: %s, health %s", name, h.Name, active, health)
}

// poll runs check until it exits 0 or deadline passes. It returns a short description of the
// last result: its output ("active") and how long it took, or why it failed.
func poll(ctx context.Context, r Runner, h *inventory.Host, o *Outcome, check string, deadline time.Time, every time.Duration) (string, error) {
	start := time.Now()
	tick := time.NewTicker(orDefault(every, time.Second))
	defer tick.Stop()
	o.ran(check)
	for attempt := 1; ; attempt++ {
		res, err := run(ctx, r, h, &Outcome{}, check, time.Until(deadline)+time.Second)
		if err == nil {
			return fmt.Sprintf("%s (after %s)", okWord(res.Stdout), time.Since(start).Round(time.Millisecond)), nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Sprintf("%s after %d checks", short(err), attempt), err
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// okWord is the first line a successful check printed ("active", "200"), or "ok".
func okWord(stdout []byte) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(stdout)), "\n")
	if line == "" || len(line) > 40 {
		return "ok"
	}
	return line
}

// verifyFailed marks a failed check: a command that ran and failed means the service is not
// right (ErrVerify); a transport failure keeps its own classification.
func verifyFailed(err error) error {
	var ee *ExitError
	if errors.As(err, &ee) {
		return permanent("verify", fmt.Errorf("%w: %w", err, ErrVerify))
	}
	return err
}

// classifyExit makes a failed restart command permanent: repeating a restart that systemd
// refused does not help, and restarting twice is what the ledger exists to prevent.
func classifyExit(err error) error {
	var ee *ExitError
	if errors.As(err, &ee) {
		return permanent("restart", err)
	}
	return err
}

// short is an error's text without the classification prefixes, for a one-line summary.
func short(err error) string {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Error()
	}
	return err.Error()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
