package app

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/sources"
	"github.com/alaya-sre/alaya/webhook"
)

// loadSources loads the declared sources with their secrets (receiver.sources_dir); a
// problem in any of them stops the receiver with file:line, like a runbook would.
func (r *Receiver) loadSources(getenv func(string) string) error {
	if r.cfg.Receiver.SourcesDir == "" {
		return nil
	}
	set, err := sources.LoadDir(r.cfg.Receiver.SourcesDir, sources.Options{Getenv: getenv, Secrets: true})
	if err != nil {
		return fmt.Errorf("receiver: receiver.sources_dir:\n%w", err)
	}
	r.sources = set
	for _, s := range set.Sources() {
		r.log.Info("source declared", "source", s.Name, "auth", s.AuthKind(), "file", s.File)
	}
	return nil
}

// sourceRoutes serves every declared source at its own path.
func (r *Receiver) sourceRoutes(mux *http.ServeMux, limiter *webhook.Limiter) {
	for _, s := range r.sources.Sources() {
		mux.Handle("POST "+s.Pattern(), webhook.NewSourceHandler(webhook.SourceDeps{
			Name:           s.Name,
			Publisher:      r.queue,
			Authorize:      s.Auth.Authorize,
			Decode:         decodeSource(s),
			Logger:         r.log,
			Registerer:     r.reg,
			PublishTimeout: r.cfg.Receiver.PublishTimeout,
			Limiter:        limiter,
		}))
	}
}

// decodeSource translates the source's "ignored" into the handler's.
func decodeSource(s *sources.Source) func([]byte) (*incident.Event, error) {
	return func(body []byte) (*incident.Event, error) {
		ev, err := s.Decode(body)
		if errors.Is(err, sources.ErrIgnored) {
			return nil, webhook.ErrIgnored
		}
		return ev, err
	}
}

// inPagerDuty reports whether an incident id names a PagerDuty incident. Alertmanager groups
// and declared sources get ids Alaya made up: PagerDuty's API would answer 404 for them forever.
func inPagerDuty(incidentID string) bool {
	return !strings.HasPrefix(incidentID, webhook.AlertmanagerIncidentPrefix) &&
		!strings.HasPrefix(incidentID, sources.IncidentPrefix)
}
