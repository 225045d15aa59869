package chaos_test

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/pdstandin"
	"github.com/alaya-sre/alaya/internal/testenv/fleet"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/safety"
)

// chaosRunbook diagnoses, waits for approval, then changes the host twice. Each change
// writes a start and an end mark into the host's action log and takes STEP in between, so
// the scenarios can hit a worker in the middle of it, and double execution is counted on the
// host itself.
const chaosRunbook = `name: chaos
owner: sre
match: any(alerts, .details.case == "chaos")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: look
    run: uptime
  - name: approve
    gate:
      expires: 30m
  - name: drain
    restart:
      service: drain
      command: MARK drain
      verify_command: "true"
  - name: restart
    restart:
      service: app
      command: MARK restart
      verify_command: "true"
`

// markCmd writes "alive" to the session before the end mark: if the worker running the step
// died or cut the session meanwhile, that write kills the shell (SIGPIPE) and the end mark is
// never written. A start without an end is therefore a change whose outcome Alaya cannot
// know, counted on the host.
const markCmd = `echo {{ incident.id }} STEP {{ host.name }} start >> LOG; sleep PAUSE; echo alive; echo {{ incident.id }} STEP {{ host.name }} end >> LOG`

// world is one fleet with the chaos runbook and what the scenarios did to it.
type world struct {
	t *testing.T
	f *fleet.Fleet

	mu        sync.Mutex
	seq       int
	incidents []string
}

// newWorld starts a fleet whose system-changing steps each take pause.
func newWorld(t *testing.T, workers int, pause time.Duration, env map[string]string) *world {
	w := &world{t: t}
	// The scenarios are about faults, not the fleet's brakes: a long run of rounds must not
	// reach storm mode (20 incidents a minute by default) or the hourly action cap.
	env = maps.Clone(env)
	if env == nil {
		env = map[string]string{}
	}
	env["ALAYA_SAFETY_STORM_INCIDENTS"], env["ALAYA_SAFETY_MAX_ACTIONS"] = "1000000", "1000000"
	w.f = fleet.Start(t, bins, fleet.Options{Workers: workers, Targets: 3, Env: env, KeepLogs: *keep,
		Runbooks: func(f *fleet.Fleet) map[string]string {
			mark := strings.NewReplacer("LOG", w.actionLog(f), "PAUSE", fmt.Sprintf("%.1f", pause.Seconds())).Replace(markCmd)
			return map[string]string{"chaos": strings.NewReplacer(
				"MARK drain", strings.ReplaceAll(mark, "STEP", "drain"),
				"MARK restart", strings.ReplaceAll(mark, "STEP", "restart")).Replace(chaosRunbook)}
		}})
	w.f.PD.AddUser("PNOTON1", "Sam Bystander", "sam@example.com")
	return w
}

func (w *world) actionLog(f *fleet.Fleet) string { return filepath.Join(f.HostDir, "actions.log") }

// trigger opens an incident whose alert names host and returns its id.
func (w *world) trigger(host string) string {
	w.mu.Lock()
	w.seq++
	id := fmt.Sprintf("PCH%04d", w.seq)
	w.incidents = append(w.incidents, id)
	w.mu.Unlock()
	w.f.PD.Trigger(incident.Incident{
		ID: id, Title: "chaos on " + host, Status: incident.StatusTriggered, Urgency: "high",
		Service:          incident.Ref{ID: "PSVC001", Summary: "checkout"},
		EscalationPolicy: incident.Ref{ID: fleet.Policy, Summary: "Checkout on-call"},
		Alerts: []incident.Alert{{ID: "A" + id, Summary: "chaos", Status: "triggered",
			Details: map[string]any{"host": host, "case": "chaos"}}},
	})
	return id
}

// chatter has a bystander comment on the round's incidents every half second until stop is
// called: each note is a webhook the receiver must queue and the workers must consume, so a
// fault meets a steady webhook load, not an idle fleet.
func (w *world) chatter() (stop func()) {
	w.mu.Lock()
	ids := slices.Clone(w.incidents)
	w.mu.Unlock()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if _, err := w.f.PD.AddNoteAs(ids[i%len(ids)], "PNOTON1", "still looking at it"); err != nil {
				w.t.Errorf("bystander note: %v", err)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

var codeRe = regexp.MustCompile(`/alaya approve ([0-9A-Z]{6})`)

// approve waits for the gate's note and approves it as the on-call, with a note.
func (w *world) approve(ctx context.Context, id string) error {
	note, err := w.waitNote(ctx, id, func(n pdstandin.Note) bool { return codeRe.MatchString(n.Content) || isFinal(n) })
	if err != nil {
		return fmt.Errorf("%s: no approval request: %w", id, err)
	}
	if !codeRe.MatchString(note.Content) {
		return fmt.Errorf("%s: the run ended without asking for approval:\n%s", id, note.Content)
	}
	code := codeRe.FindStringSubmatch(note.Content)[1]
	_, err = w.f.PD.AddNoteAs(id, fleet.OnCallID, "/alaya approve "+code)
	return err
}

// waitNote waits for a note by Alaya that satisfies ok.
func (w *world) waitNote(ctx context.Context, id string, ok func(pdstandin.Note) bool) (pdstandin.Note, error) {
	for seen := 0; ; {
		notes, err := w.f.PD.WaitNotes(ctx, id, seen+1)
		if err != nil {
			return pdstandin.Note{}, err
		}
		for _, n := range notes[seen:] {
			if n.User.ID == "PBOT001" && ok(n) {
				return n, nil
			}
		}
		seen = len(notes)
	}
}

// final is Alaya's last word on a run: the result note after the gate was passed.
var final = regexp.MustCompile(`(?m)^Alaya · chaos .*· (\d+/\d+ hosts ok|not run)`)

func isFinal(n pdstandin.Note) bool {
	return final.MatchString(n.Content) && !codeRe.MatchString(n.Content)
}

// mark is one line of a host's action log.
type mark struct{ incident, step, host, phase string }

func (w *world) marks() []mark {
	f, err := os.Open(w.actionLog(w.f))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		w.t.Fatal(err)
	}
	defer f.Close()
	var out []mark
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p := strings.Fields(sc.Text()); len(p) == 4 {
			out = append(out, mark{p[0], p[1], p[2], p[3]})
		}
	}
	return out
}

// clearHolds does what the on-call does after checking a host whose change ended unknown
// (`alaya holds clear HOST`), so the next round starts on hosts Alaya may change again. It
// returns how many hosts were held.
func (w *world) clearHolds() int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, err := nats.Connect(strings.Join(w.f.NATS.URLs(), ","))
	if err != nil {
		w.t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		w.t.Fatal(err)
	}
	runs, err := js.KeyValue(ctx, queue.BucketRuns)
	if err != nil {
		w.t.Fatal(err)
	}
	switches, err := js.KeyValue(ctx, queue.BucketSwitches)
	if err != nil {
		w.t.Fatal(err)
	}
	g := safety.New(nil, runs, switches)
	holds, err := g.Holds(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, h := range holds {
		if err := g.ClearHold(ctx, h.Host); err != nil {
			w.t.Fatal(err)
		}
	}
	return len(holds)
}
