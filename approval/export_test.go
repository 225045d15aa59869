package approval

import "time"

// SetScanTimeout shortens the bound on one scan for a test and returns the old one.
func SetScanTimeout(d time.Duration) (old time.Duration) {
	old, scanTimeout = scanTimeout, d
	return old
}
