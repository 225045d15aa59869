package sources

import (
	"path"
	"slices"
	"strings"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/yamlfile"
)

// PathPrefix is where every source is served: PathPrefix + NAME (+ "/{token}" for a token in
// the path).
const PathPrefix = "/v1/webhooks/in/"

// Source is one declared, checked source.
type Source struct {
	Name        string
	Description string
	File        string
	Pos         yamlfile.Pos
	// Auth is nil when the source was loaded without its secrets (lint, plan, test).
	Auth    *Auth
	kind    string
	mapping *mapping
}

// Pattern is the route the receiver serves the source at (a net/http ServeMux pattern path).
func (s *Source) Pattern() string {
	p := path.Join(PathPrefix, s.Name)
	if s.kind == AuthPathToken {
		p += "/{" + PathTokenName + "}"
	}
	return p
}

// AuthKind is how the source authenticates: AuthHMAC, AuthBearer or AuthPathToken.
func (s *Source) AuthKind() string { return s.kind }

// Set is every source loaded from a directory, by name.
type Set struct {
	byName map[string]*Source
}

// Sources returns the sources sorted by name.
func (set *Set) Sources() []*Source {
	if set == nil {
		return nil
	}
	out := make([]*Source, 0, len(set.byName))
	for _, s := range set.byName {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Source) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Get returns the source named name, or nil.
func (set *Set) Get(name string) *Source {
	if set == nil {
		return nil
	}
	return set.byName[name]
}

// reserved are the names of the sources with their own decoders and of the approval page:
// Event.Source carries the source's name, and the approval flow trusts these by name.
var reserved = []string{incident.SourcePagerDuty, incident.SourceAlertmanager, incident.SourceApprovalPage}
