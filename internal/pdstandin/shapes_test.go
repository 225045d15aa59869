package pdstandin_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// referenceDir holds answers in the shapes PagerDuty's REST API documents, with the
// project's own values.
const referenceDir = "testdata"

// webhookDir holds the project's webhook fixtures of every V3 event type.
const webhookDir = "../../pagerduty/testdata"

// TestShapesMatchReference checks that every field the stand-in sends exists, with the same
// JSON kind, in the documented shape of that answer: the stand-in may say less than
// PagerDuty, never something PagerDuty does not.
func TestShapesMatchReference(t *testing.T) {
	a := newAPI(t)
	id := a.seed(t, 1)
	a.pd.SetOnCall("PEP0001", "PADA001")
	a.pd.SetStatus(id, "acknowledged")
	tests := []struct {
		name, method, path, body, reference string
	}{
		{"get incident", "GET", "/incidents/" + id, "", "rest/get_incident.200.json"},
		{"create note", "POST", "/incidents/" + id + "/notes", `{"note":{"content":"x"}}`, "rest/create_incident_note.200.json"},
		{"list notes", "GET", "/incidents/" + id + "/notes", "", "rest/list_incident_notes.200.json"},
		{"get user", "GET", "/users/PADA001", "", "rest/get_user.200.json"},
		{"list on-calls", "GET", "/oncalls", "", "rest/list_oncalls.200.json"},
		{"rate limited", "GET", "/users/PADA001", "", "rest/error.429.rate_limited.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := loadReference(t, tt.reference)
			if tt.name == "rate limited" {
				a.pd.FailNext(tt.path, http.StatusTooManyRequests, 1)
			}
			_, got := a.do(t, tt.method, tt.path, tt.body, "From", "alaya@example.com")
			if extra := extraFields("", got, ref); len(extra) > 0 {
				t.Errorf("fields not in PagerDuty's sample: %s", strings.Join(extra, ", "))
			}
		})
	}
}

// extraFields lists the paths in got that ref lacks or holds with another JSON kind. Arrays
// are compared by their first elements; a null on either side matches anything.
func extraFields(path string, got, ref any) []string {
	if got == nil || ref == nil {
		return nil
	}
	switch g := got.(type) {
	case map[string]any:
		r, ok := ref.(map[string]any)
		if !ok {
			return []string{path + " (object)"}
		}
		var out []string
		for k, v := range g {
			rv, ok := r[k]
			if !ok {
				out = append(out, path+"."+k)
				continue
			}
			out = append(out, extraFields(path+"."+k, v, rv)...)
		}
		sort.Strings(out)
		return out
	case []any:
		r, ok := ref.([]any)
		if !ok {
			return []string{path + " (array)"}
		}
		if len(g) == 0 || len(r) == 0 {
			return nil
		}
		return extraFields(path+"[0]", g[0], r[0])
	}
	if kind(got) != kind(ref) {
		return []string{path + " (" + kind(got) + ", PagerDuty sends " + kind(ref) + ")"}
	}
	return nil
}

func kind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "other"
}

func loadReference(t *testing.T, name string) map[string]any {
	t.Helper()
	return loadJSON(t, filepath.Join(referenceDir, name))
}

func loadJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
