package webhook

import (
	"reflect"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/incident"
)

// FuzzDecodeAlertmanager feeds arbitrary bodies to the Alertmanager decoder (behind a bearer
// token, but a token is not a signature: the body is still outside input). It must not panic;
// an accepted notification must be a triggered or resolved event of an "am-" incident; and
// decoding is deterministic, since the event id is the stream's de-duplication key and the run
// ledger's: the same bytes must always give the same event. Seeds:
// testdata/fuzz/FuzzDecodeAlertmanager.
func FuzzDecodeAlertmanager(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := decodeAlertmanager(body)
		if err != nil {
			return
		}
		if !strings.HasPrefix(ev.ID, "am-") || !strings.HasPrefix(ev.Incident.ID, AlertmanagerIncidentPrefix) {
			t.Fatalf("ids %q / %q lack the am- prefix", ev.ID, ev.Incident.ID)
		}
		if ev.Type != incident.TypeTriggered && ev.Type != incident.TypeResolved {
			t.Fatalf("type %q", ev.Type)
		}
		again, err := decodeAlertmanager(body)
		if err != nil || !reflect.DeepEqual(ev, again) {
			t.Fatalf("decoding twice differs: %+v then %+v (%v)", ev, again, err)
		}
	})
}
