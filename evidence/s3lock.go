package evidence

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ObjectLock is the S3 Object Lock retention every evidence object is written with, so that
// nobody (in COMPLIANCE mode not even the account's root user) can delete or overwrite the
// evidence of an incident before Days have passed. The bucket must have been created with
// Object Lock enabled; S3Config.ObjectLock nil writes objects without retention.
type ObjectLock struct {
	// Mode is GOVERNANCE (a principal with s3:BypassGovernanceRetention may still delete) or
	// COMPLIANCE (nobody may, until the retention ends).
	Mode string
	Days int // retention from the moment each object is written
}

// MaxLockDays bounds the retention: S3 accepts up to 100 years, but a typo of a few zeros
// in COMPLIANCE mode would keep (and bill) evidence nobody can ever delete.
const MaxLockDays = 3650

// ErrNoObjectLock means Object Lock is configured for evidence but the bucket does not have it:
// objects would be written without the retention asked for. Permanent: a person must create
// the bucket with Object Lock, or turn it on for the existing, versioned bucket.
var ErrNoObjectLock = errors.New("bucket has no Object Lock enabled")

func (l *ObjectLock) normalize() error {
	l.Mode = strings.ToUpper(l.Mode)
	switch types.ObjectLockMode(l.Mode) {
	case types.ObjectLockModeGovernance, types.ObjectLockModeCompliance:
	default:
		return fmt.Errorf("object lock mode %q: expected GOVERNANCE or COMPLIANCE", l.Mode)
	}
	if l.Days < 1 || l.Days > MaxLockDays {
		return fmt.Errorf("object lock days %d: expected 1 to %d", l.Days, MaxLockDays)
	}
	return nil
}

// retain sets the retention on an upload. The SDK's upload manager copies it to the
// CreateMultipartUpload of a large object. S3 refuses a put with retention that carries no
// checksum (Content-MD5 or a flexible checksum), and the SDK sends one only by default
// (AWS_REQUEST_CHECKSUM_CALCULATION=when_required turns it off), so the algorithm is named.
func (l *ObjectLock) retain(in *s3.PutObjectInput, now time.Time) {
	if l == nil {
		return
	}
	in.ObjectLockMode = types.ObjectLockMode(l.Mode)
	in.ObjectLockRetainUntilDate = aws.Time(now.Add(time.Duration(l.Days) * 24 * time.Hour))
	if in.ChecksumAlgorithm == "" {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
	}
}

// checkLock refuses a bucket without Object Lock when retention is configured.
func (s *S3) checkLock(ctx context.Context) error {
	if s.cfg.ObjectLock == nil {
		return nil
	}
	out, err := s.client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(s.cfg.Bucket)})
	if code, _ := apiCode(err); code == "ObjectLockConfigurationNotFoundError" {
		return fmt.Errorf("s3 evidence: bucket %s: object lock %s for %d days is configured, but the %w (see docs/OPERATIONS.md, \"Evidence that cannot be deleted\")",
			s.cfg.Bucket, s.cfg.ObjectLock.Mode, s.cfg.ObjectLock.Days, ErrNoObjectLock)
	}
	if err != nil {
		return fmt.Errorf("s3 evidence: bucket %s: object lock configuration: %w", s.cfg.Bucket, err)
	}
	if out.ObjectLockConfiguration == nil || out.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
		return fmt.Errorf("s3 evidence: bucket %s: object lock %s for %d days is configured, but the %w",
			s.cfg.Bucket, s.cfg.ObjectLock.Mode, s.cfg.ObjectLock.Days, ErrNoObjectLock)
	}
	return nil
}
