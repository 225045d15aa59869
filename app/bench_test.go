package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// BenchmarkDiagnosticLatency measures, on the namespace test bed and in one run, the time from
// a PagerDuty webhook request to the note being accepted by the PagerDuty stand-in (one
// diagnostic command on one target through the bastion), next to the time of a bare
// `ssh -J bastion target 'uname -a; uptime'`. Run with -benchtime=50x; see docs/PERFORMANCE.md.
func BenchmarkDiagnosticLatency(b *testing.B) {
	h := newHarness(b)
	cfg := h.bed.SSHConfig(b)
	b.Run("alaya_webhook_to_note", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			id := fmt.Sprintf("PBENCH%d%05d", b.N, i)
			h.seed(id, "target-1")
			body, hdr := webhook(b, id, "ev-"+id, "High load on target-1", webhookSecret)
			start := time.Now()
			if code, resp := h.post(body, hdr); code != http.StatusAccepted {
				b.Fatalf("webhook: %d %s", code, resp)
			}
			h.waitNotes(context.Background(), id, 1)
			lat = append(lat, time.Since(start))
		}
		reportLatency(b, lat)
	})
	b.Run("ssh_J_uname_uptime", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			start := time.Now()
			out, err := exec.Command("ssh", "-F", cfg, h.bed.Target().Name, "uname -a; uptime").CombinedOutput()
			if err != nil {
				b.Fatalf("ssh -J: %v\n%s", err, out)
			}
			lat = append(lat, time.Since(start))
		}
		reportLatency(b, lat)
	})
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
}
