package app

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/alaya-sre/alaya/pagerduty"
	"github.com/alaya-sre/alaya/webhook"
)

// routes is every URL the receiver answers on its public listener, in one place.
func (r *Receiver) routes() http.Handler {
	mux := http.NewServeMux()
	limiter := webhook.NewLimiter(r.cfg.Receiver.MaxInflight, r.reg) // one bound for every source
	mux.Handle("POST /v1/webhooks/pagerduty", webhook.NewPagerDutyHandler(webhook.Deps{
		Publisher:      r.queue,
		Secrets:        secretsFunc(r.cfg),
		Verify:         pagerduty.VerifySignature,
		Decode:         pagerduty.DecodeWebhook,
		Logger:         r.log,
		Registerer:     r.reg,
		PublishTimeout: r.cfg.Receiver.PublishTimeout,
		Limiter:        limiter,
		MaxAge:         r.cfg.NATS.Duplicates, // the replay window is the de-duplication window
	}))
	if token := r.cfg.Receiver.AlertmanagerToken.Reveal(); token != "" {
		mux.Handle("POST /v1/webhooks/alertmanager", webhook.NewAlertmanagerHandler(webhook.AlertmanagerDeps{
			Publisher:      r.queue,
			Authorize:      webhook.BearerToken(func() [][]byte { return [][]byte{[]byte(token)} }),
			Logger:         r.log,
			Registerer:     r.reg,
			PublishTimeout: r.cfg.Receiver.PublishTimeout,
			Limiter:        limiter,
		}))
	}
	r.sourceRoutes(mux, limiter)
	if r.slackKey != nil {
		mux.Handle("POST /v1/slack/interactions", webhook.NewSlackHandler(webhook.SlackDeps{
			Publisher:      r.queue,
			Verify:         r.slackVerifier().Verify,
			Decode:         decodeSlack(r.slackKey, r.cfg.Slack.Team, time.Now),
			Logger:         r.log,
			Registerer:     r.reg,
			PublishTimeout: r.cfg.Receiver.PublishTimeout,
			Limiter:        limiter,
		}))
	}
	if r.evid != nil {
		mux.Handle("GET /evidence/", r.evid)
	}
	return mux
}

// adminRoutes are health and metrics, served on receiver.admin_listen only: the internet may
// reach the webhook listener, and neither needs nor should see the process's internals.
func (r *Receiver) adminRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", webhook.Healthz())
	mux.Handle("GET /readyz", webhook.Readyz(r.queue.Ready))
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg}))
	return mux
}
