package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
)

// MaxInteractionBody bounds an interaction request. A block_actions payload carries the
// message that was pressed on; Alaya's gate messages are a few KiB, and the receiver's other
// webhooks have the same bound.
const MaxInteractionBody = 256 << 10

// Interaction is a button press, as Alaya needs it.
type Interaction struct {
	Team        string // team (workspace) id, T…
	User        string // the person who pressed, U… or W…
	UserName    string // their user name, for logs only: people can change it
	ActionID    string
	Value       string
	Channel     string // where the pressed message is
	MessageTS   string // the pressed message
	ThreadTS    string // its thread's parent, "" when it is not in a thread
	ResponseURL string // for an ephemeral answer (Client.Respond)
	TriggerID   string
	ActionTS    string
}

// EventID names the press for de-duplication: Slack gives each interaction its own
// trigger_id; a press without one falls back to its action time and person.
func (i *Interaction) EventID() string {
	if i.TriggerID != "" {
		return "slack-" + i.TriggerID
	}
	return "slack-" + i.Team + "-" + i.User + "-" + i.ActionTS
}

// Errors of ParseInteraction. ErrNotBlockActions is a well-formed interaction of another kind
// (a shortcut, a modal): nothing Alaya asked for, answered 200 and dropped. The rest are
// malformed requests.
var (
	ErrNotBlockActions    = errors.New("slack: interaction is not block_actions")
	ErrMalformedPayload   = errors.New("slack: malformed interaction")
	ErrInteractionTooLong = fmt.Errorf("slack: interaction larger than %d bytes", MaxInteractionBody)
)

// payloadJSON is the part of Slack's block_actions payload Alaya reads.
type payloadJSON struct {
	Type string `json:"type"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"user"`
	Container struct {
		ChannelID string `json:"channel_id"`
		MessageTS string `json:"message_ts"`
		ThreadTS  string `json:"thread_ts"`
	} `json:"container"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Message struct {
		TS       string `json:"ts"`
		ThreadTS string `json:"thread_ts"`
	} `json:"message"`
	TriggerID   string `json:"trigger_id"`
	ResponseURL string `json:"response_url"`
	Actions     []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
		ActionTS string `json:"action_ts"`
	} `json:"actions"`
}

// ParseInteraction reads an interaction request body: a form whose only field is payload,
// holding block_actions JSON with exactly one action.
func ParseInteraction(body []byte) (*Interaction, error) {
	if len(body) > MaxInteractionBody {
		return nil, ErrInteractionTooLong
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: form: %v", ErrMalformedPayload, err)
	}
	if len(form) != 1 || len(form["payload"]) != 1 {
		return nil, fmt.Errorf("%w: expected one payload field", ErrMalformedPayload)
	}
	var p payloadJSON
	if err := json.Unmarshal([]byte(form.Get("payload")), &p); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformedPayload, err)
	}
	if p.Type != "block_actions" {
		return nil, ErrNotBlockActions
	}
	if len(p.Actions) != 1 {
		return nil, fmt.Errorf("%w: %d actions, expected 1", ErrMalformedPayload, len(p.Actions))
	}
	in := fromPayload(&p)
	if err := in.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedPayload, err)
	}
	return in, nil
}

// fromPayload picks each field from where Slack puts it, the container first.
func fromPayload(p *payloadJSON) *Interaction {
	a := p.Actions[0]
	return &Interaction{
		Team: p.Team.ID, User: p.User.ID, UserName: p.User.Username,
		ActionID: a.ActionID, Value: a.Value, ActionTS: a.ActionTS,
		Channel:     first(p.Container.ChannelID, p.Channel.ID),
		MessageTS:   first(p.Container.MessageTS, p.Message.TS),
		ThreadTS:    first(p.Container.ThreadTS, p.Message.ThreadTS),
		ResponseURL: p.ResponseURL, TriggerID: p.TriggerID,
	}
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// The shapes of Slack's ids and timestamps: a value that does not have one came from
// something other than Slack, and goes no further.
var (
	teamID    = regexp.MustCompile(`^[TE][A-Z0-9]{2,30}$`)
	userID    = regexp.MustCompile(`^[UW][A-Z0-9]{2,30}$`)
	channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,30}$`)
	slackTS   = regexp.MustCompile(`^[0-9]{1,12}\.[0-9]{1,9}$`)
	triggerID = regexp.MustCompile(`^[0-9A-Za-z.]{1,128}$`)
)

// check refuses an interaction missing what the receiver needs, or with a field not shaped
// as Slack makes it.
func (in *Interaction) check() error {
	switch {
	case !teamID.MatchString(in.Team):
		return fmt.Errorf("team.id %q", short(in.Team))
	case !userID.MatchString(in.User):
		return fmt.Errorf("user.id %q", short(in.User))
	case !channelID.MatchString(in.Channel):
		return fmt.Errorf("channel id %q", short(in.Channel))
	case !slackTS.MatchString(in.MessageTS):
		return fmt.Errorf("message_ts %q", short(in.MessageTS))
	case in.ThreadTS != "" && !slackTS.MatchString(in.ThreadTS):
		return fmt.Errorf("thread_ts %q", short(in.ThreadTS))
	case !slackTS.MatchString(in.ActionTS):
		return fmt.Errorf("action_ts %q", short(in.ActionTS))
	case in.TriggerID != "" && !triggerID.MatchString(in.TriggerID):
		return fmt.Errorf("trigger_id %q", short(in.TriggerID))
	case !printableID(in.ActionID, MaxActionIDLen):
		return fmt.Errorf("action_id %q", short(in.ActionID))
	case len(in.Value) > MaxButtonValueLen:
		return errors.New("value too long")
	case len(in.UserName) > 256:
		return errors.New("user name too long")
	}
	u, err := url.Parse(in.ResponseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(in.ResponseURL) > 2048 {
		return errors.New("response_url is not an absolute http(s) URL")
	}
	return nil
}

// short keeps a refused value readable in a log line, however long the request made it.
func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
