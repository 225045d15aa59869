package loadtest_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/testenv/fleet"
)

// fanoutRunbook runs on every host of the test bed; each host's step takes about a second,
// so the run's time shows whether hosts are worked on at once.
const fanoutRunbook = `name: fanout
owner: sre
match: incident.title == "load on fleet"
targets:
  labels: {testbed: sshbed}
limits:
  max_targets: 64
steps:
  - name: look
    run: sleep 1; uptime
`

var fanoutHosts = flag.Int("fanout.hosts", 50, "hosts behind the one bastion")

// BenchmarkFanOut runs one runbook on 50 hosts through one bastion and compares, in the same
// run, the time from webhook to note with the slowest single host's step and with 50
// sequential `ssh -J` runs of the same command. It also reports the connections through the
// bastion (one per worker is the design) and the worker's peak memory. Run with -benchtime 1x.
func BenchmarkFanOut(b *testing.B) {
	for range b.N {
		fanout(b)
	}
}

func fanout(b *testing.B) {
	f := fleet.Start(b, bins, fleet.Options{Workers: 1, Targets: *fanoutHosts,
		Runbooks: runbooks(map[string]string{"fanout": fanoutRunbook})})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sampler := sampleBastion(ctx, f)
	var note, slowest [2]time.Duration
	for round := range 2 { // the first finds no connections; the second reuses them
		id := fmt.Sprintf("PFAN%d", round)
		seed(f, id, "fleet")
		d := webhookFor(b, f, id)
		start := time.Now()
		post(f, d)
		note[round] = waitBotNote(ctx, b, f, id).Sub(start)
		slowest[round] = slowestHost(b, f, id)
	}
	conns := sampler() // before the bare ssh -J runs add their own
	seq := sequentialSSH(b, f, "sleep 1; uptime")
	b.ReportMetric(note[1].Seconds(), "note-s")
	b.ReportMetric(slowest[1].Seconds(), "slowest-host-s")
	b.ReportMetric(note[1].Seconds()/slowest[1].Seconds(), "note/slowest")
	b.ReportMetric(seq.Seconds(), "sequential-ssh-J-s")
	b.ReportMetric(seq.Seconds()/note[1].Seconds(), "speedup-vs-ssh-J")
	b.ReportMetric(float64(conns), "bastion-conns-max")
	b.ReportMetric(float64(f.Workers[0].PeakRSS())/(1<<20), "worker-peak-rss-MB")
	b.Logf("%d hosts: first run note %v (slowest host %v), second run note %v (slowest host %v), %d sequential ssh -J %v",
		*fanoutHosts, note[0].Round(time.Millisecond), slowest[0].Round(time.Millisecond),
		note[1].Round(time.Millisecond), slowest[1].Round(time.Millisecond), *fanoutHosts, seq.Round(time.Millisecond))
}

// slowestHost reads every host's result.json from the evidence and returns the longest step.
func slowestHost(tb testing.TB, f *fleet.Fleet, id string) time.Duration {
	var slowest time.Duration
	hosts := 0
	err := filepath.WalkDir(evidenceDir(f, id), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "result.json" {
			return err
		}
		var r struct{ Started, Finished time.Time }
		b, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		hosts++
		slowest = max(slowest, r.Finished.Sub(r.Started))
		return err
	})
	if err != nil || hosts != *fanoutHosts {
		tb.Fatalf("evidence of %s: %d hosts, %v", id, hosts, err)
	}
	return slowest
}

// sequentialSSH runs cmd on every target, one after the other, with OpenSSH through the
// bastion: what a responder's loop over the hosts would take.
func sequentialSSH(tb testing.TB, f *fleet.Fleet, cmd string) time.Duration {
	cfg := f.Bed.SSHConfig(tb)
	start := time.Now()
	for _, t := range f.Bed.Targets {
		if out, err := exec.Command("ssh", "-F", cfg, t.Name, cmd).CombinedOutput(); err != nil {
			tb.Fatalf("ssh -J %s: %v\n%s", t.Name, err, out)
		}
	}
	return time.Since(start)
}

// BenchmarkColdStart measures the first incident after a worker starts (no SSH connection
// yet) against a bare `ssh -J` of the same command, five times each. Run with -benchtime 1x.
func BenchmarkColdStart(b *testing.B) {
	for range b.N {
		f := fleet.Start(b, bins, fleet.Options{Workers: 1, Targets: 1,
			Runbooks: runbooks(map[string]string{"diag": diagRunbook})})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		var alaya, ssh []time.Duration
		cfg := f.Bed.SSHConfig(b)
		for i := range 5 {
			f.Workers[0].Stop()
			f.Workers[0].Start()
			id := fmt.Sprintf("PCOLD%d", i)
			seed(f, id, "target-1")
			d := webhookFor(b, f, id)
			start := time.Now()
			post(f, d)
			alaya = append(alaya, waitBotNote(ctx, b, f, id).Sub(start))
			start = time.Now()
			if out, err := exec.Command("ssh", "-F", cfg, "target-1", "uptime; free -m; df -hP /").CombinedOutput(); err != nil {
				b.Fatalf("ssh -J: %v\n%s", err, out)
			}
			ssh = append(ssh, time.Since(start))
		}
		cancel()
		a, s := quantile(sortDurations(alaya), 0.5), quantile(sortDurations(ssh), 0.5)
		b.ReportMetric(a, "first-note-p50-ms")
		b.ReportMetric(s, "ssh-J-p50-ms")
		b.ReportMetric(a/s, "ratio")
	}
}
