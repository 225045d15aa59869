package queue

import "time"

// Handlers classify their failures where they happen, by wrapping the error; Consume turns the
// class into Ack, NakWithDelay or Term in one place (settle.go). An error that is not wrapped
// at all is retried: runs are idempotent, so retrying costs little, and silently giving up on
// an incident costs a lot.

// Retry marks err as transient: the message is redelivered after the back-off for its delivery
// count. Retry(nil) is nil.
func Retry(err error) error {
	if err == nil {
		return nil
	}
	return &classified{err: err, class: classRetry}
}

// RetryAfter marks err as transient with an explicit delay, for failures that say when to come
// back (a 429 with ratelimit-reset, a lease held by another worker). RetryAfter(nil, d) is nil.
func RetryAfter(err error, delay time.Duration) error {
	if err == nil {
		return nil
	}
	return &classified{err: err, class: classRetry, delay: delay}
}

// Permanent marks err as one that no redelivery can fix (a malformed event, an unknown host, a
// host-key mismatch): the message is terminated and the reason logged. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &classified{err: err, class: classPermanent}
}

// IsPermanent reports whether err was marked Permanent (and not re-marked Retry around it).
func IsPermanent(err error) bool {
	c := classOf(err)
	return c != nil && c.class == classPermanent
}

type class int

const (
	classRetry class = iota + 1
	classPermanent
)

// classified carries a failure's class through %w wrapping.
type classified struct {
	err   error
	class class
	delay time.Duration
}

func (c *classified) Error() string { return c.err.Error() }
func (c *classified) Unwrap() error { return c.err }

// classOf finds the outermost classification in err's tree: a caller that wraps a Permanent
// error in Retry has the last word. An errors.Join is permanent only if every branch is: any
// retryable or unclassified branch makes the whole retryable (parts that finished are skipped
// on redelivery by the run ledger).
func classOf(err error) *classified {
	switch e := err.(type) {
	case nil:
		return nil
	case *classified:
		return e
	case interface{ Unwrap() error }:
		return classOf(e.Unwrap())
	case interface{ Unwrap() []error }:
		return classOfJoined(e.Unwrap())
	}
	return nil
}

func classOfJoined(errs []error) *classified {
	var permanent, retry *classified
	for _, e := range errs {
		switch c := classOf(e); {
		case c == nil:
			return nil
		case c.class == classRetry && retry == nil:
			retry = c
		case c.class == classPermanent && permanent == nil:
			permanent = c
		}
	}
	if retry != nil {
		return retry
	}
	return permanent
}
