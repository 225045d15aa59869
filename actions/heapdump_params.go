package actions

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// HeapDumpParams are a heap_dump step's parameters for one host.
type HeapDumpParams struct {
	// Pattern finds the JVM with `pgrep -f`; exactly one process must match.
	Pattern string
	// Path is where the JVM writes the dump; "{pid}" is replaced by the JVM's PID. Default
	// Dir/alaya-heap-<run>-<pid>.hprof. It must be writable by the JVM's user.
	Path string
	Dir  string // default /tmp
	Run  string // the run id, for the default file name
	// RunAs runs jcmd and every command touching the dump as this user (`sudo -n -u`), for
	// when the login user cannot attach to the JVM or read and delete its files.
	RunAs string
	// Compress gzips the dump on the host while streaming; the stored object is then
	// KEY.gz and is verified by decompressing it on the way through.
	Compress bool
	// MaxSize refuses to upload a dump larger than this (checked before streaming; default
	// 8 GiB).
	MaxSize int64
	// Timeout bounds jcmd (default 5m); the transfer is bounded by ctx only.
	Timeout time.Duration
}

// ParseHeapDumpParams reads a heap_dump step's rendered parameters: process (the pgrep -f
// pattern; "pattern" is accepted too), path, compress, max_size (bytes, or with a KiB/MiB/GiB
// suffix), and optionally dir, run, run_as, timeout.
func ParseHeapDumpParams(p map[string]string) (HeapDumpParams, error) {
	out := HeapDumpParams{Pattern: first(p, "process", "pattern"), Path: p["path"], Dir: p["dir"], Run: p["run"], RunAs: p["run_as"]}
	if out.Pattern == "" {
		return out, refusef("heap_dump: parameter process is required")
	}
	var err error
	if out.Compress, err = boolParam(p, "compress"); err != nil {
		return out, err
	}
	if out.Timeout, err = durationParam(p, "timeout"); err != nil {
		return out, err
	}
	if v := p["max_size"]; v != "" {
		if out.MaxSize, err = ParseSize(v); err != nil {
			return out, refusef("parameter max_size=%q: %v", v, err)
		}
	}
	return out, nil
}

// dumpPath is where the JVM with pid writes its dump.
func (p HeapDumpParams) dumpPath(pid int) string {
	if p.Path != "" {
		return strings.ReplaceAll(p.Path, "{pid}", strconv.Itoa(pid))
	}
	dir := p.Dir
	if dir == "" {
		dir = "/tmp"
	}
	return fmt.Sprintf("%s/alaya-heap-%s-%d.hprof", strings.TrimRight(dir, "/"), fileSafe(p.Run), pid)
}

// as prefixes a command to run as RunAs.
func (p HeapDumpParams) as(cmd string) string {
	if p.RunAs == "" {
		return cmd
	}
	return "sudo -n -u " + Quote(p.RunAs) + " -- " + cmd
}

// asShell is as for a shell command line with operators, which sudo does not interpret.
func (p HeapDumpParams) asShell(cmd string) string {
	if p.RunAs == "" {
		return cmd
	}
	return p.as("sh -c " + Quote(cmd))
}

var unsafeFile = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// fileSafe keeps a run id usable in a file name (it is quoted anyway; this keeps it readable).
func fileSafe(s string) string {
	if s == "" {
		return "run"
	}
	return unsafeFile.ReplaceAllString(s, "_")
}

// ParseSize reads a byte count: a plain number or one with a suffix K, M, G, KiB, MiB, GiB
// (all binary).
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a size like 512MiB")
	}
	return n * mult, nil
}

// HumanSize formats a byte count for a phone-sized line.
func HumanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
