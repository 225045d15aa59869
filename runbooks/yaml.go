package runbooks

import "time"

// The YAML shapes of a runbook file. They are kept apart from the exported, validated types so
// the file format can stay friendly (optional fields, defaults, one key per step kind) while the
// rest of Alaya sees only checked values. The `doc` tags feed the JSON Schema (schema.go), so
// an editor shows the same words as docs/RUNBOOKS.md.

type fileYAML struct {
	Name        string         `yaml:"name" doc:"Unique name of the runbook; lower case letters, digits, - and _." required:"true"`
	Description string         `yaml:"description" doc:"What the runbook is for, in a sentence or two; shown in notes and plans."`
	Owner       string         `yaml:"owner" doc:"Team or person who maintains the runbook." required:"true"`
	Order       *int           `yaml:"order" doc:"Evaluation order: lower first (default 100); ties are broken by file name."`
	Stop        bool           `yaml:"stop" doc:"When this runbook matches, later runbooks are not evaluated."`
	Match       string         `yaml:"match" doc:"expr rule over the incident (event, incident, alerts, service, labels, priority, urgency, params); must be true or false." required:"true"`
	Params      map[string]any `yaml:"params" doc:"Named parameters with their values, available as params.NAME in every expression and template." schema:"params"`
	Targets     targetsYAML    `yaml:"targets" doc:"Which inventory hosts the runbook acts on." required:"true"`
	Limits      limitsYAML     `yaml:"limits" doc:"Safety limits for one run."`
	Note        noteYAML       `yaml:"note" doc:"What goes into the incident note besides the per-step reports."`
	Slack       slackYAML      `yaml:"slack" doc:"Where the run's Slack thread goes and who is mentioned; default: the config's slack.service_channels, then slack.channel."`
	Steps       []stepYAML     `yaml:"steps" doc:"The ordered steps; gates must come before the steps that change systems." required:"true"`
}

type targetsYAML struct {
	Expr   string            `yaml:"expr" doc:"expr returning a host name or a list of host names, e.g. hosts_from_alerts(alerts, \"host\")."`
	Labels map[string]string `yaml:"labels" doc:"Inventory labels a host must carry; alone, selects every such host; with expr, filters the named hosts."`
}

type limitsYAML struct {
	MaxTargets  int           `yaml:"max_targets" doc:"At most this many hosts per run (default 5); the rest are refused."`
	Concurrency int           `yaml:"concurrency" doc:"Hosts worked on at once (default: 1 if any step changes a system, else max_targets)."`
	Cooldown    time.Duration `yaml:"cooldown" doc:"Minimum time between two runs of this runbook on the same host, e.g. 30m."`
}

type noteYAML struct {
	Title string `yaml:"title" doc:"Headline for the note instead of the runbook name."`
	Lines int    `yaml:"lines" doc:"Default number of telling output lines per step and host (default 5)."`
}

type slackYAML struct {
	Channel       string             `yaml:"channel" doc:"Channel id (C…) for the run's thread; default from the config."`
	MentionGroups []string           `yaml:"mention_groups" doc:"Slack user group ids (S…) mentioned in the thread's top message, besides the people on call now."`
	Approvers     slackApproversYAML `yaml:"approvers" doc:"Who may approve from Slack for incidents that are not in PagerDuty (Alertmanager, declared sources); none named: nobody may."`
}

type slackApproversYAML struct {
	Users  []string `yaml:"users" doc:"Slack user ids (U… or W…) allowed to approve."`
	Groups []string `yaml:"groups" doc:"Slack user group ids (S…) whose members may approve."`
}

type stepYAML struct {
	Name            string        `yaml:"name" doc:"Unique step name; lower case letters, digits, - and _. Used in evidence paths and as steps.NAME in when." required:"true"`
	When            string        `yaml:"when" doc:"expr over steps (earlier results on the same host: ok, exit_code, stdout, stderr, skipped) and the incident; the step runs only when true."`
	Timeout         time.Duration `yaml:"timeout" doc:"Per host time limit (default 30s for run and collect)."`
	ContinueOnError bool          `yaml:"continue_on_error" doc:"A failure of this step on a host does not stop the later steps on that host."`
	Report          reportYAML    `yaml:"report" doc:"What of this step's output goes into the note."`

	Run      string        `yaml:"run" doc:"Shell command template; {{ expr }} values are always single-quoted for the shell." kind:"run"`
	Collect  []string      `yaml:"collect" doc:"Absolute paths of files to copy from the host into the evidence; {{ expr }} allowed." kind:"collect"`
	Gate     *gateYAML     `yaml:"gate" doc:"Stop and ask a person to approve the steps that follow." kind:"gate"`
	Restart  *restartYAML  `yaml:"restart" doc:"Restart a service and check it came back (changes the system)." kind:"restart"`
	LBDetach *lbYAML       `yaml:"lb_detach" doc:"Take the host out of its load balancer (changes the system)." kind:"lb_detach"`
	LBAttach *lbYAML       `yaml:"lb_attach" doc:"Put the host back into its load balancer (changes the system)." kind:"lb_attach"`
	HeapDump *heapDumpYAML `yaml:"heap_dump" doc:"Dump the heap of a JVM into the evidence (pauses the JVM)." kind:"heap_dump"`
}

type reportYAML struct {
	Lines int    `yaml:"lines" doc:"How many telling lines per host (default from note.lines)."`
	Match string `yaml:"match" doc:"Regular expression; output lines matching it are the telling ones."`
	Label string `yaml:"label" doc:"Label in the note instead of the step name."`
}

type gateYAML struct {
	Expires   time.Duration `yaml:"expires" doc:"How long the approval may take before the run is abandoned (default 30m)."`
	Approvers approversYAML `yaml:"approvers" doc:"Who may approve; empty means whoever is on call for the incident's escalation policy, or an assignee."`
	Message   string        `yaml:"message" doc:"Shown to the responder with the plan."`
}

type approversYAML struct {
	Users []string `yaml:"users" doc:"PagerDuty user ids or emails allowed to approve."`
	Teams []string `yaml:"teams" doc:"PagerDuty team ids or names whose members may approve."`
}

type restartYAML struct {
	Service     string `yaml:"service" doc:"systemd unit (or service name) to restart; template." required:"true"`
	HealthCheck string `yaml:"health_check" doc:"Shell command template that must succeed after the restart."`
	Command     string `yaml:"command" doc:"Shell command template that restarts the service, for hosts without systemd (default: systemctl restart SERVICE)."`
	Verify      string `yaml:"verify_command" doc:"Shell command template that exits 0 once the service is up (default: systemctl is-active SERVICE)."`
}

type lbYAML struct {
	Provider       string        `yaml:"provider" doc:"haproxy or elbv2." required:"true" enum:"haproxy,elbv2"`
	LBHost         string        `yaml:"lb_host" doc:"haproxy: inventory host running HAProxy (its runtime API socket is used there)."`
	Socket         string        `yaml:"socket" doc:"haproxy: runtime API socket path (default /run/haproxy/admin.sock)."`
	Backend        string        `yaml:"backend" doc:"haproxy: backend name; template."`
	Server         string        `yaml:"server" doc:"haproxy: server name in the backend (default {{ host.name }}); template."`
	TargetGroupARN string        `yaml:"target_group_arn" doc:"elbv2: target group ARN; template."`
	TargetID       string        `yaml:"target_id" doc:"elbv2: target id, an instance id or IP (default {{ host.address }}); template."`
	Port           int           `yaml:"port" doc:"elbv2: target port, when the target group needs one."`
	MinHealthy     *int          `yaml:"min_healthy" doc:"lb_detach: refuse when fewer healthy servers would remain (default 1; 0 turns the guard off)."`
	Wait           time.Duration `yaml:"wait" doc:"How long to wait for draining (detach) or healthy (attach); default 2m."`
}

type heapDumpYAML struct {
	Process  string `yaml:"process" doc:"Pattern (pgrep -f) finding the JVM; template." required:"true"`
	Path     string `yaml:"path" doc:"Where the JVM writes the dump on the host (default /var/tmp/alaya-<incident>-<host>.hprof); template."`
	Compress bool   `yaml:"compress" doc:"gzip the dump while streaming it into the evidence."`
	MaxSize  string `yaml:"max_size" doc:"Refuse dumps larger than this, e.g. 8GiB (default 16GiB)."`
}
