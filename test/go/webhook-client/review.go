package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxResponseBytes bounds what is read from the webhook; an AdmissionReview
// answer with a patch is a few KB, and the API server's own request limit
// is 3 MiB (k8s.io/apiserver options.MaxRequestBodyBytes).
const maxResponseBytes = 3 << 20

type reviewSummary struct {
	OK          bool          `json:"ok"`
	URL         string        `json:"url"`
	ServerName  string        `json:"serverName"`
	CaBundle    bundleSummary `json:"caBundle"`
	TLS         *tlsSummary   `json:"tls,omitempty"`
	HTTPStatus  int           `json:"httpStatus,omitempty"`
	ContentType string        `json:"contentType,omitempty"`
	*verified
	Error string `json:"error,omitempty"`
}

type bundleSummary struct {
	Certificates int      `json:"certificates"`
	Skipped      []string `json:"skipped"`
}

type tlsSummary struct {
	Version  string   `json:"version"`
	ALPN     string   `json:"alpn"`
	Subject  string   `json:"subject"`
	Issuer   string   `json:"issuer"`
	DNSNames []string `json:"dnsNames"`
	// As Node's X509Certificate.fingerprint256 writes it: AB:CD:...
	Fingerprint256 string `json:"fingerprint256"`
}

func runReview(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("review", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var ca caSource
	addr := fs.String("addr", "", "address to connect to, e.g. 127.0.0.1:8443 (the Service's endpoint)")
	service := fs.String("service", "", "Service name of the webhook (clientConfig.service.name)")
	namespace := fs.String("namespace", "", "namespace of the Service")
	path := fs.String("path", "/mutate", "clientConfig.service.path")
	reviewFile := fs.String("review", "", "AdmissionReview request JSON file, or - for stdin")
	validating := fs.Bool("validating", false, "check the answer as a validating webhook's (no patch allowed)")
	timeout := fs.Duration("timeout", 10*time.Second, "timeoutSeconds of the webhook")
	at := fs.String("time", "", "verify certificates at this time (RFC 3339) instead of now")
	fs.StringVar(&ca.file, "ca-file", "", "PEM file with the CA bundle")
	fs.StringVar(&ca.bundle, "ca-bundle", "", "caBundle as in a webhook configuration (base64 of PEM)")
	if err := fs.Parse(args); err != nil {
		return usageError(stderr, "review: %v", err)
	}
	if fs.NArg() != 0 {
		return usageError(stderr, "review: unexpected argument %q", fs.Arg(0))
	}
	for _, required := range []struct{ name, value string }{{"-addr", *addr}, {"-service", *service}, {"-namespace", *namespace}, {"-review", *reviewFile}} {
		if required.value == "" {
			return usageError(stderr, "review: %s is required", required.name)
		}
	}
	if !ca.given() {
		return usageError(stderr, "review: -ca-file or -ca-bundle is required (an empty caBundle means the system roots, which never trust a private CA)")
	}
	_, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return usageError(stderr, "review: -addr: %v", err)
	}
	clock, err := parseTime(*at)
	if err != nil {
		return usageError(stderr, "review: -time: %v", err)
	}

	// The API server calls https://NAME.NS.svc:PORT/PATH and checks the
	// certificate against NAME.NS.svc (k8s.io/apiserver/pkg/util/webhook
	// client.go: ServerName is the service host name).
	serverName := *service + "." + *namespace + ".svc"
	url := "https://" + net.JoinHostPort(serverName, port) + *path + "?timeout=" + timeoutParam(*timeout)
	summary := &reviewSummary{URL: url, ServerName: serverName, CaBundle: bundleSummary{Skipped: []string{}}}
	finish := func(format string, a ...interface{}) int {
		summary.Error = fmt.Sprintf(format, a...)
		writeJSON(stdout, summary)
		return fail(stderr, "%s", summary.Error)
	}

	pemData, err := ca.read()
	if err != nil {
		return finish("%v", err)
	}
	pool, err := loadCaPool(pemData)
	if err != nil {
		return finish("%v", err)
	}
	summary.CaBundle = bundleSummary{Certificates: pool.count, Skipped: append([]string{}, pool.skipped...)}

	body, err := readInput(*reviewFile, stdin)
	if err != nil {
		return finish("cannot read -review: %v", err)
	}
	req, err := parseRequest(body)
	if err != nil {
		return finish("-review: %v", err)
	}

	client := &http.Client{
		Timeout: *timeout,
		Transport: &http.Transport{
			// The Service's cluster IP stands in for NAME.NS.svc: dial the
			// given address whatever the URL's host is.
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, *addr)
			},
			TLSClientConfig: &tls.Config{
				RootCAs:    pool.pool,
				ServerName: serverName,
				NextProtos: []string{"http/1.1"},
				MinVersion: tls.VersionTLS12,
				Time:       clock,
			},
			ForceAttemptHTTP2:   false,
			TLSHandshakeTimeout: 5 * time.Second,
			DisableKeepAlives:   true,
		},
	}
	httpReq, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return finish("%v", err)
	}
	httpReq.Header.Set("Content-Type", "application/json")
	httpReq.Header.Set("Accept", "application/json, */*")
	resp, err := client.Do(httpReq)
	if err != nil {
		return finish("failed to call webhook: %v", err)
	}
	defer resp.Body.Close()
	if resp.TLS != nil {
		summary.TLS = describeTLS(resp.TLS)
	}
	summary.HTTPStatus = resp.StatusCode
	summary.ContentType = resp.Header.Get("Content-Type")
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return finish("reading the webhook's answer: %v", err)
	}
	if len(answer) > maxResponseBytes {
		return finish("the webhook's answer is larger than %d bytes", maxResponseBytes)
	}
	// client-go's rest client: any status outside 200-206 is an error.
	if resp.StatusCode < 200 || resp.StatusCode > 206 {
		return finish("webhook answered HTTP %d: %s", resp.StatusCode, excerpt(answer))
	}
	// The webhook client's serializer decodes whatever the content type
	// says (NegotiatedSerializerWrapper has no media type), so a wrong one is
	// only noted; the body must still be JSON.
	if media, _, err := mime.ParseMediaType(summary.ContentType); err != nil || media != "application/json" {
		summary.ContentType += " (not application/json; the API server decodes it as JSON anyway)"
	}
	v, err := verifyAdmissionResponse(req, answer, !*validating)
	if err != nil {
		return finish("%v", err)
	}
	summary.verified = v
	summary.OK = true
	writeJSON(stdout, summary)
	return exitOK
}

func describeTLS(state *tls.ConnectionState) *tlsSummary {
	s := &tlsSummary{Version: tlsVersionName(state.Version), ALPN: state.NegotiatedProtocol, DNSNames: []string{}}
	if len(state.PeerCertificates) > 0 {
		leaf := state.PeerCertificates[0]
		s.Subject = leaf.Subject.String()
		s.Issuer = leaf.Issuer.String()
		s.DNSNames = append(s.DNSNames, leaf.DNSNames...)
		sum := sha256.Sum256(leaf.Raw)
		hexes := make([]string, len(sum))
		for i, b := range sum {
			hexes[i] = fmt.Sprintf("%02X", b)
		}
		s.Fingerprint256 = strings.Join(hexes, ":")
	}
	return s
}

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS12:
		return "TLS 1.2"
	case tls.VersionTLS13:
		return "TLS 1.3"
	default:
		return fmt.Sprintf("0x%04x", v)
	}
}

// timeoutParam formats the ?timeout= parameter as the API server does
// (time.Duration.String of whole seconds, e.g. "10s").
func timeoutParam(d time.Duration) string {
	return strconv.Itoa(int(d/time.Second)) + "s"
}

func parseTime(text string) (func() time.Time, error) {
	if text == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, text)
	if err != nil {
		return nil, err
	}
	return func() time.Time { return t }, nil
}

func readInput(file string, stdin io.Reader) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(file)
}

func excerpt(body []byte) string {
	text := strings.Join(strings.Fields(string(body)), " ")
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	if text == "" {
		return "(empty body)"
	}
	return text
}

func writeJSON(w io.Writer, v interface{}) {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(w, "{\"error\": %q}\n", err.Error())
		return
	}
	fmt.Fprintf(w, "%s\n", out)
}
