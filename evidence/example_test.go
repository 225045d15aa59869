package evidence_test

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/alaya-sre/alaya/evidence"
)

func ExampleKey() {
	// Parts come from the incident; none can leave the incident's folder.
	fmt.Println(evidence.Key("incidents", "Q1ABC", "run-7", "01-uptime", "../../etc", "stdout"))
	// Output: incidents/Q1ABC/run-7/01-uptime/_._.._etc/stdout
}

func ExampleRedactor_Reader() {
	r := evidence.NewRedactor([]string{"db-pass-123"})
	log := "connect user=app password=db-pass-123\nAuthorization: Bearer abcdefghijkl\n"
	io.Copy(os.Stdout, r.Reader(strings.NewReader(log)))
	// Output:
	// connect user=app password=[REDACTED]
	// Authorization: Bearer [REDACTED]
}
