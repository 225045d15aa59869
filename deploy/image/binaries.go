package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// packages maps each binary to the package that builds it.
var packages = map[string]string{Receiver: "./cmd/receiver", Worker: "./cmd/worker", CLI: "./cmd/alaya"}

// BuildBinaries compiles the three commands from the module at moduleDir into outDir as static
// binaries (CGO_ENABLED=0) with reproducible paths (-trimpath). There are no -ldflags: in a git
// checkout the toolchain records the module version and commit, which -version prints. It
// returns the Options.Binaries map.
func BuildBinaries(ctx context.Context, moduleDir, outDir string) (map[string]string, error) {
	args := []string{"build", "-trimpath", "-buildvcs=auto", "-o", outDir}
	for _, name := range Commands {
		args = append(args, packages[name])
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	// GOFLAGS is cleared so a developer's -buildvcs=false or -race cannot change what ships.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("image: go build: %w\n%s", err, out)
	}
	bins := map[string]string{}
	for _, name := range Commands {
		built := filepath.Join(outDir, filepath.Base(packages[name]))
		dst := filepath.Join(outDir, name)
		if built != dst {
			if err := os.Rename(built, dst); err != nil {
				return nil, fmt.Errorf("image: %w", err)
			}
		}
		bins[name] = dst
	}
	return bins, nil
}
