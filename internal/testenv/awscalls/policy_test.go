package awscalls

import (
	"os"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	const tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/0123456789abcdef"
	put := Call{"UploadPart", "s3:PutObject", "arn:aws:s3:::evidence/alaya/incidents/Q1/x"}
	abort := Call{"AbortMultipartUpload", "s3:AbortMultipartUpload", "arn:aws:s3:::evidence/alaya/incidents/Q1/x"}
	head := Call{"HeadBucket", "s3:ListBucket", "arn:aws:s3:::evidence"}
	describe := Call{"DescribeTargetHealth", "elasticloadbalancing:DescribeTargetHealth", "*"}
	register := Call{"RegisterTargets", "elasticloadbalancing:RegisterTargets", tg}
	deregister := Call{"DeregisterTargets", "elasticloadbalancing:DeregisterTargets", tg}
	tests := []struct {
		name     string
		policy   string
		calls    []Call
		complete bool
		want     []string // substrings, one per expected problem
	}{
		{"all allowed", `{"Version":"2012-10-17","Statement":[
			{"Sid":"o","Effect":"Allow","Action":["s3:PutObject","s3:AbortMultipartUpload"],"Resource":"arn:aws:s3:::${EvidenceBucket}/${EvidencePrefix}*"},
			{"Sid":"b","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::${EvidenceBucket}"}]}`,
			[]Call{put, abort, head}, true, nil},
		{"missing action", `{"Version":"2012-10-17","Statement":[
			{"Sid":"o","Effect":"Allow","Action":["s3:PutObject"],"Resource":"arn:aws:s3:::${EvidenceBucket}/*"}]}`,
			[]Call{put, abort}, true, []string{"calls AbortMultipartUpload"}},
		{"bucket action on objects only", `{"Version":"2012-10-17","Statement":[
			{"Sid":"o","Effect":"Allow","Action":["s3:ListBucket"],"Resource":"arn:aws:s3:::${EvidenceBucket}/*"}]}`,
			[]Call{head}, true, []string{"calls HeadBucket"}},
		{"unused action", `{"Version":"2012-10-17","Statement":[
			{"Sid":"o","Effect":"Allow","Action":["s3:PutObject","s3:DeleteObject"],"Resource":"*"}]}`,
			[]Call{put}, true, []string{`"o" allows s3:DeleteObject`}},
		{"unused action in a partial run is not reported", `{"Version":"2012-10-17","Statement":[
			{"Sid":"o","Effect":"Allow","Action":["s3:PutObject","s3:DeleteObject"],"Resource":"*"}]}`,
			[]Call{put}, false, nil},
		{"wildcard counts as unused unless called", `{"Version":"2012-10-17","Statement":[
			{"Sid":"o","Effect":"Allow","Action":["s3:*"],"Resource":"*"}]}`,
			[]Call{put}, true, nil},
		{"deny wins", `{"Version":"2012-10-17","Statement":[
			{"Sid":"a","Effect":"Allow","Action":["s3:*"],"Resource":"*"},
			{"Sid":"d","Effect":"Deny","Action":["s3:PutObject"],"Resource":"*"}]}`,
			[]Call{put}, false, []string{"calls UploadPart"}},
		{"target group scoped", `{"Version":"2012-10-17","Statement":[
			{"Sid":"h","Effect":"Allow","Action":"elasticloadbalancing:DescribeTargetHealth","Resource":"*"},
			{"Sid":"c","Effect":"Allow","Action":["elasticloadbalancing:RegisterTargets","elasticloadbalancing:DeregisterTargets"],"Resource":"${TargetGroupArn}"}]}`,
			[]Call{describe, register, deregister}, true, nil},
		{"register on the load balancer instead of the target group", `{"Version":"2012-10-17","Statement":[
			{"Sid":"c","Effect":"Allow","Action":["elasticloadbalancing:RegisterTargets"],"Resource":"arn:aws:elasticloadbalancing:*:*:loadbalancer/*"}]}`,
			[]Call{register}, true, []string{"calls RegisterTargets"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(tt.policy))
			if err != nil {
				t.Fatal(err)
			}
			got := p.Check(tt.calls, []string{"s3", "elasticloadbalancing"}, tt.complete)
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %d matching %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q does not contain %q", got[i], w)
				}
			}
		})
	}
}

func TestParsePolicyRefusesWhatTheCheckDoesNotUnderstand(t *testing.T) {
	for _, doc := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{}}]}`,
		`{"Version":"2008-10-17","Statement":[]}`,
	} {
		if _, err := ParsePolicy([]byte(doc)); err == nil {
			t.Errorf("parsed %s", doc)
		}
	}
}

func TestShippedPoliciesParse(t *testing.T) {
	data, err := os.ReadFile("../../../deploy/aws/worker-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePolicy(data); err != nil {
		t.Fatal(err)
	}
}
