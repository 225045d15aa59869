package loadtest_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/testenv/fleet"
)

var (
	stormIncidents = flag.Int("storm.incidents", 1000, "incidents in the storm")
	stormWindow    = flag.Duration("storm.window", 10*time.Second, "the storm's webhooks are sent within this time")
	stormTargets   = flag.Int("storm.targets", 20, "hosts the incidents name, round robin")
	stormWorkers   = flag.String("storm.workers", "1,2,4", "worker process counts to compare")
	stormThreshold = flag.Int("storm.threshold", 50, "safety.storm_incidents: beyond this many incidents in 10 minutes, diagnostics only")
)

// stormRunbook diagnoses and then proposes a restart behind a gate: in storm mode Alaya must
// run the diagnostics and propose nothing.
const stormRunbook = diagRunbook + `  - name: approve
    gate: {}
  - name: restart
    restart: {service: app}
`

// BenchmarkStorm delivers an alert storm (1,000 incidents within 10 s, each a diagnostics
// runbook on one of 20 hosts) to the receiver as PagerDuty would, and reports how long until
// every incident carries its note, the webhook answer times during the storm, lost and
// duplicated runs, the workers' peak memory and their connections through the bastion. Run
// with -benchtime 1x; see docs/PERFORMANCE.md.
func BenchmarkStorm(b *testing.B) {
	for _, n := range strings.Split(*stormWorkers, ",") {
		var workers int
		fmt.Sscan(n, &workers)
		b.Run("workers="+n, func(b *testing.B) {
			for range b.N {
				storm(b, workers)
			}
		})
	}
}

func storm(b *testing.B, workers int) {
	f := fleet.Start(b, bins, fleet.Options{Workers: workers, Targets: *stormTargets,
		Runbooks: runbooks(map[string]string{"diag": stormRunbook}),
		Env:      map[string]string{"ALAYA_SAFETY_STORM_INCIDENTS": fmt.Sprint(*stormThreshold), "ALAYA_SAFETY_STORM_WINDOW": "10m"}})
	ids := make([]string, *stormIncidents)
	deliveries := make([]delivery, len(ids))
	for i := range ids {
		ids[i] = fmt.Sprintf("PST%05d", i)
		seed(f, ids[i], fmt.Sprintf("target-%d", i%*stormTargets+1))
		deliveries[i] = webhookFor(b, f, ids[i])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	sampler := sampleBastion(ctx, f)

	b.ResetTimer()
	start := time.Now()
	lat, codes := send(f, deliveries, *stormWindow)
	var last time.Time
	for _, id := range ids {
		if at := waitBotNote(ctx, b, f, id); at.After(last) {
			last = at
		}
	}
	drained := last.Sub(start)
	b.StopTimer()

	lost, dup, storm, proposed := 0, 0, 0, 0
	for _, id := range ids {
		notes := botNotes(f, id)
		switch {
		case len(notes) == 0:
			lost++
		case len(notes) > 1:
			dup++
		}
		for _, n := range notes {
			switch {
			case strings.Contains(n.Content, "storm mode"):
				storm++
			case strings.Contains(n.Content, "/alaya approve"):
				proposed++
			}
		}
	}
	var rss int64
	for _, w := range f.Workers {
		rss = max(rss, w.PeakRSS())
	}
	pdRequests := len(f.PD.Requests())
	streamBytes, kvBytes := jetStreamBytes(b, f)
	sorted := sortDurations(lat)
	b.ReportMetric(drained.Seconds(), "drain-s")
	b.ReportMetric(quantile(sorted, 0.50), "webhook-p50-ms")
	b.ReportMetric(quantile(sorted, 0.99), "webhook-p99-ms")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(dup), "duplicated")
	b.ReportMetric(float64(rss)/(1<<20), "worker-peak-rss-MB")
	b.ReportMetric(float64(sampler()), "bastion-conns-max")
	b.ReportMetric(float64(proposed), "proposed")
	b.ReportMetric(float64(pdRequests)/float64(len(ids)), "pd-requests/incident")
	b.ReportMetric(float64(streamBytes)/float64(len(ids)), "stream-B/incident")
	b.ReportMetric(float64(kvBytes)/float64(len(ids)), "kv-B/incident")
	b.Logf("workers=%d: %d incidents, answers %v, drained in %v, %d proposed an action, %d diagnostics only (storm mode), lost %d, duplicated %d",
		workers, len(ids), codes, drained.Round(time.Millisecond), proposed, storm, lost, dup)
	if lost > 0 || dup > 0 || codes[http.StatusAccepted] != len(ids) {
		b.Errorf("lost %d, duplicated %d, answers %v: every webhook must be accepted and annotated once", lost, dup, codes)
	}
	if want := min(*stormThreshold, len(ids)); proposed != want || storm != len(ids)-want {
		b.Errorf("%d proposals and %d storm notes, want %d and %d: storm mode must begin at the threshold", proposed, storm, want, len(ids)-want)
	}
}

// send posts the deliveries evenly spread over window, each on its own goroutine as
// PagerDuty's many senders would, and returns every answer's time and the status counts.
func send(f *fleet.Fleet, ds []delivery, window time.Duration) ([]time.Duration, map[int]int) {
	var mu sync.Mutex
	lat, codes := make([]time.Duration, 0, len(ds)), map[int]int{}
	var wg sync.WaitGroup
	every := window / time.Duration(len(ds))
	tick := time.NewTicker(max(every, time.Microsecond))
	defer tick.Stop()
	for _, d := range ds {
		<-tick.C
		wg.Go(func() {
			code, took := post(f, d)
			mu.Lock()
			lat, codes[code] = append(lat, took), codes[code]+1
			mu.Unlock()
		})
	}
	wg.Wait()
	return lat, codes
}

// sampleBastion counts the connections through the bastion every 100 ms and returns a func
// that stops counting and gives the highest count seen.
func sampleBastion(ctx context.Context, f *fleet.Fleet) func() int {
	ctx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	peak := 0
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if n, err := f.Bed.Connections(ctx, f.Bed.Bastion); err == nil {
				mu.Lock()
				peak = max(peak, n)
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() int { cancel(); mu.Lock(); defer mu.Unlock(); return peak }
}

// jetStreamBytes is what the storm left in JetStream: the event stream (webhooks, including
// the annotated events of Alaya's own notes) and every KV bucket (ledger, outbox, leases...).
func jetStreamBytes(tb testing.TB, f *fleet.Fleet) (stream, kv uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, err := nats.Connect(strings.Join(f.NATS.URLs(), ","))
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	for info := range js.ListStreams(ctx).Info() {
		if strings.HasPrefix(info.Config.Name, "KV_") {
			kv += info.State.Bytes
		} else {
			stream += info.State.Bytes
		}
	}
	return stream, kv
}
