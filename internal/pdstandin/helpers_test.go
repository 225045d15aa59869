package pdstandin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/pdstandin"
)

const token = "standin-token"

// api is a stand-in behind a real HTTP server, called with raw requests.
type api struct {
	pd  *pdstandin.Server
	url string
}

func newAPI(t *testing.T, opts ...pdstandin.Option) *api {
	t.Helper()
	s := pdstandin.New(append([]pdstandin.Option{pdstandin.WithToken(token)}, opts...)...)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Cleanup(s.Close)
	s.AddUser("PBOT001", "Alaya", "alaya@example.com")
	s.AddUser("PADA001", "Ada Okafor", "ada@example.com")
	return &api{pd: s, url: srv.URL}
}

// do sends a request with PagerDuty's usual headers; header pairs override or (with an empty
// value) remove them.
func (a *api) do(t *testing.T, method, path, body string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), method, a.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Token token="+token)
	req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %q", method, path, raw)
	}
	return resp, out
}

func (a *api) seed(t *testing.T, alerts int) string {
	t.Helper()
	inc := incident.Incident{
		Title:            "Disk full on app-3",
		Key:              "disk/app-3",
		Service:          incident.Ref{ID: "PSVC001", Summary: "Checkout"},
		EscalationPolicy: incident.Ref{ID: "PEP0001", Summary: "Checkout on-call"},
		Assignees:        []incident.Ref{{ID: "PADA001", Summary: "Ada Okafor"}},
	}
	for i := range alerts {
		inc.Alerts = append(inc.Alerts, incident.Alert{Summary: "disk", Details: map[string]any{"host": "app-" + string(rune('a'+i%26))}})
	}
	return a.pd.AddIncident(inc)
}

// errorObject returns the body's PagerDuty error object, failing if it has none.
func errorObject(t *testing.T, body map[string]any) (message string, code int, errs []any) {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Fatalf("body %v has no error object", body)
	}
	msg, _ := e["message"].(string)
	c, _ := e["code"].(float64)
	errs, _ = e["errors"].([]any)
	return msg, int(c), errs
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}
