package slackstandin

import (
	"context"
	"slices"
)

// Messages returns every message in channel, top-level and replies, in posting order.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.selectLocked(channel, func(*Message) bool { return true })
}

// TopLevel returns channel's messages that are not replies.
func (s *Server) TopLevel(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.selectLocked(channel, func(m *Message) bool { return m.ThreadTS == "" })
}

// Thread returns the replies to the message ts in channel, in posting order.
func (s *Server) Thread(channel, ts string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.selectLocked(channel, func(m *Message) bool { return m.ThreadTS == ts })
}

// Message returns the message ts in channel as it is now.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.findLocked(channel, ts); m != nil {
		return copyMessage(m), true
	}
	return Message{}, false
}

// WaitMessages waits until channel has at least n messages (top-level and replies) and
// returns them.
func (s *Server) WaitMessages(ctx context.Context, channel string, n int) ([]Message, error) {
	var out []Message
	err := s.WaitFor(ctx, func() bool {
		out = s.Messages(channel)
		return len(out) >= n
	})
	return out, err
}

func (s *Server) selectLocked(channel string, keep func(*Message) bool) []Message {
	var out []Message
	for _, m := range s.messages[channel] {
		if keep(m) {
			out = append(out, copyMessage(m))
		}
	}
	return out
}

// copyMessage gives callers a copy they may keep while the stand-in changes the original.
func copyMessage(m *Message) Message {
	c := *m
	c.Versions = slices.Clone(m.Versions)
	return c
}

// AddUser adds a person to the workspace's directory, for users.lookupByEmail and users.info.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// AddGroup adds a user group (S…) with its members' user ids, for usergroups.users.list.
func (s *Server) AddGroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = append([]string(nil), members...)
}
