package chaos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/pdstandin"
	"github.com/alaya-sre/alaya/internal/testenv/fleet"
)

// tally is what one scenario did, for the table in docs/RELIABILITY.md.
type tally struct {
	runs, lost, duplicatedActions, unreportedUnknowns, duplicateNotes, outOfOrder int
}

func (t tally) String() string {
	return fmt.Sprintf("runs %d, lost %d, duplicated actions %d, unreported unknowns %d, duplicate notes %d, out of order %d",
		t.runs, t.lost, t.duplicatedActions, t.unreportedUnknowns, t.duplicateNotes, t.outOfOrder)
}

var unknownRe = regexp.MustCompile(`(?i)unknown`)

// check waits until every incident has Alaya's final note (or ctx ends) and then verifies,
// on the hosts and on the incidents:
//   - every incident triggered (each delivery answered 202) got exactly one run, which ended
//     with a final note;
//   - no system-changing step ran twice on a host;
//   - restart never started on a host whose drain had not ended there;
//   - a change that started and never ended (its session was cut) is reported unknown;
//   - a host reported ok had both changes start and end;
//   - no note was posted twice.
func (w *world) check(ctx context.Context) tally {
	w.t.Helper()
	var t tally
	finals := map[string]pdstandin.Note{}
	for _, id := range w.incidents {
		t.runs++
		fin, err := w.waitNote(ctx, id, isFinal)
		if err != nil {
			t.lost++
			w.t.Errorf("%s: no final note: %v\n%snotes:\n%s", id, err, w.refused(id), dump(w.f.PD.Notes(id)))
			continue
		}
		finals[id] = fin
	}
	marks := w.marks() // every run has ended: no step is still writing
	for id, fin := range finals {
		w.checkIncident(id, fin, marks, &t)
	}
	return t
}

func (w *world) checkIncident(id string, fin pdstandin.Note, marks []mark, t *tally) {
	notes := w.f.PD.Notes(id)
	seen, finals := map[string]bool{}, 0
	for _, n := range notes {
		if n.User.ID != "PBOT001" {
			continue
		}
		if seen[n.Content] {
			t.duplicateNotes++
			w.t.Errorf("%s: note posted twice:\n%s", id, n.Content)
		}
		seen[n.Content] = true
		if isFinal(n) {
			finals++
		}
	}
	if finals > 1 {
		w.t.Errorf("%s: %d final notes: more than one run, or a result told twice\n%s", id, finals, dump(notes))
	}
	starts, ends := map[string]int{}, map[string]int{}
	order := []string{}
	for _, m := range marks {
		if m.incident != id {
			continue
		}
		if m.phase == "start" {
			starts[m.step]++
			order = append(order, m.step)
		} else {
			ends[m.step]++
		}
	}
	for step, n := range starts {
		if n > 1 {
			t.duplicatedActions++
			w.t.Errorf("%s: %s ran %d times on the host", id, step, n)
		}
		if ends[step] == 0 && !unknownRe.MatchString(fin.Content) {
			t.unreportedUnknowns++
			w.t.Errorf("%s: %s was cut on the host but the final note does not say unknown:\n%s", id, step, fin.Content)
		}
	}
	if starts["restart"] > 0 && ends["drain"] == 0 {
		t.outOfOrder++
		w.t.Errorf("%s: restart started on a host whose drain never ended (order %v)", id, order)
	}
	if strings.Contains(fin.Content, "1/1 hosts ok") && (ends["drain"] != 1 || ends["restart"] != 1) {
		t.unreportedUnknowns++
		w.t.Errorf("%s: reported ok, but the host saw drain end %d and restart end %d times:\n%s", id, ends["drain"], ends["restart"], fin.Content)
	}
}

// refused lists the incident's webhooks that the receiver never accepted, all retries spent:
// an approval among them explains a run parked at its gate.
func (w *world) refused(id string) string {
	var sb strings.Builder
	for _, d := range w.f.PD.Deliveries() {
		if !d.Done && bytes.Contains(d.Body, []byte(`"`+id+`"`)) {
			fmt.Fprintf(&sb, "webhook %s %s refused after %d attempts: %s\n", d.EventType, d.EventID, d.Attempts, d.Err)
		}
	}
	return sb.String()
}

func dump(notes []pdstandin.Note) string {
	var sb strings.Builder
	for _, n := range notes {
		fmt.Fprintf(&sb, "--- %s (%s)\n%s\n", n.User.Summary, n.CreatedAt.Format(time.TimeOnly), n.Content)
	}
	return sb.String()
}

// fleetState is the configuration of the stream, its consumers and every bucket, and the
// content of the fleet switches: what no scenario and no operator command may change.
func fleetState(f *fleet.Fleet) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		// Each attempt has its own deadline: a request to a node that has just restarted can
		// go unanswered, and one such request must not use up the whole minute.
		actx, acancel := context.WithTimeout(ctx, 10*time.Second)
		state, err := readFleetState(actx, f)
		acancel()
		// A node that has just restarted may answer before it caught up: an empty listing
		// is asked again, not taken for a fleet without a stream.
		if err == nil && strings.Contains(state, `"stream `) {
			return state, nil
		}
		select {
		case <-ctx.Done():
			return state, fmt.Errorf("fleet state: %v (last error %v)", ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}

func readFleetState(ctx context.Context, f *fleet.Fleet) (string, error) {
	nc, err := nats.Connect(strings.Join(f.NATS.URLs(), ","), nats.MaxReconnects(-1))
	if err != nil {
		return "", err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return "", err
	}
	state := map[string]any{}
	if err := readStreams(ctx, js, state); err != nil {
		return "", err
	}
	if err := readSwitches(ctx, js, state); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(state, "", "  ")
	return string(b), err
}

// readStreams adds every stream's and durable consumer's configuration to state. A listing
// cut short is an error, not a smaller fleet.
func readStreams(ctx context.Context, js jetstream.JetStream, state map[string]any) error {
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		s, err := js.Stream(ctx, name)
		if err != nil {
			return fmt.Errorf("stream %s: %w", name, err)
		}
		state["stream "+name] = s.CachedInfo().Config
		consumers := s.ListConsumers(ctx)
		for c := range consumers.Info() {
			if c.Config.Durable != "" { // ephemeral ones are watchers that come and go
				state["consumer "+name+"/"+c.Name] = c.Config
			}
		}
		if err := consumers.Err(); err != nil {
			return fmt.Errorf("consumers of %s: %w", name, err)
		}
	}
	if err := names.Err(); err != nil {
		return fmt.Errorf("stream names: %w", err)
	}
	return nil
}

// readSwitches adds the content of every bucket's fleet switches to state.
func readSwitches(ctx context.Context, js jetstream.JetStream, state map[string]any) error {
	buckets := js.KeyValueStoreNames(ctx)
	for name := range buckets.Name() {
		kv, err := js.KeyValue(ctx, name)
		if err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
		keys, err := kv.ListKeysFiltered(ctx, "switch.>", "switches.>")
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			continue
		} else if err != nil {
			return fmt.Errorf("switches in %s: %w", name, err)
		}
		for k := range keys.Keys() {
			e, err := kv.Get(ctx, k)
			if err != nil {
				return fmt.Errorf("switch %s/%s: %w", name, k, err)
			}
			state["switch "+name+"/"+k] = string(e.Value())
		}
		if ctx.Err() != nil { // the key listing ends early, without an error, when ctx does
			return fmt.Errorf("switches in %s: %w", name, ctx.Err())
		}
	}
	if err := buckets.Error(); err != nil {
		return fmt.Errorf("bucket names: %w", err)
	}
	return nil
}
