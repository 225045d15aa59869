package haproxy

import (
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/alaya-sre/alaya/actions"
)

// ServerStat is one server's row of `show stat`.
type ServerStat struct {
	Backend  string
	Server   string
	Status   string // "UP", "DOWN", "MAINT", "DRAIN", "no check", "UP 1/3"...
	Sessions int    // scur: sessions open now
}

// Healthy reports whether the server takes new traffic: UP (also while checks are failing but
// not yet past fall) or running without checks. DRAIN and MAINT are not healthy for the guard.
func (s ServerStat) Healthy() bool {
	return strings.HasPrefix(s.Status, "UP") || s.Status == "no check"
}

// Servers returns the servers of backend from `show stat <backend> 4 -1` (type 4: servers).
func (c *Client) Servers(ctx context.Context, backend string) ([]ServerStat, error) {
	if !validName.MatchString(backend) {
		return nil, actions.Permanent("haproxy", fmt.Errorf("invalid backend name %q: %w", backend, actions.ErrRefused))
	}
	cmd := "show stat " + backend + " 4 -1"
	reply, err := c.Command(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(reply, "# ") {
		return nil, replyError(cmd, reply)
	}
	servers, err := parseStat(reply, backend)
	if err != nil {
		return nil, actions.Permanent("haproxy show stat", err)
	}
	if len(servers) == 0 {
		return nil, actions.Permanent("haproxy", fmt.Errorf("backend %q has no servers: %w", backend, actions.ErrNotFound))
	}
	return servers, nil
}

// parseStat reads the CSV of `show stat`, locating columns by the header so that versions
// adding columns do not break it.
func parseStat(reply, backend string) ([]ServerStat, error) {
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(reply, "# ")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("unreadable stat csv: %v", err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, name := range []string{"pxname", "svname", "scur", "status"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("stat csv has no column %q", name)
		}
	}
	var out []ServerStat
	for _, row := range rows[1:] {
		if len(row) < len(rows[0]) || row[col["pxname"]] != backend {
			continue
		}
		sv := row[col["svname"]]
		if sv == "FRONTEND" || sv == "BACKEND" {
			continue
		}
		scur, _ := strconv.Atoi(row[col["scur"]])
		out = append(out, ServerStat{Backend: backend, Server: sv, Status: row[col["status"]], Sessions: scur})
	}
	return out, nil
}
