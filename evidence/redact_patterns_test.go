package evidence

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
)

// Fake credentials of the right shapes, put together at run time so that no scanner takes
// this file for a leak.
var (
	ghToken     = "ghp_" + strings.Repeat("A1b2C3d4E5", 4)[:36]
	ghPAT       = "github_pat_" + "11ABCDEFG0123456789_" + strings.Repeat("x", 40)
	slackBot    = "xoxb-" + "1234567890-1234567890123-" + strings.Repeat("a1B2", 6)
	slackUser   = "xoxp-" + "1234567890-1234567890123-" + strings.Repeat("c3D4", 6)
	slackApp    = "xapp-" + "1-A0123456789-1234567890123-" + strings.Repeat("ef56", 8)
	stripeLive  = "sk_" + "live_" + strings.Repeat("4eC39HqLyjWDarjtT1zdp7dc", 1)
	stripeRkey  = "rk_" + "live_" + strings.Repeat("51H7qYmB2l3", 2)
	natsSeedU   = "SUA" + strings.Repeat("JK2QXN7LZBTR4MW6", 4)[:55]
	natsSeedA   = "SAA" + strings.Repeat("PQ3ZL7XKNV2WBTR5", 4)[:55]
	natsSeedO   = "SOA" + strings.Repeat("MN4ZRT7XKLQ2WBV6", 4)[:55]
	natsUserJWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ" + "." +
		"eyJqdGkiOiJBQkNERUZHIiwiaWF0IjoxNjAwMDAwMDAwLCJpc3MiOiJBQ0NUIn0" + "." + "c2lnbmF0dXJlLWJ5dGVz"
)

// TestRedactorPatterns lists every built-in pattern with text it must redact and look-alike
// text it must leave alone.
func TestRedactorPatterns(t *testing.T) {
	r := NewRedactor(nil)
	creds := "-----BEGIN NATS USER JWT-----\n" + natsUserJWT + "\n------END NATS USER JWT------\n\n" +
		"-----BEGIN USER NKEY SEED-----\n" + natsSeedU + "\n------END USER NKEY SEED------\n"
	tests := []struct {
		name      string
		in        string
		secret    string // must be gone (positive case); "" for a negative case
		unchanged bool   // the text must come out exactly as it went in
	}{
		{"long flag password", "app --password hunter22 --user x", "hunter22", false},
		{"long flag password equals", "app --password=hunter22 --user x", "hunter22", false},
		{"long flag compound name", "pg --db-password 'c0rrect horse' -v", "c0rrect horse", false},
		{"long flag token", "vault login --token s.AbCdEf123456", "s.AbCdEf123456", false},
		{"long flag password file kept", "app --password-file /etc/app/pass --user x", "", true},
		{"long flag followed by another flag", "app --password --verbose", "", true},

		{"mysql -pX", "mysql -u root -phunter22 -h db1 shop", "hunter22", false},
		{"mysqldump -p quoted", "mysqldump -u app -p'se cret99' shop", "se cret99", false},
		{"mariadb -pX", "mariadb-admin -uroot -pS3cr3tPw status", "S3cr3tPw", false},
		{"mysql prompt -p kept", "mysql -u root -p -h db1", "", true},
		{"mysql -P port kept", "mysql -u app -P3306 -h db1", "", true},
		{"mkdir -p kept", "mkdir -p /var/lib/mysql && ssh -p22 db1", "", true},
		{"-p elsewhere kept", "ps -p1234 -o rss; cp -pr a b", "", true},

		{"-Ddb.pass", "java -Ddb.pass=hunter22 -jar app.jar", "hunter22", false},
		{"-D password", "java -Dspring.datasource.password=hunter22 -jar app.jar", "hunter22", false},
		{"-D camel password", "java -DdbPassword=hunter22 -jar app.jar", "hunter22", false},
		{"-D secret", "java -Doauth.client.secret=zz99yy88 -jar app.jar", "zz99yy88", false},
		{"-D others kept", "java -Dfile.encoding=UTF-8 -Dpassenger.count=3 -Dcompass.dir=/x -jar app.jar", "", true},

		{"github classic token", "GITHUB_TOKEN set: " + ghToken + " ok", ghToken, false},
		{"github fine-grained token", "remote: https://x:" + ghPAT + "@github.com/o/r", ghPAT, false},
		{"github look-alike kept", "ghp_short and github_pat_tooShort", "", true},

		{"slack bot token", "token " + slackBot, slackBot, false},
		{"slack user token", "using " + slackUser + " now", slackUser, false},
		{"slack app token", "app " + slackApp, slackApp, false},
		{"slack look-alike kept", "xoxo-hugs and xapp-store", "", true},

		{"stripe live key", "stripe " + stripeLive + " charge", stripeLive, false},
		{"stripe restricted key", "stripe " + stripeRkey, stripeRkey, false},
		{"stripe look-alike kept", "sk_live_x rk_live_ and desk_live_view", "", true},

		{"nats user seed", "seed " + natsSeedU, natsSeedU, false},
		{"nats account seed", "seed " + natsSeedA, natsSeedA, false},
		{"nats operator seed", "seed " + natsSeedO, natsSeedO, false},
		{"nats creds seed", creds, natsSeedU, false},
		{"nats creds jwt", creds, natsUserJWT, false},
		{"nats public key kept", "user UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4", "", true},
		{"uppercase words kept", "SUCCESS: SAVED SOME OUTPUT TO DISK", "", true},

		{"pem private key", "x\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\ny", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", false},
		{"pem certificate kept", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "", true},
		{"aws access key id", "id AKIAIOSFODNN7EXAMPLE ok", "AKIAIOSFODNN7EXAMPLE", false},
		{"aws secret key", "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", false},
		{"aws look-alike kept", "AKIA is a prefix; AKIASHORT", "", true},
		{"bearer token", "curl -H 'Authorization: Bearer abc.def-123_456'", "abc.def-123_456", false},
		{"bearer alone", "got bearer Zm9vYmFyYmF6cXV4", "Zm9vYmFyYmF6cXV4", false},
		{"bearer word kept", "the bearer of bad news", "", true},
		{"url userinfo password", "redis://default:hunter22@cache:6379", "hunter22", false},
		{"url password without user", "redis://:hunter22@cache:6379/0", "hunter22", false},
		{"url without password kept", "https://user@example.com/path and http://host:8080/x", "", true},
		{"jwt", "cookie " + natsUserJWT, natsUserJWT, false},
		{"jwt look-alike kept", "eyJhbGciOi alone, eyJ.a.b", "", true},
		{"aws secret look-alike kept", "aws_region=eu-west-1 aws_profile=prod", "", true},
		{"authorization header", "Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy", false},
		{"authorization word kept", "authorization failed for app", "", true},
		{"pagerduty user token", "token u+Xq7bL2mN9pR4sT6vW8y ok", "u+Xq7bL2mN9pR4sT6vW8y", false},
		{"pagerduty look-alike kept", "u+short and g++ -O2", "", true},
		{"secret assignment", "DB_PASSWORD=hunter22 ./app", "hunter22", false},
		{"secret words without a value kept", "password: \n tokens issued 3, secrets rotated", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.String(tt.in)
			if tt.secret != "" && strings.Contains(got, tt.secret) {
				t.Errorf("secret survived:\n in %q\nout %q", tt.in, got)
			}
			if tt.secret != "" && !strings.Contains(got, Redacted) {
				t.Errorf("nothing redacted in %q", got)
			}
			if tt.unchanged && got != tt.in {
				t.Errorf("look-alike changed:\n in %q\nout %q", tt.in, got)
			}
			if s := readString(t, r.Reader(iotest.OneByteReader(strings.NewReader(tt.in)))); s != got {
				t.Errorf("Reader differs from String: %q", s)
			}
		})
	}
}

// TestRedactorSecretForms checks that a configured secret is found however it was encoded on
// the way: case changed, base64 (standard and URL alphabets, at every alignment inside a
// longer base64 text), hex, URL- and JSON-escaped.
func TestRedactorSecretForms(t *testing.T) {
	secret := "Canary+Pa55/word?&<x>"
	r := NewRedactor([]string{secret})
	b64 := func(enc *base64.Encoding, prefix string) string {
		return enc.EncodeToString([]byte(prefix + secret + "tail!"))
	}
	tests := []struct{ name, in, gone string }{
		{"plain", "x " + secret + " y", secret},
		{"upper", "X " + strings.ToUpper(secret) + " Y", strings.ToUpper(secret)},
		{"lower", "x " + strings.ToLower(secret) + " y", strings.ToLower(secret)},
		{"hex", "dump " + hex.EncodeToString([]byte(secret)), hex.EncodeToString([]byte(secret))},
		{"hex upper", "dump " + strings.ToUpper(hex.EncodeToString([]byte(secret))), strings.ToUpper(hex.EncodeToString([]byte(secret)))},
		{"query escaped", "GET /?p=" + url.QueryEscape(secret), url.QueryEscape(secret)},
		{"path escaped", "GET /" + url.PathEscape(secret), url.PathEscape(secret)},
		{"json escaped", `{"p":"Canary+Pa55/word?\u0026\u003cx\u003e"}`, `Canary+Pa55/word?\u0026\u003cx\u003e`},
	}
	for _, enc := range []struct {
		name string
		e    *base64.Encoding
	}{{"std", base64.StdEncoding}, {"url", base64.URLEncoding}} {
		for k, prefix := range []string{"", "a", "ab"} {
			whole := b64(enc.e, prefix)
			// The part of the encoding that depends only on the secret's bytes.
			mid := whole[(8*k+5)/6 : (8*(k+len(secret)))/6]
			tests = append(tests, struct{ name, in, gone string }{
				"base64 " + enc.name + " offset " + string(rune('0'+k)), "blob " + whole + " end", mid,
			})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.String(tt.in)
			if strings.Contains(got, tt.gone) || !strings.Contains(got, Redacted) {
				t.Errorf("secret form survived:\n in %q\nout %q", tt.in, got)
			}
		})
	}
	if got := r.String("an unrelated Y2FuYXJ5 line"); got != "an unrelated Y2FuYXJ5 line" {
		t.Errorf("unrelated text changed: %q", got)
	}
}
