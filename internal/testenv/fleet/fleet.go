// Package fleet runs Alaya the way production does, on one machine: a three-node nats-server
// cluster with replicas 3, one alaya-receiver and several alaya-worker processes built from
// this checkout, a real S3 server behind a fault proxy, the PagerDuty stand-in, and sshd
// targets reachable only through a bastion. The chaos scenarios and the fleet benchmarks
// crash, stop and starve these processes and then check what the hosts and the incidents say.
package fleet

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/pdstandin"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/internal/testenv/s3server"
	"github.com/alaya-sre/alaya/internal/testenv/sshbed"
)

// Credentials the fleet is configured with; tests check that none reaches a log or a note.
const (
	PDToken       = "u+fleetTOKENdoNotLeak"
	WebhookSecret = "whsec-fleet-do-not-leak-0123"
	LinkKey       = "link-key-for-the-fleet-0123456789abcdef"
	BotEmail      = "alaya-bot@example.com"
	OnCallID      = "PONCALL"
	Policy        = "PEP0001"
)

// Options shape the fleet.
type Options struct {
	Workers  int // worker processes (default 2)
	Targets  int // sshd targets behind the bastion (default 2)
	Runbooks func(f *Fleet) map[string]string
	Env      map[string]string // ALAYA_* settings on top of the fleet's own
	KeepLogs bool              // keep the daemons' logs also when the test passes
}

// Fleet is everything Start started. Everything is stopped when the test ends.
type Fleet struct {
	NATS     *natsserver.ProcessCluster
	S3       *s3server.Server
	S3Proxy  *FaultProxy
	PD       *pdstandin.Server
	PDURL    string
	Bed      *sshbed.Bed
	Receiver *Daemon
	Workers  []*Daemon
	Webhook  string // the receiver's PagerDuty webhook URL
	Dir      string // config, runbooks, inventory, logs
	HostDir  string // a directory every target's user can write: where steps leave their marks
}

// Start builds and starts the fleet from bins. It needs root (namespaces, sshd) and the
// binaries scripts/install-deps.sh installs.
func Start(tb testing.TB, bins Binaries, o Options) *Fleet {
	tb.Helper()
	if o.Workers == 0 {
		o.Workers = 2
	}
	if o.Targets == 0 {
		o.Targets = 2
	}
	f := &Fleet{Dir: tb.TempDir(), HostDir: hostDir(tb)}
	tb.Cleanup(func() {
		if tb.Failed() || o.KeepLogs {
			f.keepLogs(tb)
		}
	})
	f.Bed = sshbed.Start(tb, sshbed.Targets(o.Targets))
	f.S3 = s3server.Start(tb)
	f.S3Proxy = StartFaultProxy(tb, f.S3.Endpoint)
	f.NATS = natsserver.StartProcessCluster(tb, 3)
	waitJetStream(tb, f.NATS.URLs())
	f.startPagerDuty(tb)
	f.writeFiles(tb, o)
	env := f.env(o.Env)
	// The receiver serves health and metrics on its admin listener, webhooks on another.
	f.Receiver = f.daemon(tb, "receiver", bins.Receiver, env, "ALAYA_RECEIVER_ADMIN_LISTEN")
	f.Receiver.env = append(f.Receiver.env, "ALAYA_RECEIVER_LISTEN=127.0.0.1:"+strconv.Itoa(freePort(tb)))
	for i := range o.Workers {
		f.Workers = append(f.Workers, f.daemon(tb, fmt.Sprintf("worker-%d", i+1), bins.Worker, env, "ALAYA_WORKER_LISTEN"))
	}
	// Workers declare the stream and buckets; the receiver binds to them.
	for _, w := range f.Workers {
		w.Start()
	}
	f.Receiver.Start()
	f.Webhook = "http://" + f.Receiver.Listen("ALAYA_RECEIVER_LISTEN") + "/v1/webhooks/pagerduty" // known once it bound
	f.PD.Subscribe(f.Webhook, WebhookSecret)
	return f
}

func (f *Fleet) startPagerDuty(tb testing.TB) {
	f.PD = pdstandin.New(pdstandin.WithToken(PDToken))
	url, err := f.PD.Start("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	f.PDURL = url
	tb.Cleanup(f.PD.Close)
	f.PD.AddUser("PBOT001", "Alaya", BotEmail)
	f.PD.AddUser(OnCallID, "Dana Oncall", "dana@example.com")
	f.PD.SetOnCall(Policy, OnCallID)
}

func (f *Fleet) writeFiles(tb testing.TB, o Options) {
	write(tb, filepath.Join(f.Dir, "inventory.yaml"), string(f.Bed.InventoryYAML()))
	if o.Runbooks != nil {
		for name, body := range o.Runbooks(f) {
			write(tb, filepath.Join(f.Dir, "runbooks", name+".yaml"), body)
		}
	}
}

// env is the environment every daemon gets: a clean one (nothing of the developer's AWS or
// ALAYA settings), the fleet's settings, then the test's.
func (f *Fleet) env(extra map[string]string) map[string]string {
	env := map[string]string{
		"PATH":                           os.Getenv("PATH"),
		"HOME":                           f.Dir,
		"ALAYA_LOG_LEVEL":                "debug",
		"ALAYA_NATS_URLS":                strings.Join(f.NATS.URLs(), ","),
		"ALAYA_NATS_REPLICAS":            "3",
		"ALAYA_RECEIVER_WEBHOOK_SECRETS": WebhookSecret,
		"ALAYA_RECEIVER_LINK_KEY":        LinkKey,
		"ALAYA_RECEIVER_PUBLIC_URL":      "https://alaya.example.test",
		"ALAYA_WORKER_RUNBOOKS":          filepath.Join(f.Dir, "runbooks"),
		"ALAYA_WORKER_INVENTORY":         filepath.Join(f.Dir, "inventory.yaml"),
		"ALAYA_WORKER_ACK_WAIT":          "5s",
		"ALAYA_WORKER_SHUTDOWN_GRACE":    "10s",
		"ALAYA_WORKER_GATE_SWEEP":        "1s",
		"ALAYA_PAGERDUTY_API_URL":        f.PDURL,
		"ALAYA_PAGERDUTY_TOKEN":          PDToken,
		"ALAYA_PAGERDUTY_FROM":           BotEmail,
		"ALAYA_EVIDENCE_BUCKET":          f.S3.Bucket,
		"ALAYA_EVIDENCE_ENDPOINT":        f.S3Proxy.URL,
		"ALAYA_EVIDENCE_REGION":          f.S3.Region,
		"ALAYA_EVIDENCE_PATH_STYLE":      "true",
		"AWS_ACCESS_KEY_ID":              f.S3.AccessKey,
		"AWS_SECRET_ACCESS_KEY":          f.S3.SecretKey,
		"AWS_CONFIG_FILE":                os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE":    os.DevNull,
		"AWS_EC2_METADATA_DISABLED":      "true",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// daemon prepares a process whose listen address (listenKey) is a free loopback port.
func (f *Fleet) daemon(tb testing.TB, name, bin string, base map[string]string, listenKey string) *Daemon {
	addr := "127.0.0.1:" + strconv.Itoa(freePort(tb))
	d := &Daemon{Name: name, Admin: "http://" + addr, LogFile: filepath.Join(f.Dir, name+".log"), tb: tb, bin: bin, listenKey: listenKey}
	for k, v := range base {
		d.env = append(d.env, k+"="+v)
	}
	d.env = append(d.env, listenKey+"="+addr)
	tb.Cleanup(d.Kill)
	return d
}

// Logs is every daemon's log so far, for checks that no secret reached them.
func (f *Fleet) Logs(tb testing.TB) string {
	var sb strings.Builder
	for _, d := range append([]*Daemon{f.Receiver}, f.Workers...) {
		b, err := os.ReadFile(d.LogFile)
		if err != nil && !os.IsNotExist(err) {
			tb.Fatal(err)
		}
		sb.Write(b)
	}
	return sb.String()
}

// waitJetStream waits until the cluster has elected its meta leader and answers JetStream
// requests, as an operator would before deploying Alaya onto it.
func waitJetStream(tb testing.TB, urls []string) {
	tb.Helper()
	nc, err := nats.Connect(strings.Join(urls, ","), nats.MaxReconnects(-1))
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("fleet: JetStream cluster not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// keepLogs copies the daemons' logs out of the test's temporary directory, so what the
// workers said survives the clean-up, and says where they are.
func (f *Fleet) keepLogs(tb testing.TB) {
	dir, err := os.MkdirTemp("", "alaya-fleet-logs-")
	if err != nil {
		return
	}
	logs, _ := filepath.Glob(filepath.Join(f.Dir, "*.log"))
	for _, l := range logs {
		if b, err := os.ReadFile(l); err == nil {
			os.WriteFile(filepath.Join(dir, filepath.Base(l)), b, 0o644)
		}
	}
	tb.Logf("fleet: the daemons' logs are kept in %s", dir)
}

func freePort(tb testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func write(tb testing.TB, path, content string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// hostDir is a directory the targets' login user can write; the "hosts" share the file system.
func hostDir(tb testing.TB) string {
	dir, err := os.MkdirTemp("", "alaya-fleet-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		tb.Fatal(err)
	}
	return dir
}
