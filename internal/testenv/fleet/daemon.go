package fleet

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyTimeout bounds how long a daemon may take to answer /readyz after it starts: NATS
// connect, stream checks and, for workers, loading runbooks and inventory.
const readyTimeout = 30 * time.Second

// Daemon is one alaya-receiver or alaya-worker process. Its stderr (the JSON log) goes to
// LogFile, appended across restarts, so a test can read what every incarnation said.
type Daemon struct {
	Name    string
	Admin   string // base URL of /healthz, /readyz, /metrics
	LogFile string

	tb        testing.TB
	bin       string
	args      []string
	env       []string
	listenKey string // the environment variable of the admin listener's address

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs the process and waits until /readyz answers 200. A daemon one of whose ports was
// taken meanwhile (the fleet picks free ports before the processes bind them, and other tests
// bind ports too) is started again with new ones: every *_LISTEN address moves.
func (d *Daemon) Start() {
	d.tb.Helper()
	for attempt := 1; ; attempt++ {
		from := logSize(d.LogFile)
		err := d.start()
		if err == nil {
			return
		}
		log, _ := os.ReadFile(d.LogFile)
		if attempt < 3 && from <= int64(len(log)) && strings.Contains(string(log[from:]), "address already in use") {
			d.movePorts()
			continue
		}
		if len(log) > 4096 {
			log = log[len(log)-4096:]
		}
		d.tb.Fatalf("fleet: %s: %v; its log ends:\n%s", d.Name, err, log)
	}
}

func (d *Daemon) start() error {
	log, err := os.OpenFile(d.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(d.bin, d.args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = d.env, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	d.mu.Lock()
	d.cmd, d.exited = cmd, exited
	d.mu.Unlock()
	return d.waitReady(exited)
}

// movePorts gives each of the daemon's listeners (every ALAYA_*_LISTEN variable) a new free
// port; the admin listener's is Admin.
func (d *Daemon) movePorts() {
	for i, kv := range d.env {
		key, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(key, "ALAYA_") || !strings.HasSuffix(key, "_LISTEN") {
			continue
		}
		addr := "127.0.0.1:" + strconv.Itoa(freePort(d.tb))
		d.env[i] = key + "=" + addr
		if key == d.listenKey {
			d.Admin = "http://" + addr
		}
	}
}

// Listen is the address the daemon's listener named by key (ALAYA_RECEIVER_LISTEN, …) is on.
func (d *Daemon) Listen(key string) string {
	for _, kv := range d.env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

func logSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func (d *Daemon) waitReady(exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.Admin+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v", readyTimeout)
		case <-tick.C:
		}
	}
}

// Kill crashes the process (SIGKILL) and waits until it is gone.
func (d *Daemon) Kill() { d.signalAndWait(syscall.SIGKILL) }

// Stop asks the process to shut down (SIGTERM), as an orchestrator does, and waits until it
// has exited: within its shutdown grace, or it is killed when the grace is long past.
func (d *Daemon) Stop() { d.signalAndWait(syscall.SIGTERM) }

// Dump makes the process print every goroutine's stack into its log and exit (SIGQUIT), for
// a test that found it stuck.
func (d *Daemon) Dump() { d.signalAndWait(syscall.SIGQUIT) }

// Running reports whether the process is up.
func (d *Daemon) Running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

func (d *Daemon) signalAndWait(sig syscall.Signal) {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.cmd = nil
	d.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		<-exited
		d.tb.Errorf("fleet: %s did not exit within 3 minutes of %v", d.Name, sig)
	}
}

// PeakRSS is the process's peak resident set size so far (VmHWM), in bytes; 0 once it exited.
func (d *Daemon) PeakRSS() int64 {
	d.mu.Lock()
	cmd := d.cmd
	d.mu.Unlock()
	if cmd == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
