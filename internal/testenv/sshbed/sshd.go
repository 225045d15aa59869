package sshbed

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const sshdPath = "/usr/sbin/sshd"

// Login users. Namespaces share /etc/passwd, so the users exist once for all beds.
const (
	BastionUser = "alaya-jump"
	TargetUser  = "alaya-ops"
)

// ensureUser creates a login user if missing and unlocks it: useradd leaves the account
// locked ("!" in shadow), and with UsePAM no sshd then refuses even key logins.
// Call with the global lock held.
func ensureUser(name string) error {
	if _, err := user.Lookup(name); err != nil {
		if err := run("useradd", "--create-home", "--shell", "/bin/sh", name); err != nil {
			return err
		}
	}
	return run("usermod", "-p", "*", name)
}

// sshdConfig is the configuration of one node: public keys only, forwarding only where the
// node's role needs it, everything else at sshd's defaults (MaxSessions 10, as on real hosts).
func sshdConfig(n *Node, bastion bool) string {
	lines := []string{
		"ListenAddress " + n.Addr + ":" + strconv.Itoa(n.Port),
		"HostKey " + filepath.Join(n.dir, "ssh_host_ed25519_key"),
		"HostKey " + filepath.Join(n.dir, "ssh_host_ecdsa_key"),
		"PidFile none",
		"AuthorizedKeysFile " + filepath.Join(n.dir, "authorized_keys"),
		"AllowUsers " + n.User,
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"PermitRootLogin no",
		"LogLevel VERBOSE",
		"AllowAgentForwarding no",
		"X11Forwarding no",
		// The bastion forwards TCP to targets. Targets forward only to Unix sockets, which is
		// how the HAProxy runtime API on a load balancer host is reached. OpenSSH grants
		// stream-local channels only when local TCP forwarding is allowed and PermitOpen is
		// "any" (PermitOpen none refuses socket paths too), so targets must allow both.
		"AllowTcpForwarding " + map[bool]string{true: "yes", false: "local"}[bastion],
		"AllowStreamLocalForwarding " + map[bool]string{true: "no", false: "local"}[bastion],
		"MaxSessions 10",
		"Subsystem sftp internal-sftp",
	}
	if penaltiesSupported() {
		// Auth-failure tests would otherwise get the bastion's address penalized on targets.
		lines = append(lines, "PerSourcePenalties no")
	}
	return strings.Join(lines, "\n") + "\n"
}

// penaltiesSupported reports whether sshd knows PerSourcePenalties (OpenSSH 9.8 and later).
var penaltiesSupported = sync.OnceValue(func() bool {
	out, _ := exec.Command(sshdPath, "-V").CombinedOutput()
	m := regexp.MustCompile(`OpenSSH_(\d+)\.(\d+)`).FindSubmatch(out)
	if m == nil {
		return false
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))
	return major > 9 || major == 9 && minor >= 8
})

// startSSHD starts the node's sshd inside its namespace. -f and -E must be absolute: with
// relative paths sshd re-executes itself per connection and every handshake ends in EOF.
func (s *slot) startSSHD(n *Node) error {
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // privilege separation directory
		return err
	}
	cfg := filepath.Join(n.dir, "sshd_config")
	if err := os.WriteFile(cfg, []byte(n.config), 0o644); err != nil {
		return err
	}
	cmd := exec.Command("ip", "netns", "exec", n.Namespace, sshdPath, "-D", "-f", cfg, "-E", n.LogFile)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("sshbed: start sshd for %s: %w", n.Name, err)
	}
	// ip netns exec execs sshd in place: the PID is sshd's.
	n.PID = cmd.Process.Pid
	n.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(n.exited)
	}()
	return s.recordPID(n.PID)
}

// waitReady waits until the node's sshd sends its banner to a connection made from from (the
// host when from is "", else a namespace), or fails if sshd exits first.
func (n *Node) waitReady(from string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		err := n.banner(ctx, from)
		if err == nil {
			return nil
		}
		select {
		case <-n.exited:
			return fmt.Errorf("sshbed: sshd for %s exited: %s", n.Name, n.logTail())
		case <-ctx.Done():
			return fmt.Errorf("sshbed: sshd for %s not ready: %w", n.Name, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (n *Node) banner(ctx context.Context, from string) error {
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var c interface {
		Read([]byte) (int, error)
		Close() error
		SetDeadline(time.Time) error
	}
	var err error
	if from == "" {
		c, err = dialHost(dctx, n.SSHAddr())
	} else {
		c, err = dialIn(dctx, from, n.SSHAddr())
	}
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "SSH-2.0-") {
		return fmt.Errorf("unexpected banner %q", line)
	}
	return nil
}

// stop kills the node's sshd and every process under it: sshd leaves per-connection
// children running when the listener dies, and they in turn run the test's commands.
func (n *Node) stop() {
	if n.PID == 0 {
		return
	}
	for _, pid := range descendants(n.PID) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = syscall.Kill(n.PID, syscall.SIGKILL)
	<-n.exited
}

// descendants lists the processes below pid, collected before anything is killed (a killed
// parent's children are re-parented and could no longer be found).
func descendants(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
				out = append(out, descendants(c)...)
			}
		}
	}
	return out
}

// children lists the direct children of pid: for an sshd listener, one per connection.
func children(pid int) []int {
	var out []int
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	for _, f := range strings.Fields(string(data)) {
		if c, err := strconv.Atoi(f); err == nil {
			out = append(out, c)
		}
	}
	return out
}

func (n *Node) logTail() string {
	data, err := os.ReadFile(n.LogFile)
	if err != nil {
		return err.Error()
	}
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}
