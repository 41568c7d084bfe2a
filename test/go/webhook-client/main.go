// Command webhook-client talks TLS and AdmissionReview the way the
// Kubernetes API server does, so pullguard's tests fail where a real cluster
// would. The API server is a Go program: it loads a webhook's caBundle with
// crypto/x509, which is stricter than OpenSSL and Node (it rejects, for
// example, an '@' in a PrintableString), and it checks the webhook's answer
// before using it. Standard library only, so it builds offline.
//
//	webhook-client review  -addr 127.0.0.1:PORT -service S -namespace NS (-ca-file F | -ca-bundle B64)
//	                       -review F [-path /mutate] [-validating] [-time RFC3339]
//	webhook-client inspect [-ca-file F | -ca-bundle B64] [-dns NAME] [-time RFC3339] [ca:|serving:]FILE...
//
// Exit status: 0 conforming; 1 not (the reason on stderr, starting with
// "webhook-client: "); 2 bad command line. Both modes print a JSON summary
// on stdout.
package main

import (
	"fmt"
	"io"
	"os"
)

const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	programName = "webhook-client"
)

const usage = `usage:
  webhook-client review  -addr HOST:PORT -service NAME -namespace NS (-ca-file FILE | -ca-bundle BASE64)
                         -review FILE|- [-path /mutate] [-validating] [-timeout 10s] [-time RFC3339]
  webhook-client inspect [-ca-file FILE | -ca-bundle BASE64] [-dns NAME] [-time RFC3339] [ca:|serving:]FILE...
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "review":
		return runReview(args[1:], stdin, stdout, stderr)
	case "inspect":
		return runInspect(args[1:], stdout, stderr)
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "%s: unknown mode %q\n%s", programName, args[0], usage)
		return exitUsage
	}
}

// fail prints one line on stderr and returns exitFailed.
func fail(stderr io.Writer, format string, a ...interface{}) int {
	fmt.Fprintf(stderr, "%s: %s\n", programName, fmt.Sprintf(format, a...))
	return exitFailed
}

func usageError(stderr io.Writer, format string, a ...interface{}) int {
	fmt.Fprintf(stderr, "%s: %s\n%s", programName, fmt.Sprintf(format, a...), usage)
	return exitUsage
}
