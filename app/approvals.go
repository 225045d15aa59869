package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/approval/page"
	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/pagerduty"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/remediate"
	"github.com/alaya-sre/alaya/runbooks"
)

// directory adapts the PagerDuty client to approval.Directory: users with their emails and
// teams, so runbooks can name approvers by user id, email, team id or team name.
type directory struct{ pd *pagerduty.Client }

var _ approval.Directory = directory{}

func (d directory) User(ctx context.Context, id string) (approval.User, error) {
	p, err := d.pd.User(ctx, id)
	return approvalUser(p), unknown(err)
}

func (d directory) UserByEmail(ctx context.Context, email string) (approval.User, error) {
	p, err := d.pd.UserByEmail(ctx, email)
	return approvalUser(p), unknown(err)
}

// unknown tells the approval package that PagerDuty answered "no such user" rather than failed.
func unknown(err error) error {
	if errors.Is(err, pagerduty.ErrNotFound) {
		return fmt.Errorf("%w: %w", approval.ErrUnknown, err)
	}
	return err
}

// checkApprovers resolves every approver the runbooks name against PagerDuty, so that a name
// that stands for no id or for several is refused at load with its file and line rather than
// matching nobody at 3 a.m. If PagerDuty cannot be asked now, the worker starts and says so:
// decisions resolve names again and refuse what does not resolve to exactly one id.
func checkApprovers(ctx context.Context, cat *runbooks.Catalog, dir approval.Directory, log *slog.Logger) error {
	return resolveApprovers(ctx, cat, dir, log, false)
}

// CheckApprovers resolves the approvers the runbooks name against the PagerDuty configured in
// cfg, for `alaya lint --config`. Unlike the worker at load, a PagerDuty that cannot be asked
// is a problem here: the author asked for the check.
func CheckApprovers(ctx context.Context, cat *runbooks.Catalog, cfg *config.Config, log *slog.Logger) error {
	if cfg.PagerDuty.Token == "" {
		return errors.New("approvers not checked: the config has no PagerDuty token")
	}
	pd, err := pagerduty.New(pagerduty.Config{Token: cfg.PagerDuty.Token.Reveal(), APIURL: cfg.PagerDuty.APIURL, From: cfg.PagerDuty.From}, log)
	if err != nil {
		return err
	}
	return resolveApprovers(ctx, cat, directory{pd}, log, true)
}

func resolveApprovers(ctx context.Context, cat *runbooks.Catalog, dir approval.Directory, log *slog.Logger, strict bool) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var errs []error
	for _, rb := range cat.Runbooks() {
		for _, g := range rb.Gates() {
			for _, err := range approval.CheckApprovers(ctx, dir, approval.Approvers{Users: g.Gate.Approvers.Users, Teams: g.Gate.Approvers.Teams}) {
				if errors.Is(err, approval.ErrDirectoryUnavailable) && !strict {
					log.Warn("runbook approvers not checked against PagerDuty now", "runbook", rb.Name, "gate", g.Step, "err", err)
					continue
				}
				errs = append(errs, fmt.Errorf("%s: gate %q approvers: %w", g.Pos, g.Step, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (d directory) TeamsNamed(ctx context.Context, name string) ([]string, error) {
	return d.pd.TeamsNamed(ctx, name)
}

// onCall adapts the PagerDuty client to approval.OnCall.
type onCall struct{ pd *pagerduty.Client }

func (o onCall) OnCalls(ctx context.Context, ep string) ([]approval.OnDuty, error) {
	got, err := o.pd.OnCalls(ctx, ep)
	out := make([]approval.OnDuty, len(got))
	for i, g := range got {
		out[i] = approval.OnDuty{UserID: g.UserID, Level: g.Level}
	}
	return out, err
}

func approvalUser(p pagerduty.Person) approval.User {
	return approval.User{ID: p.Ref.ID, Name: p.Ref.Summary, Email: p.Email, Teams: p.Teams}
}

// approvalStore opens the approvals bucket.
func approvalStore(ctx context.Context, q *queue.Queue) (*approval.Store, error) {
	kv, err := q.KV(ctx, queue.BucketApprovals)
	if err != nil {
		return nil, fmt.Errorf("approvals: %w", err)
	}
	return approval.NewStore(kv, nil), nil
}

// approvalPolicy is the policy over PagerDuty: on call now, at the configured levels, or a
// runbook's named approvers. Alaya's own user is looked up when first needed and again until
// PagerDuty answers, so a PagerDuty outage at start does not leave its notes unrecognised.
func approvalPolicy(cfg *config.Config, pd *pagerduty.Client, log *slog.Logger) *approval.Policy {
	return &approval.Policy{
		OnCall: onCall{pd}, Dir: directory{pd},
		MaxLevel: cfg.Approvals.OnCallLevels, Assignees: cfg.Approvals.AssigneesMayApprove,
		Self: func(ctx context.Context, userID string) bool {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			id, err := pd.FromUserID(ctx)
			if err != nil {
				log.Warn("alaya's own PagerDuty user not found yet; will ask again", "err", err)
			}
			return id != "" && id == userID
		},
	}
}

// pageURL returns the approval-page link maker for notes, or nil when there is no page or no
// key to sign links with. Links point at receiver.page_url (the proxy), else public_url.
func pageURL(cfg *config.Config) func(incident, code string) string {
	key, err := linkKey(cfg)
	if err != nil || cfg.Receiver.PageListen == "" {
		return nil
	}
	base := strings.TrimRight(cfg.Receiver.PageURL, "/")
	if base == "" {
		base = publicURL(cfg)
	}
	return func(incident, code string) string { return page.URL(base, key, incident, code) }
}

func publicURL(cfg *config.Config) string {
	if base := strings.TrimRight(cfg.Receiver.PublicURL, "/"); base != "" {
		return base
	}
	listen := cfg.Receiver.Listen
	if strings.HasPrefix(listen, ":") {
		listen = "127.0.0.1" + listen
	}
	return "http://" + strings.Replace(listen, "0.0.0.0", "127.0.0.1", 1)
}

// gates assembles the worker's approval side; nil without a PagerDuty client or Slack, where
// nobody could approve (runs then stop at their gates and say so). With Slack but without
// PagerDuty, only the Slack approvers runbooks name may decide, and only incidents that are
// not PagerDuty's (Alertmanager, declared sources): the policy has nobody on call to ask.
func gates(ctx context.Context, cfg *config.Config, q *queue.Queue, pd *pagerduty.Client, log *slog.Logger) (*remediate.Gates, error) {
	if pd == nil && !cfg.Slack.Enabled() {
		return nil, nil
	}
	store, err := approvalStore(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	key, _ := linkKey(cfg)
	if pd == nil {
		return &remediate.Gates{Store: store, Policy: &approval.Policy{}, PageKey: key, PageURL: pageURL(cfg)}, nil
	}
	return &remediate.Gates{Store: store, Policy: approvalPolicy(cfg, pd, log), Incidents: pd, Notes: pd,
		PageKey: key, PageURL: pageURL(cfg)}, nil
}

// approvalPage is the receiver's approval page, served on receiver.page_listen. Decisions on
// the page need a proxy that proves itself (receiver.page) and PagerDuty (to turn the proxy's
// email into a user); otherwise the page is read-only.
func (r *Receiver) approvalPage(ctx context.Context) error {
	if r.cfg.Receiver.PageListen == "" {
		return nil
	}
	key, err := linkKey(r.cfg)
	if err != nil {
		r.log.Warn("approval page disabled: no link key", "err", err)
		return nil
	}
	store, err := approvalStore(ctx, r.queue)
	if err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	identity, err := pageIdentity(r.cfg, r.log)
	if err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	pcfg := page.Config{Key: key, Identity: identity, Publisher: r.queue, Logger: r.log}
	var policy *approval.Policy
	if r.pd != nil {
		policy = approvalPolicy(r.cfg, r.pd, r.log)
		pcfg.Incidents = r.pd
	}
	r.page = page.Handler(store, policy, pcfg)
	return nil
}
