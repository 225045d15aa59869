package jvm

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/alaya-sre/alaya/internal/testenv"
)

const mainClass = "AlayaHeapTarget"

// source holds objects reachable from a static field, so a heap dump has something in it, and
// then sleeps until killed.
const source = `public class AlayaHeapTarget {
    static final java.util.List<Object> keep = new java.util.ArrayList<>();
    public static void main(String[] args) throws Exception {
        for (int i = 0; i < 2000; i++) {
            keep.add(new byte[1024]);
            keep.add("object-" + i);
        }
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
`

var (
	compileOnce sync.Once
	classDir    string
	compileErr  error
)

// compile builds the class into a world-readable directory, so a JVM running as another user
// can load it. The directory is named after the source's hash and reused by later runs, so
// test binaries do not leave a new directory behind each time.
func compile(tb testing.TB) string {
	tb.Helper()
	_, err := exec.LookPath("javac")
	testenv.Require(tb, "a JDK with javac and jcmd (Java 17)", err == nil)
	compileOnce.Do(func() {
		sum := sha256.Sum256([]byte(source))
		classDir = filepath.Join(os.TempDir(), "alaya-jvm-classes-"+hex.EncodeToString(sum[:6]))
		if _, err := os.Stat(filepath.Join(classDir, mainClass+".class")); err == nil {
			return
		}
		if compileErr = os.MkdirAll(classDir, 0o755); compileErr != nil {
			return
		}
		os.Chmod(classDir, 0o755)
		src := filepath.Join(classDir, mainClass+".java")
		if compileErr = os.WriteFile(src, []byte(source), 0o644); compileErr != nil {
			return
		}
		out, err := exec.Command("javac", "-d", classDir, src).CombinedOutput()
		if err != nil {
			compileErr = &compileError{err: err, out: string(out)}
		}
	})
	if compileErr != nil {
		tb.Fatalf("javac: %v", compileErr)
	}
	return classDir
}

type compileError struct {
	err error
	out string
}

func (e *compileError) Error() string { return e.err.Error() + ": " + e.out }
