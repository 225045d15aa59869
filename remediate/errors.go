package remediate

import (
	"errors"

	"github.com/alaya-sre/alaya/pagerduty"
	"github.com/alaya-sre/alaya/queue"
)

// errStop ends a run's stage list early without error: the run is finished (deduplicated,
// refused, or reported).
var errStop = errors.New("stop")

// classify marks err for the consumer. Only an incident PagerDuty no longer has is permanent;
// everything else is retried, because runs are idempotent (retrying is safe) and giving up
// silently is not. Stages that know better classify at the source (record: the evidence
// store's own verdict).
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pagerduty.ErrNotFound):
		return queue.Permanent(err)
	}
	return queue.Retry(err)
}

// joinClassified combines the errors of several runs: if any can be retried the event is
// retried (finished runs are skipped next time by the ledger), otherwise it is permanent.
func joinClassified(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0] // keeps its own class and delay (a live owner's RetryAfter)
	}
	joined := errors.Join(errs...)
	for _, e := range errs {
		if !queue.IsPermanent(e) {
			return queue.Retry(joined)
		}
	}
	return queue.Permanent(joined)
}
