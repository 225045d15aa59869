// Package awscalls records the AWS API calls a test's SDK clients make, as the IAM actions and
// resources they need, and checks them against Alaya's IAM policies in deploy/aws. A policy that
// forbids a call Alaya makes breaks evidence or load-balancer steps in production; one that
// allows a call Alaya never makes is privilege nobody needs. Tests only: production code just
// accepts SDK middleware (evidence.S3Config.APIOptions, the ELBv2 client's Options.APIOptions).
package awscalls

import (
	"context"
	"flag"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Call is one API call as IAM sees it.
type Call struct {
	Operation string // SDK operation, e.g. UploadPart
	Action    string // IAM action, e.g. s3:PutObject
	Resource  string // ARN the action is authorized against
}

// Recorder collects calls from any number of clients; safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
}

// Record is an SDK API option (append it to a client's APIOptions): it notes every operation
// the client starts, presigned requests included, whether or not the request then succeeds.
func (r *Recorder) Record(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("alaya-record-call",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			r.add(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), in.Parameters)
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// Calls returns what was recorded so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

func (r *Recorder) add(service, op string, params any) {
	c := Call{Operation: op, Action: iamAction(service, op), Resource: resource(service, op, params)}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	if service == "S3" && field(params, "ObjectLockMode") != "" {
		// A put that sets a retention is authorized by both actions (S3's PutObject and
		// CreateMultipartUpload documentation: x-amz-object-lock-mode needs PutObjectRetention).
		r.calls = append(r.calls, Call{Operation: op, Action: "s3:PutObjectRetention", Resource: c.Resource})
	}
}

// s3Actions maps S3 operations to the IAM action that authorizes them where the names differ
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html).
var s3Actions = map[string]string{
	"HeadBucket":              "s3:ListBucket",
	"ListObjectsV2":           "s3:ListBucket",
	"HeadObject":              "s3:GetObject",
	"CreateMultipartUpload":   "s3:PutObject",
	"UploadPart":              "s3:PutObject",
	"CompleteMultipartUpload": "s3:PutObject",

	"GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
}

func iamAction(service, op string) string {
	switch service {
	case "S3":
		if a, ok := s3Actions[op]; ok {
			return a
		}
		return "s3:" + op
	case "Elastic Load Balancing v2":
		return "elasticloadbalancing:" + op
	}
	return service + ":" + op
}

// resource is the ARN IAM checks: the object for object operations, the bucket for bucket
// operations, the target group for ELBv2 changes, and "*" for ELBv2 descriptions, which IAM
// does not scope to a resource.
func resource(service, op string, params any) string {
	bucket, key, tg := field(params, "Bucket"), field(params, "Key"), field(params, "TargetGroupArn")
	switch {
	case service == "S3" && key != "":
		return "arn:aws:s3:::" + bucket + "/" + key
	case service == "S3":
		return "arn:aws:s3:::" + bucket
	case service == "Elastic Load Balancing v2" && op != "DescribeTargetHealth" && tg != "":
		return tg
	}
	return "*"
}

// field reads a string field of an SDK input struct by name (a *string, or an enum such as
// types.ObjectLockMode), "" when absent.
func field(params any, name string) string {
	v := reflect.ValueOf(params)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	f := v.FieldByName(name)
	if f.IsValid() && f.Kind() == reflect.String {
		return f.String()
	}
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
		return ""
	}
	return f.Elem().String()
}

// CheckMain is for a package's TestMain: it runs the tests, then checks every call rec saw
// against the policy at policyPath for the given services, and returns the exit status. Calls
// no statement allows always fail; allowed actions nobody called fail only when the whole
// package ran (no -run, -skip or -short) and made calls at all (the S3 server or stand-in was
// there), since a filtered run cannot know what the rest would have called.
func CheckMain(m interface{ Run() int }, rec *Recorder, policyPath string, services ...string) int {
	code := m.Run()
	calls := rec.Calls()
	if len(calls) == 0 {
		return code
	}
	data, err := os.ReadFile(policyPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "IAM policy check:", err)
		return 1
	}
	p, err := ParsePolicy(data)
	if err != nil {
		fmt.Fprintf(os.Stderr, "IAM policy check: %s: %v\n", policyPath, err)
		return 1
	}
	problems := p.Check(calls, services, wholeRun())
	for _, pr := range problems {
		fmt.Fprintf(os.Stderr, "IAM policy check: %s: %s\n", policyPath, pr)
	}
	if len(problems) > 0 {
		fmt.Fprintln(os.Stderr, "FAIL: IAM policy does not match the AWS calls the tests made")
		return 1
	}
	return code
}

func wholeRun() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}
