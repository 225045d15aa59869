package pdstandin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/pdstandin"
)

func TestAuthentication(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"api token", "Token token=" + token, http.StatusOK},
		{"oauth bearer", "Bearer " + token, http.StatusOK},
		{"missing", "", http.StatusUnauthorized},
		{"wrong token", "Token token=nope", http.StatusUnauthorized},
		{"empty token", "Token token=", http.StatusUnauthorized},
		{"basic auth", "Basic dXNlcjpwYXNz", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t)
			resp, body := a.do(t, http.MethodGet, "/users/PBOT001", "", "Authorization", tt.header)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusUnauthorized {
				if msg, code, _ := errorObject(t, body); msg != "Unauthorized" || code != 2006 {
					t.Errorf("error = %q %d, want Unauthorized 2006", msg, code)
				}
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	a := newAPI(t)
	for _, path := range []string{"/incidents/PNOPE01", "/incidents/PNOPE01/alerts", "/users/PNOPE01", "/no/such/path"} {
		resp, body := a.do(t, http.MethodGet, path, "")
		msg, code, _ := errorObject(t, body)
		if resp.StatusCode != http.StatusNotFound || msg != "Not Found" || code != 2100 {
			t.Errorf("GET %s = %d %q %d, want 404 Not Found 2100", path, resp.StatusCode, msg, code)
		}
	}
}

func TestCreateNote(t *testing.T) {
	tests := []struct {
		name     string
		from     string
		content  string
		want     int
		wantText string
	}{
		{"posted as the From user", "alaya@example.com", "diagnostics", http.StatusOK, ""},
		{"From matched ignoring case", "ALAYA@Example.com", "diagnostics", http.StatusOK, ""},
		{"exactly the limit", "alaya@example.com", strings.Repeat("ü", 65535), http.StatusOK, ""},
		{"missing From", "", "diagnostics", http.StatusBadRequest, `"From" header`},
		{"From not a user", "stranger@example.com", "diagnostics", http.StatusBadRequest, "valid user"},
		{"empty content", "alaya@example.com", "", http.StatusBadRequest, "blank"},
		{"over the limit", "alaya@example.com", strings.Repeat("a", 65536), http.StatusBadRequest, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t)
			id := a.seed(t, 0)
			body := fmt.Sprintf(`{"note":{"content":%q}}`, tt.content)
			resp, got := a.do(t, http.MethodPost, "/incidents/"+id+"/notes", body, "From", tt.from)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d (%v)", resp.StatusCode, tt.want, got)
			}
			if tt.want != http.StatusOK {
				msg, code, errs := errorObject(t, got)
				if msg != "Invalid Input Provided" || code != 2001 || len(errs) != 1 || !strings.Contains(errs[0].(string), tt.wantText) {
					t.Errorf("error = %q %d %v, want 2001 mentioning %q", msg, code, errs, tt.wantText)
				}
				if n := len(a.pd.Notes(id)); n != 0 {
					t.Errorf("%d notes stored after a refusal", n)
				}
				return
			}
			note := got["note"].(map[string]any)
			user := note["user"].(map[string]any)
			if note["content"] != tt.content || user["id"] != "PBOT001" || user["type"] != "user_reference" {
				t.Errorf("note = %v", note)
			}
			if stored := a.pd.Notes(id); len(stored) != 1 || stored[0].ID != note["id"] || stored[0].User.Summary != "Alaya" {
				t.Errorf("stored = %+v", stored)
			}
		})
	}
}

func TestCreateNoteRejectsBadJSON(t *testing.T) {
	a := newAPI(t)
	resp, body := a.do(t, http.MethodPost, "/incidents/"+a.seed(t, 0)+"/notes", "{", "From", "alaya@example.com")
	if _, code, _ := errorObject(t, body); resp.StatusCode != 400 || code != 2001 {
		t.Fatalf("status %d code %d, want 400 2001", resp.StatusCode, code)
	}
}

func TestFailNext(t *testing.T) {
	tests := []struct {
		name     string
		pattern  string
		status   int
		wantCode int
		wantMsg  string
	}{
		{"rate limited", "/users/PBOT001", 429, 2020, "Rate Limit Exceeded"},
		{"server error on any path", "*", 500, 0, "Internal Server Error"},
		{"forbidden by prefix", "/users/*", 403, 2010, "Access Denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t, pdstandin.WithRateLimitReset(7))
			a.pd.FailNext(tt.pattern, tt.status, 2)
			for i := range 2 {
				resp, body := a.do(t, http.MethodGet, "/users/PBOT001", "")
				msg, code, _ := errorObject(t, body)
				if resp.StatusCode != tt.status || code != tt.wantCode || msg != tt.wantMsg {
					t.Fatalf("try %d: %d %q %d, want %d %q %d", i, resp.StatusCode, msg, code, tt.status, tt.wantMsg, tt.wantCode)
				}
				if tt.status == 429 && resp.Header.Get("ratelimit-reset") != "7" {
					t.Errorf("ratelimit-reset = %q, want 7", resp.Header.Get("ratelimit-reset"))
				}
			}
			if resp, _ := a.do(t, http.MethodGet, "/users/PBOT001", ""); resp.StatusCode != 200 {
				t.Errorf("third request = %d, want 200 once the failures are used up", resp.StatusCode)
			}
		})
	}
}

func TestFailFor(t *testing.T) {
	a := newAPI(t)
	a.pd.FailFor("/users/*", http.StatusServiceUnavailable, time.Hour)
	a.pd.FailFor("/oncalls", http.StatusTooManyRequests, -time.Second) // already over
	for range 3 {
		if resp, _ := a.do(t, http.MethodGet, "/users/PBOT001", ""); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("during the outage: %d, want 503 every time", resp.StatusCode)
		}
	}
	if resp, _ := a.do(t, http.MethodGet, "/oncalls", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("after the outage: %d, want 200", resp.StatusCode)
	}
}

func TestFailNextDropsConnection(t *testing.T) {
	a := newAPI(t)
	a.pd.FailNext("/users/PBOT001", 0, 1)
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodGet, a.url+"/users/PBOT001", nil)
	req.Header.Set("Authorization", "Token token="+token)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want a failed request", resp.StatusCode)
	}
	reqs := a.pd.Requests()
	if len(reqs) != 1 || reqs[0].Status != 0 {
		t.Errorf("requests = %+v, want one without status", reqs)
	}
}

func TestRequestsRecorded(t *testing.T) {
	a := newAPI(t)
	id := a.seed(t, 0)
	a.do(t, http.MethodPost, "/incidents/"+id+"/notes", `{"note":{"content":"x"}}`, "From", "alaya@example.com", "User-Agent", "alaya/1")
	a.do(t, http.MethodGet, "/incidents/"+id, "", "Authorization", "")
	reqs := a.pd.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	first, second := reqs[0], reqs[1]
	if first.Method != "POST" || first.From != "alaya@example.com" || first.UserAgent != "alaya/1" || !first.Authorized || first.Status != 200 {
		t.Errorf("first = %+v", first)
	}
	if second.Authorized || second.Status != 401 {
		t.Errorf("second = %+v, want unauthorized 401", second)
	}
}

func TestWaitNotes(t *testing.T) {
	a := newAPI(t)
	id := a.seed(t, 0)
	done := make(chan error, 1)
	go func() {
		notes, err := a.pd.WaitNotes(ctx(t), id, 2)
		if err == nil && len(notes) < 2 {
			err = fmt.Errorf("%d notes", len(notes))
		}
		done <- err
	}()
	for _, c := range []string{"one", "two"} {
		if _, err := a.pd.AddNoteAs(id, "PADA001", c); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("WaitNotes: %v", err)
	}

	short, cancel := context.WithTimeout(ctx(t), 10*time.Millisecond)
	defer cancel()
	notes, err := a.pd.WaitNotes(short, id, 3)
	if !errors.Is(err, context.DeadlineExceeded) || len(notes) != 2 {
		t.Errorf("WaitNotes(3) = %d notes, %v; want the 2 and DeadlineExceeded", len(notes), err)
	}
}

func TestAddNoteAsRefusesUnknowns(t *testing.T) {
	a := newAPI(t)
	id := a.seed(t, 0)
	if _, err := a.pd.AddNoteAs("PNOPE01", "PADA001", "x"); err == nil {
		t.Error("note on unknown incident accepted")
	}
	if _, err := a.pd.AddNoteAs(id, "PNOPE01", "x"); err == nil {
		t.Error("note by unknown user accepted")
	}
}
