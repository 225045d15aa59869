package sources

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/alaya-sre/alaya/incident"
)

// FuzzDecode feeds arbitrary bodies to the shipped mappings (which picks the source). For any
// body: no panic; either an error, ErrIgnored, or an event that is whole: ids made by Alaya
// with the source's prefix, a status from the model with its event type, 1 to maxAlerts alerts, and text
// within the limits. Seeds: testdata/fuzz/FuzzDecode (the recorded example bodies and bodies
// of the wrong shape).
func FuzzDecode(f *testing.F) {
	set := loadExamples(f)
	srcs := set.Sources()
	f.Add(uint8(0), []byte(`{"alert": {"id": "x", "status": "critical", "isOpen": true}}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		s := srcs[int(which)%len(srcs)]
		ev, err := s.Decode(body)
		if err != nil {
			if ev != nil {
				t.Fatalf("an event with an error: %v", err)
			}
			if !errors.Is(err, ErrIgnored) && !utf8.ValidString(err.Error()) && utf8.Valid(body) {
				t.Fatalf("error is not text: %q", err)
			}
			return
		}
		checkEvent(t, s, ev)
	})
}

func checkEvent(t *testing.T, s *Source, ev *incident.Event) {
	t.Helper()
	inc := &ev.Incident
	prefix := IncidentPrefix + s.Name + "-"
	switch {
	case !strings.HasPrefix(ev.ID, prefix) || len(ev.ID) != len(prefix)+32:
		t.Fatalf("event id %q", ev.ID)
	case !strings.HasPrefix(inc.ID, prefix) || len(inc.ID) > len(prefix)+64:
		t.Fatalf("incident id %q", inc.ID)
	case eventTypes[inc.Status] != ev.Type || ev.Type == "":
		t.Fatalf("status %q with event type %q", inc.Status, ev.Type)
	case len(inc.Alerts) < 1 || len(inc.Alerts) > maxAlerts || inc.Alerts[0].Details == nil:
		t.Fatalf("alerts %+v", inc.Alerts)
	case len(inc.Title) > maxTitle || inc.Key == "" || inc.Alerts[0].Key == "":
		t.Fatalf("title of %d bytes, key %q, dedup key %q", len(inc.Title), inc.Key, inc.Alerts[0].Key)
	case ev.Source != s.Name:
		t.Fatalf("source %q", ev.Source)
	}
}
