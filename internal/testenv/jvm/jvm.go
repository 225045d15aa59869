// Package jvm starts a real, small JVM for heap-dump tests: a long-running Java program that
// holds some objects, running as a chosen user (heap dumps are written by the JVM's user, so
// the tests must prove the path is writable by it) and, optionally, inside a network namespace
// so that it "runs on the target" behind the bastion.
//
// The program is compiled with javac once per test binary. Each JVM carries a unique marker in
// its command line, which is the process pattern tests give to the heap-dump action.
package jvm

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Options choose how the JVM runs.
type Options struct {
	User  string // run as this user (default: the test's user)
	Netns string // run inside `ip netns exec NETNS` (default: none)
}

// JVM is a running Java process.
type JVM struct {
	PID int
	// Marker is unique to this JVM's command line: the pattern for pgrep -f.
	Marker string
	User   string
}

// Start compiles (once) and starts the program, waits until it has allocated its objects, and
// kills exactly that process when the test ends. It skips without a JDK, unless CI is set.
func Start(tb testing.TB, opt Options) *JVM {
	tb.Helper()
	dir := compile(tb)
	j := &JVM{Marker: MarkerPrefix() + randHex(6), User: opt.User}
	args := []string{"java", "-Xmx64m", "-XX:+UseSerialGC", "-cp", dir, mainClass, j.Marker}
	cmd, err := command(opt, args)
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start jvm: %v", err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	j.PID = cmd.Process.Pid
	waitReady(tb, bufio.NewReader(stdout))
	return j
}

// command builds the process: credentials are dropped by the kernel for a local JVM, and by
// setpriv (which execs, so the PID is java's) after `ip netns exec` for one in a namespace.
func command(opt Options, args []string) (*exec.Cmd, error) {
	if opt.Netns != "" {
		if opt.User != "" {
			u, err := user.Lookup(opt.User)
			if err != nil {
				return nil, err
			}
			args = append([]string{"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups"}, args...)
		}
		return exec.Command("ip", append([]string{"netns", "exec", opt.Netns}, args...)...), nil
	}
	cmd := exec.Command(args[0], args[1:]...)
	if opt.User != "" {
		u, err := user.Lookup(opt.User)
		if err != nil {
			return nil, err
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	cmd.Dir = "/"
	return cmd, nil
}

// waitReady waits for the program's "ready" line.
func waitReady(tb testing.TB, r *bufio.Reader) {
	tb.Helper()
	done := make(chan string, 1)
	go func() {
		line, _ := r.ReadString('\n')
		done <- line
	}()
	select {
	case line := <-done:
		if strings.TrimSpace(line) != "ready" {
			tb.Fatalf("jvm did not start: %q", line)
		}
	case <-time.After(30 * time.Second):
		tb.Fatal("jvm not ready within 30s")
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// MarkerPrefix starts the marker of every JVM this test process starts. Test packages run in
// parallel, so a pattern meant to match "this test's JVMs" must include it.
func MarkerPrefix() string { return fmt.Sprintf("alaya-jvm-%d-", os.Getpid()) }
