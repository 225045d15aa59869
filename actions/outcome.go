package actions

import (
	"fmt"
	"time"
)

// Kinds of action, as runbooks name them in a step's `kind`.
const (
	KindRestart  = "restart"
	KindLBDetach = "lb_detach"
	KindLBAttach = "lb_attach"
	KindHeapDump = "heap_dump"
)

// Object is a stored evidence object an action produced (a heap dump). It mirrors
// evidence.Object so that this package's record does not depend on the store's type.
type Object struct {
	Key    string
	Size   int64
	SHA256 string // hex of the stored bytes
	// SourceSHA256 and SourceSize describe the file on the host when the stored object is a
	// transformation of it (compressed); they equal SHA256 and Size otherwise.
	SourceSHA256 string
	SourceSize   int64
}

// Outcome is what one action did on one host: the line for the incident note and the record
// for the run's evidence manifest. The pipeline fills Step and adds who approved it.
type Outcome struct {
	Step     string
	Kind     string
	Host     string
	Started  time.Time
	Finished time.Time
	OK       bool
	// Summary is one phone-readable line: "restarted nginx on app-3: active, health ok".
	Summary string
	// Detail is the longer account: commands, replies, timings, the reason of a failure.
	Detail string
	// Commands lists what was executed or called, in order, for the manifest.
	Commands []string
	// Objects are evidence objects produced (heap dumps), for links in the note.
	Objects []Object
	// Pool and Member name the load-balancer membership a detach/attach acted on.
	Pool   string
	Member string
	// StillDetached is set when, after this action, the member is (or may be) out of its load
	// balancer: after any detach that got as far as changing state, and after a failed attach.
	StillDetached bool
}

// begin starts an Outcome for kind on host.
func begin(kind, host string) Outcome {
	return Outcome{Kind: kind, Host: host, Started: time.Now()}
}

// finish stamps the end, sets the summary and returns the outcome with err, so that actions can
// end with `return o.finish(err, "...")`.
func (o *Outcome) finish(err error, format string, args ...any) (Outcome, error) {
	o.Finished = time.Now()
	o.OK = err == nil
	o.Summary = fmt.Sprintf(format, args...)
	if err != nil {
		o.note("error: %v", err)
	}
	return *o, err
}

// ran records a command in the outcome.
func (o *Outcome) ran(cmd string) { o.Commands = append(o.Commands, cmd) }

// note appends a line to Detail.
func (o *Outcome) note(format string, args ...any) {
	if o.Detail != "" {
		o.Detail += "\n"
	}
	o.Detail += fmt.Sprintf(format, args...)
}
