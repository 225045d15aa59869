package pagerduty_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/pagerduty"
)

// TestTokenNeverLeaks drives every failure path with a known token and looks for it in the
// error text and in everything logged (at debug level).
func TestTokenNeverLeaks(t *testing.T) {
	tests := []struct {
		name string
		call func(t *testing.T, f *fixture) error
	}{
		{"401 wrong token", func(t *testing.T, f *fixture) error {
			c := f.newClient(t, pagerduty.Config{Token: testToken + "-wrong", APIURL: f.url, From: fromEmail})
			_, err := c.Incident(testContext(t), "Q1")
			return err
		}},
		{"404 unknown incident", func(t *testing.T, f *fixture) error {
			_, err := f.client.AddNote(testContext(t), "PNOPE01", "x")
			return err
		}},
		{"400 unknown from", func(t *testing.T, f *fixture) error {
			c := f.newClient(t, pagerduty.Config{Token: testToken, APIURL: f.url, From: "nobody@example.com"})
			_, err := c.AddNote(testContext(t), f.addIncident(t), "x")
			return err
		}},
		{"429 exhausted", failingOnCall(http.StatusTooManyRequests)},
		{"500 exhausted", failingOnCall(http.StatusInternalServerError)},
		{"dropped connections", failingOnCall(0)},
		{"nothing listening", func(t *testing.T, f *fixture) error {
			c := f.newClient(t, pagerduty.Config{Token: testToken, APIURL: "http://127.0.0.1:1", From: fromEmail})
			_, err := c.Alerts(testContext(t), "Q1")
			return err
		}},
		{"context canceled", func(t *testing.T, f *fixture) error {
			ctx, cancel := context.WithCancel(testContext(t))
			cancel()
			_, err := f.client.User(ctx, "PBOT001")
			return err
		}},
		{"server echoes the token as JSON", echoing("application/json")},
		{"server echoes the token as text", echoing("text/plain")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			err := tt.call(t, f)
			if err == nil {
				t.Fatal("want an error")
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(fmt.Sprintf("%+v", err), testToken) {
				t.Errorf("token in error: %v", err)
			}
			if strings.Contains(f.logs.String(), testToken) {
				t.Errorf("token in logs:\n%s", f.logs.String())
			}
		})
	}
}

// failingOnCall looks up on-call while every request fails with status (0: dropped).
func failingOnCall(status int) func(t *testing.T, f *fixture) error {
	return func(t *testing.T, f *fixture) error {
		f.pd.FailNext("*", status, 10)
		_, err := f.client.OnCalls(testContext(t), "PEP0001")
		return err
	}
}

// echoing is a misbehaving server (or proxy) that puts the Authorization header into its
// error answer.
func echoing(contentType string) func(t *testing.T, f *fixture) error {
	return func(t *testing.T, f *fixture) error {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(http.StatusBadRequest)
			a := r.Header.Get("Authorization")
			fmt.Fprintf(w, `{"error":{"message":"bad header %s","code":2001,"errors":["got %s"]}}`, a, a)
		}))
		t.Cleanup(srv.Close)
		c := f.newClient(t, pagerduty.Config{Token: testToken, APIURL: srv.URL, From: fromEmail})
		_, err := c.Incident(testContext(t), "Q1")
		if contentType == "application/json" && !strings.Contains(err.Error(), "[REDACTED]") {
			t.Errorf("err = %v, want the echoed token redacted, not dropped silently", err)
		}
		return err
	}
}
