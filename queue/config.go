package queue

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Names of the KeyValue buckets Connect creates, as the default installation names them (an
// installation with another Config.Prefix has the same buckets with its prefix in place of
// "alaya"); KV takes these names whatever the prefix. The worker keeps its run ledger in
// BucketRuns, parked approval gates in BucketApprovals, per-runbook/per-host locks in
// BucketLeases and the fleet-wide switches in BucketSwitches, the one bucket whose entries never
// expire.
const (
	BucketRuns      = "alaya_runs"
	BucketApprovals = "alaya_approvals"
	BucketLeases    = "alaya_leases"
	BucketSwitches  = "alaya_switches"
)

// switchesHistory is how many past values of each switch the switches bucket keeps (the most
// JetStream KV allows): who turned dry-run on, and when, stays readable.
const switchesHistory = 64

// Defaults, chosen for PagerDuty's delivery behaviour and runs that take seconds to minutes.
const (
	// DefaultPrefix names the default installation; the other names below derive from it.
	DefaultPrefix   = "alaya"
	DefaultStream   = "ALAYA_EVENTS"
	DefaultSubjects = "alaya.events"
	DefaultConsumer = "alaya-worker"

	// DefaultReplicas suits one server; a three-node cluster should say 3.
	DefaultReplicas = 1

	// DefaultDuplicates is the stream's de-duplication window. It must outlast every
	// redelivery of one webhook: PagerDuty retries a failed delivery (timeout, 5xx, 429)
	// "periodically for up to 48 hours" (developer docs, Webhook Behavior), and a receiver that
	// answered 503 while its publish was still in flight may have stored the event after all.
	// 72 hours covers the 48 with a margin. The cost is server memory: JetStream keeps every
	// message id of the window in a map (on the order of 100 bytes each): ~26 MB for a sustained
	// event a second, but a sustained 10,000 per second (the receiver's benchmark rate) would
	// need hundreds of GB, so a deployment that really sees such rates should shorten the window
	// and lean on the second line of defence: the worker's run ledger, keyed by a run id derived
	// from the event, prevents a second run for as long as RunsTTL. Shortening the window only
	// lets a late copy into the stream; it does not cause a second run.
	DefaultDuplicates = 72 * time.Hour

	// DefaultMaxAge keeps events for a week after they arrived, so an incident can be replayed
	// and audited; it must be at least the Duplicates window (the server insists).
	DefaultMaxAge = 7 * 24 * time.Hour

	// DefaultAckWait is how long a delivery may go without an ack or an InProgress before it is
	// redelivered. Consume sends InProgress every AckWait/3 while a handler runs, so this
	// bounds how long a crashed worker's event waits, not how long a run may take.
	DefaultAckWait = 30 * time.Second

	// DefaultMaxDeliver is how many deliveries an event gets before it is given up (about 70
	// minutes with DefaultBackOff), long enough to ride out a PagerDuty or S3 outage.
	DefaultMaxDeliver = 20
	DefaultWorkers    = 4

	DefaultRunsTTL      = 30 * 24 * time.Hour
	DefaultApprovalsTTL = 7 * 24 * time.Hour
	DefaultLeaseTTL     = 5 * time.Minute

	defaultSetupTimeout = 15 * time.Second
)

// DefaultBackOff is the delay before the next delivery after the n-th failed one (the last
// entry repeats). With DefaultMaxDeliver an event is retried for about 70 minutes.
var DefaultBackOff = []time.Duration{
	time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute,
}

// Config says where the queue lives and how deliveries behave. Zero values take the defaults
// above, the only place Alaya's queue defaults are written (package config refers to them).
// Every daemon (receivers and workers) should use the same values: the stream, consumer and
// buckets are created or updated by whichever daemon connects, so the last one to start wins,
// except that none lowers the replicas or MaxDeliver it finds. Operator commands (Bind) change
// nothing.
type Config struct {
	URLs []string // NATS servers; default nats://127.0.0.1:4222
	Name string   // connection name shown by the server (optional)
	// Identity, at most one of: a .creds file, an nkey seed file, or a user and password.
	Credentials  string
	NKeySeedFile string
	User         string
	Password     string   // a secret: Config is never logged or printed
	InboxPrefix  string   // replies arrive on InboxPrefix.>; one per role keeps them private
	TLS          TLSFiles // TLS to the servers; zero: plain TCP

	// Prefix names one installation: its stream (PREFIX_EVENTS), subjects (prefix.events.>),
	// consumer (prefix-worker) and buckets (prefix_runs, ...). Two installations in one NATS
	// account need different prefixes; one account per installation is the safer rule.
	Prefix     string        // default "alaya"
	Stream     string        // default derived from Prefix: ALAYA_EVENTS
	Subjects   string        // subject prefix, default derived from Prefix: "alaya.events"
	Replicas   int           // stream, consumer and bucket replicas; default 1, 3 in a cluster
	Duplicates time.Duration // de-duplication window, see DefaultDuplicates
	MaxAge     time.Duration // how long events are kept, see DefaultMaxAge

	Consumer   string        // durable pull consumer, default derived from Prefix: alaya-worker
	AckWait    time.Duration // see DefaultAckWait
	MaxDeliver int           // deliveries before an event is given up (terminated and logged)
	// BackOff is applied by Consume through NakWithDelay, not set on the consumer: the server
	// forces AckWait = BackOff[0] on a consumer with a BackOff, which would tie the heartbeat
	// interval for long runs to the delay of the first retry.
	BackOff []time.Duration
	Workers int // events handled at once by one Consume

	RunsTTL      time.Duration // how long run ledger entries are kept after their last update
	ApprovalsTTL time.Duration // how long approval records are kept
	LeaseTTL     time.Duration // leases expire unless renewed within this

	SetupTimeout time.Duration // bound on creating the stream, consumer and buckets at Connect
}

func (c Config) withDefaults() Config {
	setDefault(&c.Prefix, DefaultPrefix)
	setDefault(&c.Stream, StreamName(c.Prefix))
	setDefault(&c.Subjects, c.Prefix+".events")
	setDefault(&c.Consumer, c.Prefix+"-worker")
	setDefault(&c.Replicas, DefaultReplicas)
	setDefault(&c.Duplicates, DefaultDuplicates)
	setDefault(&c.MaxAge, max(DefaultMaxAge, c.Duplicates))
	setDefault(&c.AckWait, DefaultAckWait)
	setDefault(&c.MaxDeliver, DefaultMaxDeliver)
	setDefault(&c.Workers, DefaultWorkers)
	setDefault(&c.RunsTTL, DefaultRunsTTL)
	setDefault(&c.ApprovalsTTL, DefaultApprovalsTTL)
	setDefault(&c.LeaseTTL, DefaultLeaseTTL)
	setDefault(&c.SetupTimeout, defaultSetupTimeout)
	if len(c.BackOff) == 0 {
		c.BackOff = DefaultBackOff
	}
	if len(c.URLs) == 0 {
		c.URLs = []string{"nats://127.0.0.1:4222"}
	}
	return c
}

// StreamName is the default stream of the installation named prefix: ALAYA_EVENTS for "alaya".
func StreamName(prefix string) string {
	return strings.ToUpper(strings.ReplaceAll(prefix, "-", "_")) + "_EVENTS"
}

// bucketName is the name of a bucket (BucketRuns, ...) in this installation.
func (c Config) bucketName(bucket string) string {
	return c.Prefix + strings.TrimPrefix(bucket, DefaultPrefix)
}

// validPrefix: one subject token that is also valid in stream, consumer and bucket names.
var validPrefix = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

func (c Config) validate() error {
	var errs []error
	if !validPrefix.MatchString(c.Prefix) {
		errs = append(errs, fmt.Errorf("prefix %q: use letters, digits, - and _ (it becomes part of subject, stream and bucket names)", c.Prefix))
	}
	if c.Duplicates > c.MaxAge {
		errs = append(errs, fmt.Errorf("duplicates window %s is longer than max age %s", c.Duplicates, c.MaxAge))
	}
	if c.RunsTTL < c.Duplicates {
		errs = append(errs, fmt.Errorf("run ledger TTL %s is shorter than the duplicates window %s: a replay the stream "+
			"no longer recognises would find no run and start another", c.RunsTTL, c.Duplicates))
	}
	if c.AckWait < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("ack wait %s is too short to send heartbeats", c.AckWait))
	}
	if c.MaxDeliver < 1 || c.Workers < 1 || c.Replicas < 1 {
		errs = append(errs, errors.New("max deliver, workers and replicas must be at least 1"))
	}
	for _, d := range c.BackOff {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("back-off %s is not positive", d))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("queue config: %w", err)
	}
	return nil
}

// backOff is the delay before redelivering after the n-th delivery failed.
func (c Config) backOff(n uint64) time.Duration {
	i := min(max(n, 1), uint64(len(c.BackOff))) - 1
	return c.BackOff[i]
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
