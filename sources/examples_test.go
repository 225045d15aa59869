package sources

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/incident"
)

const examplesDir = "../examples/sources"

func loadExamples(t testing.TB) *Set {
	t.Helper()
	set, err := LoadDir(examplesDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func decodeFile(t *testing.T, set *Set, source, file string) (*incident.Event, error) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(examplesDir, source, file))
	if err != nil {
		t.Fatal(err)
	}
	return set.Get(source).Decode(body)
}

// TestShippedSources decodes each shipped source's recorded bodies into the incidents a
// responder would expect. (The goldens of `alaya test` hold every field; this states the
// facts that matter.)
func TestShippedSources(t *testing.T) {
	set := loadExamples(t)
	cases := []struct {
		source, body                      string
		typ, incident, service, host, sev string
		title                             string
	}{
		{"mackerel", "disk-critical/body.json", incident.TypeTriggered, "src-mackerel-3kT9vRb2Xya", "orders-db", "db-1", "critical",
			"Disk usage /var/lib/postgresql is critical on db-1"},
		{"mackerel", "disk-ok/body.json", incident.TypeResolved, "src-mackerel-3kT9vRb2Xya", "orders-db", "db-1", "ok",
			"Disk usage /var/lib/postgresql is ok on db-1"},
		{"opsgenie", "unit-failed/body.json", incident.TypeTriggered, "src-opsgenie-9b2e4d71-3c5a-4f8e-b6d0-71a8c2e5f493", "storefront", "web-1", "P1",
			"nginx.service failed on web-1"},
		{"opsgenie", "closed/body.json", incident.TypeResolved, "src-opsgenie-9b2e4d71-3c5a-4f8e-b6d0-71a8c2e5f493", "storefront", "web-1", "P1",
			"nginx.service failed on web-1"},
		{"grafana", "http-5xx-firing/body.json", incident.TypeTriggered, "", "storefront", "web-1", "critical",
			"Storefront 5xx error rate above 5% on web-1"},
		{"grafana", "http-5xx-resolved/body.json", incident.TypeResolved, "", "storefront", "web-1", "critical",
			"Storefront 5xx error rate above 5% on web-1"},
	}
	ids := map[string]string{}
	for _, c := range cases {
		t.Run(c.source+"/"+c.body, func(t *testing.T) {
			ev, err := decodeFile(t, set, c.source, c.body)
			if err != nil {
				t.Fatal(err)
			}
			inc := &ev.Incident
			if c.incident == "" {
				c.incident = inc.ID // a hashed group key: checked for stability below
			}
			a := inc.Alerts[0]
			got := []string{ev.Type, inc.ID, inc.Service.Summary, a.Details["host"].(string), a.Severity, inc.Title, ev.Source}
			want := []string{c.typ, c.incident, c.service, c.host, c.sev, c.title, c.source}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("field %d: got %q, want %q", i, got[i], want[i])
				}
			}
			if !strings.HasPrefix(ev.ID, IncidentPrefix+c.source+"-") || ev.OccurredAt.IsZero() {
				t.Errorf("event id %q at %v", ev.ID, ev.OccurredAt)
			}
			if prev, ok := ids[c.source]; ok && prev != inc.ID {
				t.Errorf("the %s bodies about one alert gave two incidents: %s and %s", c.source, prev, inc.ID)
			}
			ids[c.source] = inc.ID
		})
	}
	t.Run("a grafana group is one incident with an alert per host", func(t *testing.T) {
		ev, err := decodeFile(t, set, "grafana", "http-5xx-two-hosts/body.json")
		if err != nil {
			t.Fatal(err)
		}
		var hosts []string
		for _, a := range ev.Incident.Alerts {
			hosts = append(hosts, a.Details["host"].(string)+"/"+a.ID+"/"+a.Status)
		}
		if got := strings.Join(hosts, " "); got != "web-1/7c3e91a04b5f28d6/triggered web-2/2b8d04f7e19c6a35/triggered" {
			t.Errorf("alerts %s", got)
		}
	})
	t.Run("opsgenie notes are ignored", func(t *testing.T) {
		if _, err := decodeFile(t, set, "opsgenie", "note-added/body.json"); !errors.Is(err, ErrIgnored) {
			t.Fatalf("err %v, want ErrIgnored", err)
		}
	})
}

// TestDecodeRefusals: a body the mapping cannot take is refused with the field that failed,
// never turned into a half-empty incident.
func TestDecodeRefusals(t *testing.T) {
	set := loadExamples(t)
	cases := []struct{ source, body, want string }{
		{"mackerel", `{"event": "alert"}`, "mapping.id: "},
		{"mackerel", `{"alert": {"id": "", "status": "critical"}}`, "must not be empty"},
		{"opsgenie", `{"action": "Create", "alert": {"alertId": "a1", "message": ["x"]}}`, "mapping.title: expected a string, found a list"},
		{"grafana", `{"groupKey": "g", "status": "firing", "alerts": []}`, "mapping.occurred_at: "},
		{"grafana", `null`, "expected a JSON object"},
		{"grafana", `{"groupKey": "g", "status": "firing", "alerts": [{"fingerprint": "", "startsAt": "2026-01-01T00:00:00Z"}]}`, "mapping.alert.id (alert 1) must not be empty"},
		{"grafana", `{"groupKey": "g", "status": "firing", "alerts": {"a": 1}}`, "mapping."},
		{"grafana", `{} {}`, "more than one JSON value"},
	}
	for _, c := range cases {
		t.Run(c.source+" "+c.body, func(t *testing.T) {
			ev, err := set.Get(c.source).Decode([]byte(c.body))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("event %+v, error %v; want an error containing %q", ev, err, c.want)
			}
		})
	}
}
