package fleet

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Binaries are the daemons built from this checkout.
type Binaries struct {
	Receiver, Worker string
}

// Build compiles cmd/receiver and cmd/worker into dir, as the release does. Run it once per
// test binary (TestMain): with a warm build cache it takes a few seconds.
func Build(dir string) (Binaries, error) {
	root, err := moduleRoot()
	if err != nil {
		return Binaries{}, err
	}
	b := Binaries{Receiver: filepath.Join(dir, "alaya-receiver"), Worker: filepath.Join(dir, "alaya-worker")}
	for out, pkg := range map[string]string{b.Receiver: "./cmd/receiver", b.Worker: "./cmd/worker"} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			return Binaries{}, fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
		}
	}
	return b, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the alaya module")
	}
	return filepath.Dir(mod), nil
}

// RunTests is a TestMain body for packages that start fleets: it builds the daemons once into
// a temporary directory, sets *bins, runs the tests and removes the binaries.
func RunTests(m interface{ Run() int }, bins *Binaries) int {
	dir, err := os.MkdirTemp("", "alaya-fleet-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *bins, err = Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		return 1
	}
	return m.Run()
}
