package remediate

import (
	"errors"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/pagerduty"
	"github.com/alaya-sre/alaya/queue"
)

// errStop ends a run's stage list early without error: the run is finished (deduplicated,
// refused, or reported).
var errStop = errors.New("stop")

// classify marks err as retryable or permanent for the consumer, asking the package the
// failure came from. Unknown errors are retried: runs are idempotent, so retrying is safe,
// and giving up silently is not.
func classify(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, ErrRunElsewhere):
		return queue.Retry(err)
	case isPermanent(err):
		return queue.Permanent(err)
	}
	return queue.Retry(err)
}

func isPermanent(err error) bool {
	var pd, ev, ex bool
	pd = errors.Is(err, pagerduty.ErrNotFound)
	ev = !evidence.Retryable(err) && isEvidenceErr(err)
	ex = errors.Is(err, executor.ErrHostKey) || errors.Is(err, executor.ErrAuth)
	return pd || ev || ex
}

// isEvidenceErr is false for errors that did not come from the store; evidence.Retryable
// alone cannot tell "not mine" from "mine and permanent".
func isEvidenceErr(err error) bool { return errors.As(err, new(*evidenceError)) }

// evidenceError tags errors from the evidence stage.
type evidenceError struct{ err error }

func (e *evidenceError) Error() string { return e.err.Error() }
func (e *evidenceError) Unwrap() error { return e.err }

// joinClassified combines the errors of several runs: if any can be retried the event is
// retried (finished runs are skipped next time by the ledger), otherwise it is permanent.
func joinClassified(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	joined := errors.Join(errs...)
	for _, e := range errs {
		if !queue.IsPermanent(e) {
			return queue.Retry(joined)
		}
	}
	return queue.Permanent(joined)
}
