// Package inventory is the allowlist of what Alaya may touch: hosts, the bastions in front of
// them, and the credentials and known_hosts for every hop. A runbook target that does not
// resolve to an entry here is refused, whatever the incident says.
package inventory

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/alaya-sre/alaya/internal/yamlfile"
)

// Transports a host may be reached by.
const (
	TransportSSH   = "ssh"
	TransportLocal = "local" // commands run on the worker itself: the demo, and lab setups
)

// ErrUnknownHost means a target is not in the inventory and must not be touched.
var ErrUnknownHost = errors.New("not in the inventory")

// Endpoint is how to reach and log in to one SSH hop. Each hop has its own user, key and
// known_hosts, because bastion and target accounts are usually different.
type Endpoint struct {
	Name       string
	Address    string
	Port       int
	User       string
	KeyFile    string // private key, PEM/OpenSSH format; path resolved against the inventory file
	KnownHosts string // OpenSSH known_hosts file for this hop
	Pos        yamlfile.Pos
}

// Addr is host:port for dialing, with IPv6 literals bracketed.
func (e *Endpoint) Addr() string { return net.JoinHostPort(e.Address, strconv.Itoa(e.Port)) }

// Bastion is a jump host. Via names the bastion in front of this one, for chains.
type Bastion struct {
	Endpoint
	Via string
}

// Host is a machine runbooks may act on.
type Host struct {
	Endpoint
	Transport   string
	Bastion     string
	Labels      map[string]string
	MaxSessions int // concurrent sessions on one SSH connection; sshd defaults to MaxSessions 10
}

// Defaults apply to every host and bastion that does not say otherwise.
type Defaults struct {
	User           string
	Port           int
	KeyFile        string
	KnownHosts     string
	MaxSessions    int
	ConnectTimeout time.Duration
}

// Inventory is the loaded, validated inventory.
type Inventory struct {
	File     string
	Defaults Defaults
	Hosts    map[string]*Host
	Bastions map[string]*Bastion
}

// Lookup returns the host called name, or an error wrapping ErrUnknownHost.
func (inv *Inventory) Lookup(name string) (*Host, error) {
	if h, ok := inv.Hosts[name]; ok {
		return h, nil
	}
	return nil, fmt.Errorf("host %q: %w", name, ErrUnknownHost)
}

// Route returns the bastions to pass through to reach h, outermost first. Chains were checked
// for loops and missing names at load, so Route cannot fail on a loaded inventory.
func (inv *Inventory) Route(h *Host) []*Bastion {
	var route []*Bastion
	for name := h.Bastion; name != ""; name = inv.Bastions[name].Via {
		route = append(route, inv.Bastions[name])
	}
	slices.Reverse(route)
	return route
}

// Select returns the hosts whose labels include every pair in want, sorted by name.
func (inv *Inventory) Select(want map[string]string) []*Host {
	var out []*Host
	for _, name := range slices.Sorted(maps.Keys(inv.Hosts)) {
		h := inv.Hosts[name]
		ok := true
		for k, v := range want {
			if h.Labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, h)
		}
	}
	return out
}

// Load reads and validates an inventory file.
func Load(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return Parse(path, data)
}

// resolve makes a path from the inventory relative to the inventory file's directory.
func resolve(file, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(file), p)
}
