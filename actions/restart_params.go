package actions

import (
	"strconv"
	"time"
)

// ParseRestartParams reads a restart step's rendered parameters: service and health_check
// (a shell command, as the runbook language renders it), and optionally command,
// verify_command, health_url, settle, poll, timeout and sudo.
func ParseRestartParams(p map[string]string) (RestartParams, error) {
	out := RestartParams{Service: p["service"], Command: p["command"], VerifyCommand: p["verify_command"],
		HealthURL: p["health_url"], HealthCommand: first(p, "health_check", "health_command")}
	var err error
	for key, dst := range map[string]*time.Duration{"settle": &out.Settle, "poll": &out.Poll, "timeout": &out.Timeout} {
		if *dst, err = durationParam(p, key); err != nil {
			return out, err
		}
	}
	if out.Sudo, err = boolParam(p, "sudo"); err != nil {
		return out, err
	}
	if out.name() == "" {
		return out, refusef("restart: parameter service or command is required")
	}
	return out, nil
}

func (p RestartParams) name() string {
	if p.Service != "" {
		return p.Service
	}
	return firstWord(p.Command)
}

func (p RestartParams) sudo() string {
	if p.Sudo {
		return "sudo -n "
	}
	return ""
}

func (p RestartParams) restartCommand() string {
	if p.Command != "" {
		return p.Command
	}
	// "--": the name is a unit even when it starts with a dash (-H host would be an option).
	return p.sudo() + "systemctl restart -- " + Quote(p.Service)
}

func (p RestartParams) verifyCommand() string {
	if p.VerifyCommand != "" || p.Service == "" {
		return p.VerifyCommand
	}
	return "systemctl is-active -- " + Quote(p.Service)
}

// healthCommand is the health check to run on the host, or "" when none is configured. curl
// prints the HTTP status, which becomes the reported health word.
func (p RestartParams) healthCommand() string {
	switch {
	case p.HealthCommand != "":
		return p.HealthCommand
	case p.HealthURL != "":
		return "curl -sS -o /dev/null -w '%{http_code}\\n' --fail -m 5 --url " + Quote(p.HealthURL)
	}
	return ""
}

func durationParam(p map[string]string, key string) (time.Duration, error) {
	v := p[key]
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, refusef("parameter %s=%q is not a duration like 30s", key, v)
	}
	return d, nil
}

func boolParam(p map[string]string, key string) (bool, error) {
	v := p[key]
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, refusef("parameter %s=%q is not true or false", key, v)
	}
	return b, nil
}
