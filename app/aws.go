package app

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/alaya-sre/alaya/actions/elbv2"
	"github.com/alaya-sre/alaya/config"
)

// elbv2Client returns the ELBv2 client for lb_detach/lb_attach with provider elbv2, built from
// the AWS default credential chain, or nil when no region is configured.
func elbv2Client(ctx context.Context, cfg config.ELBv2) (elbv2.API, error) {
	if cfg.Region == "" {
		return nil, nil
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.Region))
	if err != nil {
		return nil, fmt.Errorf("worker: elbv2: aws config: %w", err)
	}
	return elasticloadbalancingv2.NewFromConfig(awsCfg, func(o *elasticloadbalancingv2.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	}), nil
}
