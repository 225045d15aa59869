// Package slackthread delivers the outbox's Slack messages: it turns a note (plain text, as
// written for PagerDuty) into Slack's mrkdwn with everything from outside escaped, gives a
// gate's message its Approve and Reject buttons, mentions the people on call now on a
// thread's top message (PagerDuty on-call → email → Slack user), and classifies Slack's
// failures for the outbox: a 429 waits its Retry-After, a permanent error is dropped.
//
// It is the one place that knows both the outbox and the Slack client, so neither knows the
// other.
package slackthread
