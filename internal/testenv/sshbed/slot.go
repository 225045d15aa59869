package sshbed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Several test processes (go test ./... runs packages in parallel) may each want a bed. Each
// bed holds a slot: an flock on /run/alaya-testbed/slot-N.lock, kept for the bed's life and
// released by the kernel if the process dies. Namespace names, interface names and
// subnets derive from N, so beds never collide. Slot changes, user creation and the shared
// blackhole route happen under the global lock.
const (
	stateDir   = "/run/alaya-testbed"
	maxSlots   = 256
	testRange  = "198.18.0.0/15" // RFC 2544 benchmarking range: nothing real lives there
	routeProto = "252"           // marks the blackhole route as ours
)

// slot is one bed's claim on a set of names and addresses.
type slot struct {
	n    int
	lock *os.File
	dir  string // server-side state: sshd configs, host keys, logs, pids
}

// withGlobalLock runs fn while holding the lock that serializes bed set-up and tear-down.
func withGlobalLock(fn func() error) error {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(stateDir, "global.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return fn()
}

// claimSlot takes the first free slot and clears what a crashed holder left behind.
// Call with the global lock held.
func claimSlot() (*slot, error) {
	for n := range maxSlots {
		f, ok, err := tryLock(filepath.Join(stateDir, fmt.Sprintf("slot-%d.lock", n)))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		s := &slot{n: n, lock: f, dir: filepath.Join(stateDir, fmt.Sprintf("slot-%d", n))}
		if err := s.clearLeftovers(); err != nil {
			f.Close()
			return nil, err
		}
		return s, os.MkdirAll(s.dir, 0o755)
	}
	return nil, errors.New("sshbed: all slots in use")
}

// tryLock opens path and takes an exclusive flock without waiting. The descriptor is
// close-on-exec, so sshd does not inherit the lock and outlive its meaning.
func tryLock(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return f, true, nil
}

// clearLeftovers kills the sshd processes and deletes the namespaces of a previous holder of
// this slot that died without cleaning up.
func (s *slot) clearLeftovers() error {
	killRecorded(filepath.Join(s.dir, "pids"), s.dir)
	_ = exec.Command("ip", "link", "del", s.hostIf()).Run()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return fmt.Errorf("sshbed: ip netns list: %w", err)
	}
	suffix := "-" + strconv.Itoa(s.n)
	for line := range strings.Lines(string(out)) {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if strings.HasPrefix(name, "alaya-") && strings.HasSuffix(name, suffix) {
			_ = exec.Command("ip", "netns", "del", name).Run()
		}
	}
	return os.RemoveAll(s.dir)
}

// killRecorded kills the PIDs listed in file whose command line mentions dir, so that a PID
// reused by an unrelated process since the crash is left alone.
func killRecorded(file, dir string) {
	data, err := os.ReadFile(file)
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && strings.Contains(string(cmdline), dir) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// recordPID appends pid to the slot's list, read by clearLeftovers after a crash.
func (s *slot) recordPID(pid int) error {
	f, err := os.OpenFile(filepath.Join(s.dir, "pids"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintln(f, pid)
	return err
}

// release gives the slot back and, when no other slot is in use, removes the blackhole
// route. Call with the global lock held.
func (s *slot) release() error {
	err := os.RemoveAll(s.dir)
	s.lock.Close()
	if anySlotInUse() {
		return err
	}
	return errors.Join(err, removeBlackhole())
}

func anySlotInUse() bool {
	locks, _ := filepath.Glob(filepath.Join(stateDir, "slot-*.lock"))
	for _, l := range locks {
		f, ok, err := tryLock(l)
		if err != nil || !ok {
			return true
		}
		f.Close()
	}
	return false
}

// addBlackhole makes sure packets for the test range never leave the machine, even if a
// namespace route is missing. Idempotent; a route for the range that someone else made is
// left as it is, ours is marked with our protocol number.
func addBlackhole() error {
	out, err := exec.Command("ip", "route", "show", testRange).Output()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		return err
	}
	return run("ip", "route", "add", "blackhole", testRange, "proto", routeProto)
}

// removeBlackhole removes the blackhole route only if it is ours.
func removeBlackhole() error {
	out, err := exec.Command("ip", "route", "show", "type", "blackhole", testRange, "proto", routeProto).Output()
	if err != nil || len(strings.TrimSpace(string(out))) == 0 {
		return err
	}
	return run("ip", "route", "del", "blackhole", testRange, "proto", routeProto)
}

// run runs a command and returns its output in the error.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sshbed: %s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
