package app

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/internal/testenv/elbv2standin"
)

func TestELBv2ClientFromConfigUsesTheDefaultChain(t *testing.T) {
	if c, err := elbv2Client(context.Background(), config.ELBv2{}); c != nil || err != nil {
		t.Fatalf("no region: client %v err %v, want none", c, err)
	}
	srv := elbv2standin.Start(t)
	arn := "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/checkout/6d0ecf831eec9f09"
	srv.AddGroup(arn, 8080, "i-0abc")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "example-secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	c, err := elbv2Client(context.Background(), config.ELBv2{Region: "eu-west-1", Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeTargetHealth(context.Background(), &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	if err != nil || len(out.TargetHealthDescriptions) != 1 {
		t.Fatalf("DescribeTargetHealth through the configured client: %v %+v", err, out)
	}
}
