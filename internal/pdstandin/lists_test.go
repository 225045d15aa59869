package pdstandin_test

import (
	"fmt"
	"net/http"
	"testing"
)

func TestAlertsPages(t *testing.T) {
	tests := []struct {
		name       string
		alerts     int
		query      string
		wantLen    int
		wantMore   bool
		wantLimit  float64
		wantOffset float64
	}{
		{"default page of 25", 30, "", 25, true, 25, 0},
		{"second page", 30, "?limit=25&offset=25", 5, false, 25, 25},
		{"limit capped at 100", 150, "?limit=500", 100, true, 100, 0},
		{"offset past the end", 3, "?offset=10", 0, false, 25, 10},
		{"no alerts", 0, "", 0, false, 25, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t)
			id := a.seed(t, tt.alerts)
			resp, body := a.do(t, http.MethodGet, "/incidents/"+id+"/alerts"+tt.query, "")
			alerts, ok := body["alerts"].([]any)
			if resp.StatusCode != 200 || !ok {
				t.Fatalf("status %d body %v", resp.StatusCode, body)
			}
			if len(alerts) != tt.wantLen || body["more"] != tt.wantMore || body["limit"] != tt.wantLimit || body["offset"] != tt.wantOffset {
				t.Errorf("got %d alerts more=%v limit=%v offset=%v", len(alerts), body["more"], body["limit"], body["offset"])
			}
			if len(alerts) > 0 {
				b := alerts[0].(map[string]any)["body"].(map[string]any)
				if b["type"] != "alert_body" || b["details"].(map[string]any)["host"] == nil {
					t.Errorf("alert body = %v", b)
				}
			}
		})
	}
}

func TestOnCalls(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  []string // user@policy/level
	}{
		{"one policy", "?escalation_policy_ids[]=PEP0001", []string{"PADA001@PEP0001/1", "PBOT001@PEP0001/2"}},
		{"two policies", "?escalation_policy_ids[]=PEP0001&escalation_policy_ids[]=PEP0002", []string{"PADA001@PEP0001/1", "PBOT001@PEP0001/2", "PLIN002@PEP0002/1"}},
		{"by user", "?user_ids[]=PLIN002", []string{"PLIN002@PEP0002/1"}},
		{"unknown policy", "?escalation_policy_ids[]=PEP0404", nil},
		{"second page", "?limit=2&offset=2", []string{"PLIN002@PEP0002/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t)
			a.pd.SetOnCall("PEP0001", "PADA001")
			a.pd.SetOnCallLevel("PEP0001", 2, "PBOT001")
			a.pd.SetOnCall("PEP0002", "PLIN002")
			_, body := a.do(t, http.MethodGet, "/oncalls"+tt.query, "")
			var got []string
			for _, o := range body["oncalls"].([]any) {
				oc := o.(map[string]any)
				got = append(got, fmt.Sprintf("%s@%s/%v", oc["user"].(map[string]any)["id"], oc["escalation_policy"].(map[string]any)["id"], oc["escalation_level"]))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("on-calls = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUsersQuery(t *testing.T) {
	tests := []struct {
		query string
		want  int
	}{
		{"", 2},
		{"?query=ada%40example.com", 1},
		{"?query=ALAYA", 1},
		{"?query=nobody", 0},
	}
	for _, tt := range tests {
		t.Run("query"+tt.query, func(t *testing.T) {
			a := newAPI(t)
			_, body := a.do(t, http.MethodGet, "/users"+tt.query, "")
			if users := body["users"].([]any); len(users) != tt.want {
				t.Errorf("%d users, want %d", len(users), tt.want)
			}
		})
	}
}
