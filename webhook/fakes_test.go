package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/webhook"
)

// publisherFunc is a Publisher for tests that do not need JetStream.
type publisherFunc func(ctx context.Context, ev *incident.Event) (uint64, bool, error)

func (f publisherFunc) Publish(ctx context.Context, ev *incident.Event) (uint64, bool, error) {
	return f(ctx, ev)
}

var _ webhook.Publisher = publisherFunc(nil)

func httptestRequest(body []byte, signature string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/v1/webhooks/pagerduty", bytes.NewReader(body))
	req.Header.Set(webhook.HeaderSignature, signature)
	return req
}

func recordServe(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
