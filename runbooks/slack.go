package runbooks

import (
	"fmt"
	"regexp"
)

// Slack is where a runbook's runs are discussed in Slack: the channel of the run's thread, the
// user groups mentioned besides the people on call, and who may approve from Slack when the
// incident is not in PagerDuty (there is no on-call to ask then).
type Slack struct {
	Channel       string
	MentionGroups []string
	Approvers     SlackApprovers
}

// SlackApprovers are Slack users and user groups, by id: names can be changed by their owner,
// ids cannot.
type SlackApprovers struct {
	Users  []string
	Groups []string
}

// Empty reports whether nobody is named.
func (a SlackApprovers) Empty() bool { return len(a.Users) == 0 && len(a.Groups) == 0 }

var (
	slackChannelID = regexp.MustCompile(`^[CG][A-Z0-9]{6,}$`)
	slackUserID    = regexp.MustCompile(`^[UW][A-Z0-9]{6,}$`)
	slackGroupID   = regexp.MustCompile(`^S[A-Z0-9]{6,}$`)
)

// slack checks the slack section: ids, not names, for the channel (chat.update takes only
// the id, and a channel can be renamed), people and groups (a display name is no identity).
func (l *loader) slack(raw slackYAML) {
	sl := Slack{Channel: raw.Channel, MentionGroups: raw.MentionGroups,
		Approvers: SlackApprovers{Users: raw.Approvers.Users, Groups: raw.Approvers.Groups}}
	if raw.Channel != "" && !slackChannelID.MatchString(raw.Channel) {
		l.errs.Add(l.doc.Pos("slack.channel"), "slack channel %q: expected a channel id such as C0123ABCD (a name can change; the id cannot)", raw.Channel)
	}
	l.slackIDs("slack.mention_groups", raw.MentionGroups, slackGroupID, "a user group id such as S0123ABCD")
	l.slackIDs("slack.approvers.users", raw.Approvers.Users, slackUserID, "a Slack user id such as U0123ABCD")
	l.slackIDs("slack.approvers.groups", raw.Approvers.Groups, slackGroupID, "a user group id such as S0123ABCD")
	l.rb.Slack = sl
}

func (l *loader) slackIDs(path string, ids []string, re *regexp.Regexp, want string) {
	for i, id := range ids {
		if !re.MatchString(id) {
			l.errs.Add(l.doc.Pos(fmt.Sprintf("%s[%d]", path, i)), "%s %q: expected %s", path, id, want)
		}
	}
}
