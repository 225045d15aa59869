package actions

import "strings"

// Quote returns s as one word for a POSIX shell. Every value an action places into a remote
// command goes through it: parameters come from runbooks and, through templates, from incidents,
// and a service called `nginx; reboot` must stay a (missing) service name.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.IndexFunc(s, unsafeShellRune) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// unsafeShellRune reports whether r needs quoting. The safe set is deliberately small.
func unsafeShellRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	case strings.ContainsRune("-_./:=@%+,", r):
		return false
	}
	return true
}
