package pagerduty

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// signaturePrefix marks the only signature scheme PagerDuty V3 webhooks use today.
const signaturePrefix = "v1="

// Sign returns the X-PagerDuty-Signature value for body under secret: "v1=" and the hex
// HMAC-SHA256 of the raw body. The stand-in signs with it; receivers verify with
// VerifySignature.
func Sign(secret, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, body))
}

// VerifySignature reports whether the X-PagerDuty-Signature header carries a valid signature
// of body under any of secrets.
//
// While a subscription's secret is being rotated PagerDuty sends several comma-separated
// signatures, and a receiver may be configured with the old and the new secret: any match
// is enough. Spaces after the commas are tolerated (go-pagerduty's webhookv3.VerifySignature
// rejects them); signatures of other versions or with bad hex are skipped. Comparisons are
// constant-time. Empty secrets never match, so a missing configuration cannot accept
// everything.
func VerifySignature(header string, body []byte, secrets [][]byte) bool {
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimSpace(part)
		hexSig, ok := strings.CutPrefix(part, signaturePrefix)
		if !ok {
			continue
		}
		if sig, err := hex.DecodeString(hexSig); err == nil && len(sig) == sha256.Size {
			sigs = append(sigs, sig)
		}
	}
	ok := false
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		want := mac(secret, body)
		for _, sig := range sigs {
			// No early return: the time taken does not depend on which signature matched.
			if hmac.Equal(want, sig) {
				ok = true
			}
		}
	}
	return ok
}

func mac(secret, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write(body)
	return h.Sum(nil)
}
