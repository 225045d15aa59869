package sources

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MinSecretLen is the shortest secret accepted, as for Alaya's other secrets: 16 bytes.
const MinSecretLen = 16

// readSecrets reads the secrets named by env or file (relative to the source file's
// directory): one a line, blank lines and # comments skipped; in a variable, commas separate
// them too. The error never holds a secret.
func readSecrets(env, file, dir string, getenv func(string) string) ([][]byte, error) {
	var text string
	switch {
	case env != "" && file != "":
		return nil, fmt.Errorf("set one of secret_env and secret_file, not both")
	case env != "":
		text = strings.ReplaceAll(getenv(env), ",", "\n")
		if strings.TrimSpace(text) == "" {
			return nil, fmt.Errorf("environment variable %s is empty or not set", env)
		}
	case file != "":
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("secret_file: %w", err)
		}
		text = string(b)
	default:
		return nil, fmt.Errorf("missing secret_env or secret_file: where the secret is")
	}
	var out [][]byte
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) < MinSecretLen {
			return nil, fmt.Errorf("secret %d is %d bytes; at least %d are needed", i+1, len(line), MinSecretLen)
		}
		out = append(out, []byte(line))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no secret found")
	}
	return out, nil
}
