package s3server

import (
	"context"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestStart(t *testing.T) {
	ctx := context.Background()
	srv := Start(t)
	other := srv.NewBucket(t, "other")
	out, err := srv.Client().ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, b := range out.Buckets {
		names[aws.ToString(b.Name)] = true
	}
	if !names[srv.Bucket] || !names[other] {
		t.Errorf("buckets %v, want %s and %s", names, srv.Bucket, other)
	}
	cfg := srv.Config()
	if cfg.Bucket != srv.Bucket || cfg.Endpoint != srv.Endpoint || !cfg.PathStyle || cfg.Region != Region {
		t.Errorf("Config() = %+v", cfg)
	}
}

func TestSetEnvIsolatesFromHome(t *testing.T) {
	srv := Start(t)
	for k, want := range map[string]string{
		"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey,
		"AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true",
	} {
		if got := os.Getenv(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		fi, err := os.Stat(os.Getenv(k))
		if err != nil || fi.Size() != 0 {
			t.Errorf("%s = %q (%v), want an empty file", k, os.Getenv(k), err)
		}
	}
}

func TestCleanupStopsServer(t *testing.T) {
	var endpoint string
	t.Run("owner", func(t *testing.T) {
		endpoint = Start(t).Endpoint
		resp, err := http.Get(endpoint)
		if err != nil {
			t.Fatalf("server not answering: %v", err)
		}
		resp.Body.Close()
	})
	if resp, err := http.Get(endpoint); err == nil {
		resp.Body.Close()
		t.Fatal("server still answering after its test ended")
	}
}

func TestNewLockedBucket(t *testing.T) {
	ctx := context.Background()
	srv := Start(t)
	client := srv.Client()
	locked := srv.NewLockedBucket(t, "locked")
	out, err := client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(locked)})
	if err != nil || out.ObjectLockConfiguration == nil || out.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
		t.Fatalf("object lock of %s: %+v, %v", locked, out, err)
	}
	vers, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(locked)})
	if err != nil || vers.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("versioning of %s: %+v, %v; Object Lock implies it", locked, vers, err)
	}
	if _, err := client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(srv.Bucket)}); err == nil {
		t.Errorf("the default bucket %s has Object Lock", srv.Bucket)
	}
}
