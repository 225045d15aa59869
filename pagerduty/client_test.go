package pagerduty_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/alaya-sre/alaya/pagerduty"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		cfg     pagerduty.Config
		wantErr string
	}{
		{"complete", pagerduty.Config{Token: "t", From: "a@b.c"}, ""},
		{"no token", pagerduty.Config{From: "a@b.c"}, "token is required"},
		{"no from", pagerduty.Config{Token: "t"}, "from must be the email"},
		{"relative url", pagerduty.Config{Token: "t", From: "a@b.c", APIURL: "api.pagerduty.com"}, "absolute http(s) URL"},
		{"credentials in url", pagerduty.Config{Token: "t", From: "a@b.c", APIURL: "https://u:p@api.pagerduty.com"}, "without credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pagerduty.New(tt.cfg, nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestAddNotePostsAsFromUser(t *testing.T) {
	f := newFixture(t)
	id := f.addIncident(t)

	noteID, err := f.client.AddNote(testContext(t), id, "diagnostics: disk /var 98% on app-3")
	if err != nil {
		t.Fatalf("AddNote: %v", err)
	}
	notes := f.pd.Notes(id)
	if len(notes) != 1 || notes[0].ID != noteID || notes[0].Content != "diagnostics: disk /var 98% on app-3" {
		t.Fatalf("notes = %+v, want one with id %s", notes, noteID)
	}
	if notes[0].User.ID != "PBOT001" {
		t.Errorf("note author = %+v, want the From user PBOT001", notes[0].User)
	}
	reqs := f.pd.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != http.MethodPost || last.From != fromEmail {
		t.Errorf("request = %+v, want POST with From %s", last, fromEmail)
	}
	if !strings.HasPrefix(last.UserAgent, "alaya-test/1 go-pagerduty/") {
		t.Errorf("User-Agent = %q, want ours before go-pagerduty's", last.UserAgent)
	}
}

func TestAddNoteCutsToPagerDutyLimit(t *testing.T) {
	f := newFixture(t)
	id := f.addIncident(t)
	long := strings.Repeat("é", pagerduty.MaxNoteLen+10)

	if _, err := f.client.AddNote(testContext(t), id, long); err != nil {
		t.Fatalf("AddNote: %v", err)
	}
	got := f.pd.Notes(id)[0].Content
	if n := utf8.RuneCountInString(got); n != pagerduty.MaxNoteLen || !utf8.ValidString(got) {
		t.Fatalf("stored note has %d characters (valid UTF-8: %v), want %d", n, utf8.ValidString(got), pagerduty.MaxNoteLen)
	}
}

func TestAddNoteFailures(t *testing.T) {
	tests := []struct {
		name       string
		from       string
		incident   string
		wantStatus int
		wantCode   int
		notFound   bool
	}{
		{"from is not a PagerDuty user", "stranger@example.com", "", http.StatusBadRequest, 2001, false},
		{"unknown incident", fromEmail, "PI99999", http.StatusNotFound, 2100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *pagerduty.Config) { c.From = tt.from })
			id := f.addIncident(t)
			if tt.incident != "" {
				id = tt.incident
			}
			_, err := f.client.AddNote(testContext(t), id, "hello")
			var pe *pagerduty.Error
			if !errors.As(err, &pe) || pe.Status != tt.wantStatus || pe.Code != tt.wantCode {
				t.Fatalf("err = %v, want status %d code %d", err, tt.wantStatus, tt.wantCode)
			}
			if pagerduty.Retryable(err) {
				t.Errorf("Retryable(%v) = true, want a permanent failure", err)
			}
			if errors.Is(err, pagerduty.ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v", !tt.notFound, tt.notFound)
			}
			if n := f.requestsTo("/incidents/" + id + "/notes"); n != 1 {
				t.Errorf("%d requests, want 1: a 4xx is never retried", n)
			}
		})
	}
}

func TestRejectsIDsThatWouldChangeThePath(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"", "../users/PBOT001", "Q1?x=1", "Q1/notes"} {
		_, err := f.client.AddNote(testContext(t), id, "x")
		if err == nil || pagerduty.Retryable(err) {
			t.Errorf("AddNote(%q) err = %v, want a permanent error", id, err)
		}
	}
	if n := len(f.pd.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}
