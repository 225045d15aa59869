// Command build writes Alaya's container image as an OCI image layout, without a container
// daemon:
//
//	go run ./deploy/image/build -o alaya-oci
//	crane push alaya-oci registry.example.com/alaya:TAG   # or skopeo copy oci:alaya-oci ...
//
// Timestamps come from SOURCE_DATE_EPOCH, or else the commit time, so a rebuild of the same
// commit gives the same digest.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/deploy/image"
)

func main() {
	out := flag.String("o", "alaya-oci", "directory to write the OCI image layout to")
	ca := flag.String("ca", "/etc/ssl/certs/ca-certificates.crt", "CA bundle to include")
	ref := flag.String("tag", "alaya:latest", "reference name recorded in the layout")
	flag.Parse()
	if err := run(context.Background(), *out, *ca, *ref); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out, ca, ref string) error {
	bin, err := os.MkdirTemp("", "alaya-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	bins, err := image.BuildBinaries(ctx, ".", bin)
	if err != nil {
		return err
	}
	created, err := sourceDate()
	if err != nil {
		return err
	}
	img, err := image.Build(image.Options{Binaries: bins, CABundle: ca, Created: created,
		Version: git("describe", "--tags", "--always", "--dirty"), Revision: git("rev-parse", "HEAD")})
	if err != nil {
		return err
	}
	digest, err := image.WriteLayout(out, img, ref)
	if err != nil {
		return err
	}
	fmt.Printf("%s %s\n", out, digest)
	return nil
}

// sourceDate follows https://reproducible-builds.org/specs/source-date-epoch/.
func sourceDate() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		s = git("log", "-1", "--format=%ct")
	}
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
	}
	return time.Unix(n, 0).UTC(), nil
}

func git(args ...string) string {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
