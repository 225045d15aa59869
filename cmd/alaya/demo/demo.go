// Package demo runs Alaya's whole loop on one machine with nothing but Go: an embedded NATS
// JetStream, the receiver and the worker (the same code the daemons run), and the PagerDuty
// stand-in, which triggers a sample incident and delivers it as a signed V3 webhook to the
// real endpoint. The worker fetches the incident's alerts from the stand-in through the real
// go-pagerduty client, runs a sample runbook against a local target, stores the evidence in a
// directory and posts its note back. It exists so a newcomer sees the product work in seconds.
package demo

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/pdstandin"
)

//go:embed files
var files embed.FS

// Options say where the demo keeps its files and where it talks.
type Options struct {
	Dir     string        // created if missing; each run gets its own subdirectory
	Out     io.Writer     // the story of the run
	Log     io.Writer     // JSON logs of the receiver and worker
	Timeout time.Duration // for the whole run
}

// Result is what a run produced, for tests.
type Result struct {
	Dir      string
	Incident string
	Note     string   // the first note: diagnostics and the proposed plan
	Notes    []string // every note on the incident, in order
	Evidence string   // directory holding the run's evidence
}

const (
	pdToken  = "demo-token"
	botEmail = "alaya-bot@demo.example"
)

// Run performs the demo and returns when the note has been posted.
func Run(ctx context.Context, opt Options) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	base, err := filepath.Abs(opt.Dir)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	dir := filepath.Join(base, time.Now().UTC().Format("20060102-150405.000"))
	if err := writeFiles(dir); err != nil {
		return nil, err
	}
	pd := pdstandin.New(pdstandin.WithToken(pdToken))
	pdURL, err := pd.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: pagerduty stand-in: %w", err)
	}
	defer pd.Close()
	pd.AddUser("PBOTDEMO", "Alaya", botEmail)
	pd.AddUser("PDANA01", "Dana Oncall", "dana@demo.example")
	pd.SetOnCall("PEPDEMO", "PDANA01")

	sys, err := startSystem(ctx, dir, pdURL, opt.Log)
	if err != nil {
		return nil, err
	}
	defer sys.stop()
	fmt.Fprintf(opt.Out, "Alaya demo: NATS JetStream, receiver, worker and a PagerDuty stand-in, all in this process.\n")
	fmt.Fprintf(opt.Out, "  receiver  %s/v1/webhooks/pagerduty\n  worker    %s/metrics\n  files     %s\n\n", sys.receiver, sys.worker, dir)

	pd.Subscribe(sys.receiver+"/v1/webhooks/pagerduty", sys.secret)
	start := time.Now()
	id := pd.Trigger(sampleIncident())
	fmt.Fprintf(opt.Out, "→ PagerDuty (stand-in) triggered incident %s and sent a signed V3 webhook to the receiver\n", id)
	notes, err := pd.WaitNotes(ctx, id, 1)
	if err != nil {
		return nil, fmt.Errorf("demo: no note on the incident (logs: %s): %w", filepath.Join(dir, "alaya.log"), err)
	}
	if d := pd.Deliveries(); len(d) > 0 {
		fmt.Fprintf(opt.Out, "→ the receiver answered %d once JetStream had the event\n", d[0].Status)
	}
	fmt.Fprintf(opt.Out, "→ the worker ran runbook host-basics on demo-app-1 and posted this note after %s:\n\n",
		time.Since(start).Round(time.Millisecond))
	printNote(opt.Out, notes[0].Content)
	if err := approveAndWait(ctx, opt.Out, pd, id, notes[0].Content); err != nil {
		return nil, err
	}
	ev := filepath.Join(dir, "evidence", "incidents", id)
	fmt.Fprintf(opt.Out, "\nEvidence: %s (manifest.json holds the SHA-256 of every object)\n", ev)
	fmt.Fprintf(opt.Out, "Logs:     %s\n", filepath.Join(dir, "alaya.log"))
	return &Result{Dir: dir, Incident: id, Note: notes[0].Content, Notes: contents(pd.Notes(id)), Evidence: ev}, nil
}

// sampleIncident is what an alerting pipeline would open: the alert names the host.
func sampleIncident() incident.Incident {
	return incident.Incident{
		Title: "High load on demo-app-1", Status: incident.StatusTriggered, Urgency: "high",
		Service:          incident.Ref{ID: "PSVCDEM", Summary: "checkout"},
		EscalationPolicy: incident.Ref{ID: "PEPDEMO", Summary: "Checkout on-call"},
		Assignees:        []incident.Ref{{ID: "PDANA01", Summary: "Dana Oncall"}},
		Alerts: []incident.Alert{{
			Summary: "load5 above 8 on demo-app-1", Status: "triggered", Severity: "critical",
			Details: map[string]any{"host": "demo-app-1", "load5": 9.3, "service": "checkout"},
		}},
	}
}

// writeFiles lays out the demo's inventory, runbook and a sample application log.
func writeFiles(dir string) error {
	appLog, state := filepath.Join(dir, "checkout.log"), filepath.Join(dir, "checkout.state")
	if err := os.MkdirAll(filepath.Join(dir, "runbooks"), 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	copies := map[string]string{"files/inventory.yaml": "inventory.yaml", "files/runbooks/host-basics.yaml": "runbooks/host-basics.yaml"}
	for src, dst := range copies {
		b, err := files.ReadFile(src)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		b = []byte(strings.NewReplacer("APP_LOG", yamlString(appLog), "STATE_FILE", yamlString(state)).Replace(string(b)))
		b = []byte(strings.ReplaceAll(string(b), "../../../../schema", "../../../schema"))
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	if err := os.WriteFile(state, []byte("running\n"), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return os.WriteFile(appLog, []byte(sampleLog()), 0o644)
}

// yamlString quotes a path as a YAML string, whatever characters the directory has.
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func sampleLog() string {
	now := time.Now().UTC()
	var b strings.Builder
	for i, msg := range []string{
		"INFO  request served path=/cart status=200 ms=41",
		"WARN  slow query table=orders ms=1840",
		"ERROR upstream timeout calling payments after 5000ms",
		"INFO  request served path=/cart status=200 ms=38",
		"ERROR java.lang.OutOfMemoryError: Java heap space in pool-3-thread-7",
		"ERROR upstream timeout calling payments after 5000ms",
	} {
		fmt.Fprintf(&b, "%s %s\n", now.Add(time.Duration(i-6)*time.Minute).Format(time.RFC3339), msg)
	}
	return b.String()
}

func randomSecret() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func listenLocal() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

var codeRe = regexp.MustCompile(`/alaya approve ([0-9A-Z]{6})`)

// approveAndWait plays the on-call responder: approve the proposed plan from the incident with
// a note, which PagerDuty (the stand-in) delivers to the receiver as a signed
// incident.annotated webhook; then show what Alaya reported.
func approveAndWait(ctx context.Context, out io.Writer, pd *pdstandin.Server, id, planNote string) error {
	m := codeRe.FindStringSubmatch(planNote)
	if m == nil {
		return fmt.Errorf("demo: the note proposes no plan to approve")
	}
	fmt.Fprintf(out, "\n→ Dana, on call, approves from the incident with the note: /alaya approve %s\n", m[1])
	if _, err := pd.AddNoteAs(id, "PDANA01", "/alaya approve "+m[1]); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// Alaya's plan note, Dana's note, "approved, executing", and the final report.
	notes, err := pd.WaitNotes(ctx, id, 4)
	if err != nil {
		return fmt.Errorf("demo: the approved plan did not finish: %w", err)
	}
	fmt.Fprintf(out, "→ Alaya checked Dana is on call, the code and the plan hash, ran the restart and reported:\n\n")
	for _, n := range notes[2:] {
		printNote(out, n.Content)
		fmt.Fprintln(out)
	}
	return nil
}

func printNote(out io.Writer, content string) {
	for _, line := range strings.Split(content, "\n") {
		fmt.Fprintf(out, "    │ %s\n", line)
	}
}

func contents(notes []pdstandin.Note) []string {
	out := make([]string, len(notes))
	for i, n := range notes {
		out[i] = n.Content
	}
	return out
}
