package app

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/pagerduty"
	"github.com/alaya-sre/alaya/remediate"
	"github.com/alaya-sre/alaya/slack"
	"github.com/alaya-sre/alaya/slackthread"
)

// workerSlack assembles the worker's Slack side: the poster the outbox delivers Slack
// messages through, and the pipeline's Chat (channels, mentions, presses). Both nil when
// no Slack token is configured.
func workerSlack(cfg *config.Config, pd *pagerduty.Client, log *slog.Logger, reg prometheus.Registerer) (*slackthread.Poster, *remediate.Chat, error) {
	sc := cfg.Slack
	if !sc.Enabled() {
		return nil, nil, nil
	}
	c, err := slack.New(slack.Config{Token: slack.Token(sc.Token.Reveal()), APIURL: sc.APIURL,
		ResponseURLHosts: sc.ResponseURLHosts}, log, reg)
	if err != nil {
		return nil, nil, fmt.Errorf("worker: slack: %w", err)
	}
	poster := &slackthread.Poster{API: c, MaxLevel: cfg.Approvals.OnCallLevels, Log: log}
	if pd != nil {
		poster.People = pdPeople{onCall{pd}, directory{pd}}
	}
	var groups []string
	if sc.UserGroup != "" {
		groups = []string{sc.UserGroup}
	}
	chat := &remediate.Chat{
		Channel:       func(inc *incident.Incident) string { return sc.ChannelFor(inc.Service.ID) },
		MentionGroups: groups,
		Users:         slackthread.Users{API: c},
		Members:       slackthread.Groups{API: c},
		InPagerDuty:   inPagerDuty,
	}
	return poster, chat, nil
}

// pdPeople is who is on call and their emails, from PagerDuty, for the thread's mentions.
type pdPeople struct {
	onCall
	directory
}
