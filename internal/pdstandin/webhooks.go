package pdstandin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/alaya-sre/alaya/pagerduty"
)

// subscription is one V3 webhook subscription: a URL, its signing secret, and the queue of
// deliveries not yet made, delivered one at a time in order.
type subscription struct {
	id     string
	url    string
	secret []byte
	queue  []*Delivery
	wake   chan struct{}
}

// Delivery is one webhook sent (or being sent) to a subscription.
type Delivery struct {
	Subscription string
	URL          string
	EventID      string
	EventType    string
	// WebhookID is the X-Webhook-Id header, the same on every retry of this delivery.
	WebhookID string
	Body      []byte
	Header    http.Header
	// Attempts made so far; Status of the last answer (0 if none arrived) and Err the last
	// failure, empty once delivered.
	Attempts int
	Status   int
	Err      string
	Done     bool
}

// Subscribe registers a V3 webhook subscription: from now on incident.triggered (Trigger),
// incident.annotated (every note, Alaya's own included, as PagerDuty does), and status
// changes (SetStatus) are POSTed to url, signed with secret. It returns the subscription id
// sent as X-Webhook-Subscription.
func (s *Server) Subscribe(url, secret string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := &subscription{id: s.nextIDLocked('S'), url: url, secret: []byte(secret), wake: make(chan struct{}, 1)}
	s.subs = append(s.subs, sub)
	s.wg.Go(func() { s.deliverLoop(sub) })
	return sub.id
}

// TriggeredWebhook returns the signed incident.triggered delivery PagerDuty would send for a
// stored incident (AddIncident), without sending it: load tools post it themselves, at their
// own pace and concurrency, and time each answer.
func (s *Server) TriggeredWebhook(incidentID, secret string) ([]byte, http.Header, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.incidents[incidentID]
	if !ok {
		return nil, nil, fmt.Errorf("pdstandin: no incident %q", incidentID)
	}
	env := s.newEventLocked("incident.triggered", s.integrationAgent(st), s.incidentData(st))
	body, err := json.Marshal(env)
	if err != nil {
		return nil, nil, fmt.Errorf("pdstandin: encode webhook: %w", err)
	}
	h := s.webhookHeader(&subscription{id: "PLOADTS", secret: []byte(secret)}, body)
	h.Set("X-Webhook-Id", uuid())
	return body, h, nil
}

// emitLocked queues an event for every subscription.
func (s *Server) emitLocked(eventType string, agent *refJSON, data any) {
	if len(s.subs) == 0 {
		return
	}
	env := s.newEventLocked(eventType, agent, data)
	body, err := json.Marshal(env)
	if err != nil {
		panic(fmt.Sprintf("pdstandin: encode webhook: %v", err)) // our own types: a bug
	}
	for _, sub := range s.subs {
		d := &Delivery{
			Subscription: sub.id, URL: sub.url, EventID: env.Event.ID, EventType: eventType,
			WebhookID: uuid(), Body: body, Header: s.webhookHeader(sub, body),
		}
		sub.queue = append(sub.queue, d)
		s.pending++
		select {
		case sub.wake <- struct{}{}:
		default:
		}
	}
}

func (s *Server) webhookHeader(sub *subscription, body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "PagerDuty-Webhook/V3.0")
	h.Set("X-Webhook-Subscription", sub.id)
	h.Set("X-PagerDuty-Signature", pagerduty.Sign(sub.secret, body))
	return h
}

// deliverLoop sends a subscription's deliveries in order until the server closes.
func (s *Server) deliverLoop(sub *subscription) {
	for {
		s.mu.Lock()
		var d *Delivery
		if len(sub.queue) > 0 {
			d = sub.queue[0]
			sub.queue = sub.queue[1:]
		}
		s.mu.Unlock()
		if d == nil {
			select {
			case <-sub.wake:
				continue
			case <-s.ctx.Done():
				return
			}
		}
		s.deliver(d)
	}
}

// deliver makes a delivery's attempts and records the outcome.
func (s *Server) deliver(d *Delivery) {
	for attempt := 0; attempt <= s.hookTries; attempt++ {
		if attempt > 0 && !s.pause(s.hookDelay) {
			break
		}
		status, err := s.post(d)
		s.mu.Lock()
		d.Attempts, d.Status, d.Err = attempt+1, status, errText(err, status)
		d.Done = d.Err == ""
		s.mu.Unlock()
		if d.Done || !redeliver(status, err) {
			break
		}
	}
	s.mu.Lock()
	s.deliv = append(s.deliv, *d)
	s.pending--
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *Server) post(d *Delivery) (int, error) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	req.Header = d.Header.Clone()
	req.Header.Set("X-Webhook-Id", d.WebhookID)
	resp, err := s.hookClient.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// redeliver says whether PagerDuty would try again: on no answer, 408, 429 and 5xx. Other
// 4xx answers are final.
func redeliver(status int, err error) bool {
	return err != nil || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

func errText(err error, status int) string {
	switch {
	case err != nil:
		return err.Error()
	case status < 200 || status > 299:
		return http.StatusText(status)
	}
	return ""
}

func (s *Server) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// Deliveries returns the finished webhook deliveries (delivered or given up), in the order
// they finished. Body and Header are what was sent; a test may replay one to check that a
// redelivery changes nothing.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliv)
}

// WaitDeliveries blocks until no delivery is pending (all delivered or given up), or ctx ends,
// and returns the finished deliveries.
func (s *Server) WaitDeliveries(ctx context.Context) ([]Delivery, error) {
	err := s.waitFor(ctx, func() bool { return s.pending == 0 })
	if err != nil {
		return s.Deliveries(), fmt.Errorf("pdstandin: waiting for webhook deliveries: %w", err)
	}
	return s.Deliveries(), nil
}
