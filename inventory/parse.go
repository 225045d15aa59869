package inventory

import (
	"fmt"
	"net"
	"time"

	"github.com/alaya-sre/alaya/internal/yamlfile"
)

// The YAML shapes. Kept apart from the exported types so the file format can stay friendly
// (optional fields, defaults) while the rest of the code sees only validated values.
type fileYAML struct {
	Defaults defaultsYAML  `yaml:"defaults"`
	Bastions []bastionYAML `yaml:"bastions"`
	Hosts    []hostYAML    `yaml:"hosts"`
}

type defaultsYAML struct {
	User           string        `yaml:"user"`
	Port           int           `yaml:"port"`
	Key            string        `yaml:"key"`
	KnownHosts     string        `yaml:"known_hosts"`
	MaxSessions    int           `yaml:"max_sessions"`
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
}

type endpointYAML struct {
	Name       string `yaml:"name"`
	Address    string `yaml:"address"`
	Port       int    `yaml:"port"`
	User       string `yaml:"user"`
	Key        string `yaml:"key"`
	KnownHosts string `yaml:"known_hosts"`
}

type bastionYAML struct {
	endpointYAML `yaml:",inline"`
	Via          string `yaml:"via"`
}

type hostYAML struct {
	endpointYAML `yaml:",inline"`
	Transport    string            `yaml:"transport"`
	Bastion      string            `yaml:"bastion"`
	Labels       map[string]string `yaml:"labels"`
	MaxSessions  int               `yaml:"max_sessions"`
}

// Parse validates an inventory held in memory; file names it in errors.
func Parse(file string, data []byte) (*Inventory, error) {
	var raw fileYAML
	doc, err := yamlfile.Decode(file, data, &raw)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{
		File: file,
		Defaults: Defaults{
			User: raw.Defaults.User, Port: or(raw.Defaults.Port, 22),
			KeyFile: resolve(file, raw.Defaults.Key), KnownHosts: resolve(file, raw.Defaults.KnownHosts),
			MaxSessions:    or(raw.Defaults.MaxSessions, 8),
			ConnectTimeout: raw.Defaults.ConnectTimeout,
		},
		Hosts:    map[string]*Host{},
		Bastions: map[string]*Bastion{},
	}
	if inv.Defaults.ConnectTimeout == 0 {
		inv.Defaults.ConnectTimeout = 10 * time.Second
	}
	var errs yamlfile.List
	for i, b := range raw.Bastions {
		path := fmt.Sprintf("bastions[%d]", i)
		ep := inv.endpoint(b.endpointYAML, doc, path, &errs)
		if _, dup := inv.Bastions[ep.Name]; dup && ep.Name != "" {
			errs.Add(doc.Pos(path+".name"), "duplicate bastion name %q", ep.Name)
		}
		inv.Bastions[ep.Name] = &Bastion{Endpoint: ep, Via: b.Via}
	}
	for i, h := range raw.Hosts {
		path := fmt.Sprintf("hosts[%d]", i)
		host := &Host{
			Transport: or(h.Transport, TransportSSH), Bastion: h.Bastion, Labels: h.Labels,
			MaxSessions: or(h.MaxSessions, inv.Defaults.MaxSessions),
		}
		if host.Transport == TransportLocal {
			host.Endpoint = inv.localEndpoint(h.endpointYAML, doc, path, &errs)
		} else {
			host.Endpoint = inv.endpoint(h.endpointYAML, doc, path, &errs)
		}
		if _, dup := inv.Hosts[host.Name]; dup && host.Name != "" {
			errs.Add(doc.Pos(path+".name"), "duplicate host name %q", host.Name)
		}
		inv.Hosts[host.Name] = host
		inv.checkHost(host, doc, path, &errs)
	}
	inv.checkChains(raw, doc, &errs)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return inv, nil
}

func (inv *Inventory) endpoint(e endpointYAML, doc *yamlfile.Doc, path string, errs *yamlfile.List) Endpoint {
	ep := Endpoint{
		Name: e.Name, Address: e.Address, Port: or(e.Port, inv.Defaults.Port),
		User:       or(e.User, inv.Defaults.User),
		KeyFile:    or(resolve(inv.File, e.Key), inv.Defaults.KeyFile),
		KnownHosts: or(resolve(inv.File, e.KnownHosts), inv.Defaults.KnownHosts),
		Pos:        doc.Pos(path),
	}
	if ep.Name == "" {
		errs.Add(doc.Pos(path), "missing name")
	}
	if ep.Address == "" {
		errs.Add(doc.Pos(path), "%s: missing address", ep.Name)
	} else if net.ParseIP(ep.Address) == nil && !validHostname(ep.Address) {
		errs.Add(doc.Pos(path+".address"), "%s: address %q is neither an IP address nor a host name", ep.Name, ep.Address)
	}
	if ep.Port < 1 || ep.Port > 65535 {
		errs.Add(doc.Pos(path+".port"), "%s: port %d out of range 1-65535", ep.Name, ep.Port)
	}
	for _, req := range []struct{ val, key string }{{ep.User, "user"}, {ep.KeyFile, "key"}, {ep.KnownHosts, "known_hosts"}} {
		if req.val == "" {
			errs.Add(doc.Pos(path), "%s: missing %s (set it here or under defaults)", ep.Name, req.key)
		}
	}
	return ep
}

func (inv *Inventory) localEndpoint(e endpointYAML, doc *yamlfile.Doc, path string, errs *yamlfile.List) Endpoint {
	if e.Name == "" {
		errs.Add(doc.Pos(path), "missing name")
	}
	return Endpoint{Name: e.Name, Address: or(e.Address, "localhost"), Pos: doc.Pos(path)}
}

func (inv *Inventory) checkHost(h *Host, doc *yamlfile.Doc, path string, errs *yamlfile.List) {
	switch h.Transport {
	case TransportSSH, TransportLocal:
	default:
		errs.Add(doc.Pos(path+".transport"), "%s: transport %q: expected ssh or local", h.Name, h.Transport)
	}
	if h.Bastion != "" {
		if h.Transport == TransportLocal {
			errs.Add(doc.Pos(path+".bastion"), "%s: a local host cannot have a bastion", h.Name)
		} else if _, ok := inv.Bastions[h.Bastion]; !ok {
			errs.Add(doc.Pos(path+".bastion"), "%s: bastion %q is not defined under bastions", h.Name, h.Bastion)
		}
	}
	if h.MaxSessions < 1 {
		errs.Add(doc.Pos(path+".max_sessions"), "%s: max_sessions must be at least 1", h.Name)
	}
}

// checkChains rejects a via that names a missing bastion or loops back on itself.
func (inv *Inventory) checkChains(raw fileYAML, doc *yamlfile.Doc, errs *yamlfile.List) {
	for i, b := range raw.Bastions {
		path := fmt.Sprintf("bastions[%d].via", i)
		seen := map[string]bool{b.Name: true}
		for via := b.Via; via != ""; {
			next, ok := inv.Bastions[via]
			if !ok {
				errs.Add(doc.Pos(path), "%s: via %q is not defined under bastions", b.Name, via)
				break
			}
			if seen[via] {
				errs.Add(doc.Pos(path), "%s: bastion chain loops through %q", b.Name, via)
				break
			}
			seen[via] = true
			via = next.Via
		}
	}
}

func validHostname(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s[0] != '-'
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
