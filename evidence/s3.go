package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
)

// Defaults for S3Config: memory held by one Put is about PartSize * (Concurrency + 1).
const (
	DefaultPartSize    = 8 << 20
	DefaultConcurrency = 2
	// MaxLinkTTL is the longest a presigned URL can live (SigV4's limit).
	MaxLinkTTL = 7 * 24 * time.Hour
)

// S3Config says where evidence lives in S3. Credentials are not part of it: they come from
// the AWS default chain (environment, shared files, web identity, IMDS), so nothing secret
// sits in Alaya's own config.
type S3Config struct {
	Bucket    string
	Prefix    string // prepended to every key, e.g. "alaya/"; object keys reported stay unprefixed
	Region    string // empty: from the default chain (AWS_REGION, shared config)
	Endpoint  string // S3-compatible servers (versitygw, MinIO); empty for AWS
	PathStyle bool   // bucket in the path instead of the host name; most S3-compatible servers
	// PartSize is the multipart part size (minimum 5 MiB; default 8 MiB). An unknown-size
	// stream can be at most 10,000 parts long: 78 GiB at the default.
	PartSize    int64
	Concurrency int // parts in flight per Put (default 2)
	// ObjectLock, when set, is the retention every object is written with; Check then also
	// refuses a bucket without Object Lock.
	ObjectLock *ObjectLock
	// APIOptions are extra SDK middleware for the client. Tests record every call with it and
	// check the calls against the IAM policy in deploy/aws.
	APIOptions []func(*middleware.Stack) error
}

// S3 is the evidence store on Amazon S3 or an S3-compatible server.
type S3 struct {
	cfg      S3Config
	client   *s3.Client
	presign  *s3.PresignClient
	uploader *manager.Uploader
	log      *slog.Logger
}

var _ Store = (*S3)(nil)

// NewS3 returns a store on cfg.Bucket using the default AWS credential chain. It does not
// contact S3; call Check for that.
func NewS3(ctx context.Context, cfg S3Config, logger *slog.Logger) (*S3, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 evidence: aws config: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		o.APIOptions = append(o.APIOptions, cfg.APIOptions...)
		// Multipart objects carry composite checksums the SDK cannot check on a whole-object
		// GET; it would log a warning for every such read. The manifest's SHA-256 is the check.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &S3{
		cfg:     cfg,
		client:  client,
		presign: s3.NewPresignClient(client),
		uploader: manager.NewUploader(client, func(u *manager.Uploader) {
			u.PartSize, u.Concurrency = cfg.PartSize, cfg.Concurrency
		}),
		log: logger,
	}, nil
}

func (c *S3Config) normalize() error {
	if c.Bucket == "" {
		return errors.New("s3 evidence: bucket is empty")
	}
	c.Prefix = strings.Trim(c.Prefix, "/")
	if c.Prefix != "" {
		if err := checkKey(c.Prefix); err != nil {
			return fmt.Errorf("s3 evidence: prefix: %w", err)
		}
		c.Prefix += "/"
	}
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.PartSize < manager.MinUploadPartSize {
		return fmt.Errorf("s3 evidence: part size %d is below S3's minimum of %d", c.PartSize, manager.MinUploadPartSize)
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.ObjectLock != nil {
		lock := *c.ObjectLock // the caller's value stays as given
		if err := lock.normalize(); err != nil {
			return fmt.Errorf("s3 evidence: %w", err)
		}
		c.ObjectLock = &lock
	}
	return nil
}

// Check asks S3 whether the bucket exists and the credentials may use it, and, with ObjectLock
// configured, whether the bucket has Object Lock enabled (ErrNoObjectLock otherwise), so a
// process can fail at start-up rather than on its first incident.
func (s *S3) Check(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.cfg.Bucket)})
	if err != nil {
		return fmt.Errorf("s3 evidence: bucket %s: %w", s.cfg.Bucket, err)
	}
	return s.checkLock(ctx)
}

// Put uploads r with the multipart upload manager, which reads a stream of unknown length
// part by part, so memory stays near PartSize * (Concurrency + 1) whatever the object's size.
// When r can seek (an in-memory buffer, a file) its SHA-256 is also stored as the object's
// x-amz-meta-sha256, so the object vouches for itself without the manifest; a stream's sum is
// known only at its end, after the metadata has been sent, and lives in the manifest alone.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, opt PutOptions) (Object, error) {
	if err := checkKey(key); err != nil {
		return Object{}, fmt.Errorf("put: %w", err)
	}
	pre, err := presum(r)
	if err != nil {
		return Object{}, fmt.Errorf("put %s: %w", key, err)
	}
	body, d := measure(ctxReader{ctx: ctx, r: r}, opt)
	in := &s3.PutObjectInput{
		Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.cfg.Prefix + key),
		Body: body, ContentType: aws.String(contentType(opt)),
	}
	if pre != "" {
		in.Metadata = map[string]string{"sha256": pre}
	}
	start := time.Now()
	s.cfg.ObjectLock.retain(in, start)
	if _, err := s.uploader.Upload(ctx, in); err != nil {
		s.abandoned(ctx, key, err)
		return Object{}, fmt.Errorf("put %s: %w", key, err)
	}
	obj := d.object(key, opt)
	if pre != "" && pre != obj.SHA256 {
		return Object{}, fmt.Errorf("put %s: body changed while it was read twice", key)
	}
	s.log.DebugContext(ctx, "evidence stored", "key", key, "bytes", obj.Size, "duration", time.Since(start))
	return obj, nil
}

// abortTimeout bounds the clean-up of a multipart upload whose context has ended.
const abortTimeout = 30 * time.Second

// abandoned aborts a failed multipart upload when the upload manager could not: it aborts with
// the upload's own context, which is already done when the run was cancelled or timed out,
// and the parts would then stay in the bucket, billed, until a lifecycle rule removes them.
func (s *S3) abandoned(ctx context.Context, key string, err error) {
	var mf manager.MultiUploadFailure
	if ctx.Err() == nil || !errors.As(err, &mf) {
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, aerr := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.cfg.Prefix + key), UploadId: aws.String(mf.UploadID()),
	})
	if aerr != nil {
		s.log.WarnContext(ctx, "multipart upload left in bucket", "key", key, "upload_id", mf.UploadID(), "err", aerr)
	}
}

// presum hashes what is left of r when r can seek, and rewinds it; "" otherwise.
func presum(r io.Reader) (string, error) {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		return "", nil
	}
	pos, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return "", nil // claims to seek but cannot (a pipe behind *os.File): treat as a stream
	}
	h := sha256.New()
	if _, err := io.Copy(h, rs); err != nil {
		return "", err
	}
	if _, err := rs.Seek(pos, io.SeekStart); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Get opens the object at key.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.cfg.Prefix + key),
	})
	if isNotFound(err) {
		return nil, fmt.Errorf("get %s: %w: %w", key, ErrNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return out.Body, nil
}

// Link returns a presigned GET URL valid for ttl (at most MaxLinkTTL). With temporary
// credentials (an instance role, web identity) the URL stops working when they expire,
// which may be sooner.
func (s *S3) Link(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := checkKey(key); err != nil {
		return "", fmt.Errorf("link: %w", err)
	}
	if ttl <= 0 || ttl > MaxLinkTTL {
		return "", fmt.Errorf("link %s: %v: %w", key, ttl, ErrInvalidTTL)
	}
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.cfg.Prefix + key),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("link %s: %w", key, err)
	}
	return req.URL, nil
}
