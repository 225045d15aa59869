package executor_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/internal/testenv/sshbed"
	"github.com/alaya-sre/alaya/inventory"
)

// TestRunThroughBastion runs the spine's diagnostic on the target and proves from the target's
// own view (SSH_CONNECTION) that the session came from the bastion.
func TestRunThroughBastion(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	inv := bed.Inventory(t)
	reg := prometheus.NewRegistry()
	x := newSSH(t, inv, executor.WithRegisterer(reg))
	h := target(t, inv, bed)

	res, err := x.Run(t.Context(), h, `uname -a; uptime; echo "from=$SSH_CONNECTION"; id -un; echo oops >&2; exit 3`, executor.RunOptions{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	out := string(res.Stdout)
	for _, want := range []string{"Linux", "load average", "from=" + bed.Target().Peer + " ", " " + bed.Target().Addr + " 22", sshbed.TargetUser} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if res.ExitCode != 3 || string(res.Stderr) != "oops\n" || res.Host != "target-1" {
		t.Errorf("exit %d stderr %q host %q; want 3, oops, target-1", res.ExitCode, res.Stderr, res.Host)
	}
	if res.Finished.Before(res.Started) || res.StdoutTruncated {
		t.Errorf("timings %v..%v truncated %v", res.Started, res.Finished, res.StdoutTruncated)
	}
	for metric, want := range map[string]float64{
		`alaya_executor_ssh_commands_total{outcome="ok"}`: 1,
		`alaya_executor_ssh_logins_total{hop="bastion"}`:  1,
		`alaya_executor_ssh_logins_total{hop="target"}`:   1,
	} {
		if got := gathered(t, reg, metric); got != want {
			t.Errorf("%s = %v; want %v", metric, got, want)
		}
	}
}

// gathered returns the value of one counter, named as name{label="value"}.
func gathered(t *testing.T, reg *prometheus.Registry, metric string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := f.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			if name == metric {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("metric %s not found", metric)
	return 0
}

// TestTargetNotReachableDirectly: without its bastion the target cannot be reached at all, so
// every passing test in this file went through the bastion.
func TestTargetNotReachableDirectly(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	inv := bed.Inventory(t)
	inv.Defaults.ConnectTimeout = 500 * time.Millisecond
	h := target(t, inv, bed)
	h.Bastion = ""
	x := newSSH(t, inv)

	_, err := x.Run(t.Context(), h, "true", executor.RunOptions{})
	if !errors.Is(err, executor.ErrConnect) || !executor.Retryable(err) {
		t.Fatalf("direct Run: %v; want a retryable ErrConnect", err)
	}
	if !strings.Contains(err.Error(), "target target-1 ("+bed.Target().SSHAddr()+")") {
		t.Errorf("error does not name the hop: %v", err)
	}
}

// TestHostKeyRefused: a wrong or missing known_hosts entry at either hop stops the connection
// before any authentication, names the hop, and is not retryable.
func TestHostKeyRefused(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	empty := filepath.Join(bed.Dir, "empty.known_hosts")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		bastion  bool
		file     string
		wantText string
	}{
		{"target key mismatch", false, bed.WrongKnownHosts(t, bed.Target()), "key mismatch"},
		{"target key unknown", false, bed.Bastion.KnownHosts, "key is unknown"},
		{"bastion key mismatch", true, bed.WrongKnownHosts(t, bed.Bastion), "key mismatch"},
		{"bastion key unknown", true, empty, "key is unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := bed.Inventory(t)
			node := bed.Target()
			if tt.bastion {
				inv.Bastions["bastion-1"].KnownHosts = tt.file
				node = bed.Bastion
			} else {
				inv.Hosts["target-1"].KnownHosts = tt.file
			}
			x := newSSH(t, inv)
			res, err := x.Run(t.Context(), target(t, inv, bed), "touch /tmp/must-not-run", executor.RunOptions{})
			if !errors.Is(err, executor.ErrHostKey) || executor.Retryable(err) {
				t.Fatalf("err = %v; want a permanent ErrHostKey", err)
			}
			role := map[bool]string{true: "bastion", false: "target"}[tt.bastion]
			wantHop := fmt.Sprintf("%s %s (%s)", role, node.Name, node.SSHAddr())
			if msg := err.Error(); !strings.Contains(msg, wantHop) || !strings.Contains(msg, tt.wantText) {
				t.Errorf("error %q; want it to name %q and say %q", msg, wantHop, tt.wantText)
			}
			if res.ExitCode != -1 || x.Stats().TargetDials != 0 {
				t.Errorf("exit %d, target logins %d; want -1, 0", res.ExitCode, x.Stats().TargetDials)
			}
		})
	}
}

// TestHostWithSeveralKeyTypes reproduces the pitfall the executor avoids: the bed's sshd offers
// ECDSA and Ed25519 while known_hosts lists only Ed25519. A client with default algorithms is
// shown the ECDSA key and reports a mismatch; the executor asks for what known_hosts has.
func TestHostWithSeveralKeyTypes(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	cb, err := knownhosts.New(bed.Bastion.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	signer := loadSigner(t, bed.Bastion.KeyFile)
	cfg := &ssh.ClientConfig{User: bed.Bastion.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: cb, Timeout: 5 * time.Second}
	if c, err := ssh.Dial("tcp", bed.Bastion.SSHAddr(), cfg); err == nil || !strings.Contains(err.Error(), "key mismatch") {
		if c != nil {
			c.Close()
		}
		t.Fatalf("default algorithms: %v; the bed should reproduce the mismatch", err)
	}

	inv := bed.Inventory(t)
	res, err := newSSH(t, inv).Run(t.Context(), target(t, inv, bed), "true", executor.RunOptions{})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("executor: %v, exit %d", err, res.ExitCode)
	}
}

func loadSigner(t *testing.T, path string) ssh.Signer {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAuthRefused: a key the hop does not accept, or one that cannot be read, is a permanent
// ErrAuth naming the hop and user, and no error shows key material.
func TestAuthRefused(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	stranger, _ := sshbed.NewKeyFile(t, bed.Dir, "stranger.key")
	secret, err := os.ReadFile(stranger)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		bastion bool
		key     string
		want    string
	}{
		{"target refuses key", false, stranger, `target target-1 (` + bed.Target().SSHAddr() + `): user "alaya-ops" was refused`},
		{"bastion refuses key", true, stranger, `bastion bastion-1 (` + bed.Bastion.SSHAddr() + `): user "alaya-jump" was refused`},
		{"bastion key is the target's", true, bed.Target().KeyFile, `user "alaya-jump" was refused`},
		{"key file missing", false, filepath.Join(bed.Dir, "nope.key"), "nope.key: no such file"},
		{"key file is not a key", false, bed.Target().KnownHosts, "private key " + bed.Target().KnownHosts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := bed.Inventory(t)
			if tt.bastion {
				inv.Bastions["bastion-1"].KeyFile = tt.key
			} else {
				inv.Hosts["target-1"].KeyFile = tt.key
			}
			_, err := newSSH(t, inv).Run(t.Context(), target(t, inv, bed), "true", executor.RunOptions{})
			if !errors.Is(err, executor.ErrAuth) || executor.Retryable(err) {
				t.Fatalf("err = %v; want a permanent ErrAuth", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q; want %q", msg, tt.want)
			}
			for _, line := range strings.Split(string(secret), "\n")[1:3] {
				if strings.Contains(msg, line) || strings.Contains(msg, "PRIVATE KEY") {
					t.Fatalf("error leaks key material: %q", msg)
				}
			}
		})
	}
}

// TestTimeoutKillsCommand: on timeout the remote process is killed, the partial output is
// kept, and the connection serves the next command.
func TestTimeoutKillsCommand(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	inv := bed.Inventory(t)
	x := newSSH(t, inv)
	h := target(t, inv, bed)
	marker := fmt.Sprintf("%d.%d", 900+bed.Slot, time.Now().UnixNano()%1000000)

	res, err := x.Run(t.Context(), h, "echo partial; echo half >&2; exec sleep "+marker, executor.RunOptions{Timeout: 500 * time.Millisecond})
	if !errors.Is(err, executor.ErrTimeout) || executor.Retryable(err) {
		t.Fatalf("err = %v; want ErrTimeout", err)
	}
	if string(res.Stdout) != "partial\n" || string(res.Stderr) != "half\n" || res.ExitCode != -1 {
		t.Errorf("stdout %q stderr %q exit %d; want partial output and -1", res.Stdout, res.Stderr, res.ExitCode)
	}
	if d := res.Duration(); d < 500*time.Millisecond || d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	waitGone(t, "sleep\x00"+marker)

	res, err = x.Run(t.Context(), h, "echo again", executor.RunOptions{})
	if err != nil || string(res.Stdout) != "again\n" {
		t.Fatalf("after timeout: %v %q", err, res.Stdout)
	}
	if st := x.Stats(); st.TargetDials != 1 || st.Commands["timeout"] != 1 {
		t.Errorf("stats %+v; want one target login and one timeout", st)
	}
}

// waitGone waits until no process has cmdline containing pattern (processes are shared with
// the namespaces). Polling is the only way to observe another process's death here.
func waitGone(t *testing.T, pattern string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids := findProcesses(pattern)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %v matching %q still running after timeout", pids, pattern)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func findProcesses(pattern string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		data, err := os.ReadFile(d)
		if err == nil && strings.Contains(string(data), pattern) {
			out = append(out, d)
		}
	}
	return out
}

// TestOutputCap keeps head and tail of long output, says how much was left out, and still
// lets the command finish.
func TestOutputCap(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	inv := bed.Inventory(t)
	x := newSSH(t, inv)
	h := target(t, inv, bed)
	tests := []struct {
		name          string
		cmd           string
		max           int64
		wantTruncated bool
		wantPrefix    string
		wantSuffix    string
	}{
		{"short output kept whole", "printf 'a\\nb\\n'", 1000, false, "a\nb\n", "a\nb\n"},
		{"exactly the cap", "printf 0123456789", 10, false, "0123456789", "0123456789"},
		{"long output keeps head and tail", "seq 1 200000", 1000, true, "1\n2\n3\n", "199999\n200000\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := x.Run(t.Context(), h, tt.cmd+"; "+tt.cmd+" >&2", executor.RunOptions{MaxOutput: tt.max})
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("%v exit %d", err, res.ExitCode)
			}
			for stream, got := range map[string][]byte{"stdout": res.Stdout, "stderr": res.Stderr} {
				s := string(got)
				if !strings.HasPrefix(s, tt.wantPrefix) || !strings.HasSuffix(s, tt.wantSuffix) {
					t.Errorf("%s = %.40q...%.40q", stream, s, s[max(0, len(s)-40):])
				}
				if tt.wantTruncated && (!strings.Contains(s, "bytes omitted") || int64(len(s)) > tt.max+64) {
					t.Errorf("%s: %d bytes, no omission line", stream, len(s))
				}
			}
			if res.StdoutTruncated != tt.wantTruncated || res.StderrTruncated != tt.wantTruncated {
				t.Errorf("truncated = %v/%v; want %v", res.StdoutTruncated, res.StderrTruncated, tt.wantTruncated)
			}
		})
	}
}

// TestConcurrentCommandsShareConnections: 30 commands at once on one host with MaxSessions 8
// all succeed on one bastion and one target connection, never more than 8 running at a time.
// Without the cap sshd (MaxSessions 10) refuses sessions, which shows why the cap exists.
func TestConcurrentCommandsShareConnections(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	tests := []struct {
		name          string
		maxSessions   int
		wantRefusals  bool
		wantMaxAtOnce int
	}{
		{"capped at 8", 8, false, 8},
		{"uncapped past sshd's limit", 30, true, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := bed.Inventory(t)
			h := target(t, inv, bed)
			h.MaxSessions = tt.maxSessions
			x := newSSH(t, inv)
			atOnce := runConcurrently(t, x, h, 30)
			if atOnce > tt.wantMaxAtOnce {
				t.Errorf("%d commands ran at once; want at most %d", atOnce, tt.wantMaxAtOnce)
			}
			st := x.Stats()
			if st.BastionDials != 1 || st.TargetDials != 1 {
				t.Errorf("logins: bastion %d, target %d; want 1 and 1", st.BastionDials, st.TargetDials)
			}
			if tt.wantRefusals && st.SessionRefusals == 0 {
				t.Errorf("sshd accepted 30 concurrent sessions; the bed should enforce MaxSessions 10")
			}
		})
	}
}

// runConcurrently runs n commands at once on h; each reports how many were running on the
// target while it ran (a directory per running command, on the shared file system). It
// returns the largest count seen.
func runConcurrently(t *testing.T, x executor.Executor, h *inventory.Host, n int) int {
	t.Helper()
	dir := sharedDir(t)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	counts := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cmd := fmt.Sprintf("mkdir %[1]s/%[2]d; sleep 0.2; ls %[1]s | wc -l; rmdir %[1]s/%[2]d", dir, i)
			res, err := x.Run(t.Context(), h, cmd, executor.RunOptions{Timeout: 20 * time.Second})
			if err != nil || res.ExitCode != 0 {
				t.Errorf("command %d: %v, exit %d, stderr %q", i, err, res.ExitCode, res.Stderr)
				return
			}
			counts[i], err = strconv.Atoi(strings.TrimSpace(string(res.Stdout)))
			if err != nil {
				t.Errorf("command %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	return slices.Max(counts)
}

// TestReconnectAfterDrop: a connection that died (sshd's side killed) is noticed and re-dialled;
// only the hops that died are dialled again.
func TestReconnectAfterDrop(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	tests := []struct {
		name                        string
		drop                        *sshbed.Node
		wantBastionDials, minTarget int64
	}{
		{"target connection dropped", bed.Target(), 1, 2},
		{"bastion connection dropped", bed.Bastion, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := bed.Inventory(t)
			h := target(t, inv, bed)
			x := newSSH(t, inv, executor.WithKeepalive(0))
			if _, err := x.Run(t.Context(), h, "true", executor.RunOptions{}); err != nil {
				t.Fatal(err)
			}
			if n := bed.DropConnections(t, tt.drop); n != 1 {
				t.Fatalf("dropped %d connections of %s; want 1", n, tt.drop.Name)
			}
			res, err := x.Run(t.Context(), h, "echo back", executor.RunOptions{})
			if err != nil || string(res.Stdout) != "back\n" {
				t.Fatalf("after drop: %v %q", err, res.Stdout)
			}
			st := x.Stats()
			if st.BastionDials != tt.wantBastionDials || st.TargetDials != tt.minTarget {
				t.Errorf("logins: bastion %d, target %d; want %d, %d", st.BastionDials, st.TargetDials, tt.wantBastionDials, tt.minTarget)
			}
		})
	}
}

// TestDialUnix reaches a Unix socket on the target through the bastion, as the HAProxy
// runtime API is reached.
func TestDialUnix(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	inv := bed.Inventory(t)
	x := newSSH(t, inv)
	dir := sharedDir(t)
	path := filepath.Join(dir, "admin.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		fmt.Fprintf(c, "got %s", buf[:n])
	}()

	c, err := x.DialUnix(t.Context(), target(t, inv, bed), path)
	if err != nil {
		t.Fatalf("DialUnix: %v", err)
	}
	defer c.Close()
	fmt.Fprint(c, "show stat")
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	if string(buf[:n]) != "got show stat" {
		t.Fatalf("reply %q", buf[:n])
	}
	if _, err := x.DialUnix(t.Context(), target(t, inv, bed), filepath.Join(dir, "missing.sock")); err == nil {
		t.Fatal("DialUnix to a missing socket succeeded")
	}
}

// sharedDir is a temporary directory the target's login user can read: the nodes share the
// file system with the test, but t.TempDir is private to root.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "alaya-executor-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestClosed: a closed executor refuses work instead of dialling again.
func TestClosed(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	inv := bed.Inventory(t)
	x := newSSH(t, inv)
	h := target(t, inv, bed)
	if _, err := x.Run(t.Context(), h, "true", executor.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	x.Close()
	if _, err := x.Run(context.Background(), h, "true", executor.RunOptions{}); !errors.Is(err, executor.ErrClosed) {
		t.Fatalf("after Close: %v; want ErrClosed", err)
	}
}

// TestUnresponsiveConnection: a connection that stays open but never answers (sshd frozen, as
// behind a firewall that drops the flow) is found by the keepalive and re-dialled; without
// keepalives the caller's deadline still bounds the wait.
func TestUnresponsiveConnection(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	tests := []struct {
		name      string
		keepalive time.Duration
		wantErr   error
	}{
		{"keepalive notices and re-dials", 100 * time.Millisecond, nil},
		{"without keepalive the deadline bounds the wait", 0, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := bed.Inventory(t)
			h := target(t, inv, bed)
			x := newSSH(t, inv, executor.WithKeepalive(tt.keepalive))
			if _, err := x.Run(t.Context(), h, "true", executor.RunOptions{}); err != nil {
				t.Fatal(err)
			}
			if n := bed.FreezeConnections(t, bed.Target()); n != 1 {
				t.Fatalf("froze %d connections; want 1", n)
			}
			t.Cleanup(func() { bed.DropConnections(t, bed.Target()) })
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			start := time.Now()
			res, err := x.Run(ctx, h, "echo alive", executor.RunOptions{})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v; want %v", err, tt.wantErr)
			}
			if err == nil && (string(res.Stdout) != "alive\n" || x.Stats().TargetDials != 2) {
				t.Errorf("stdout %q, target logins %d; want a fresh connection", res.Stdout, x.Stats().TargetDials)
			}
			if took := time.Since(start); took > 4*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
}
