package main

// What an API server built with a current Go requires of the webhook's
// certificates, checked one certificate at a time with crypto/x509 itself:
// it must parse (x509.ParseCertificate is stricter than OpenSSL and Node:
// string types, DER minimality, duplicate extensions), carry a positive
// serial (Go 1.23 rejects negative ones, GODEBUG x509negativeserial), be
// signed with SHA-256 or better (Go 1.18 refuses SHA-1), and:
//   - a CA: basicConstraints cA=TRUE and keyUsage keyCertSign (RFC 5280
//     4.2.1.9, 4.2.1.3);
//   - a serving certificate: DNS SANs (Go 1.15 ignores the Common Name),
//     extKeyUsage serverAuth and keyUsage digitalSignature (TLS 1.3
//     CertificateVerify, ECDHE), optionally a given DNS name, and a chain to
//     the CA bundle (x509.Certificate.Verify) as crypto/tls would build it.
// Notes are things Go accepts but a reader should know (string types,
// UTCTime/GeneralizedTime, serial length).

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

const minRSABits = 2048

var strongSignatures = map[x509.SignatureAlgorithm]bool{
	x509.SHA256WithRSA: true, x509.SHA384WithRSA: true, x509.SHA512WithRSA: true,
	x509.SHA256WithRSAPSS: true, x509.SHA384WithRSAPSS: true, x509.SHA512WithRSAPSS: true,
	x509.ECDSAWithSHA256: true, x509.ECDSAWithSHA384: true, x509.ECDSAWithSHA512: true,
	x509.PureEd25519: true,
}

type certReport struct {
	Source             string            `json:"source"`
	Role               string            `json:"role"`
	Subject            string            `json:"subject"`
	Issuer             string            `json:"issuer"`
	Serial             string            `json:"serial,omitempty"`
	SignatureAlgorithm string            `json:"signatureAlgorithm,omitempty"`
	PublicKey          string            `json:"publicKey,omitempty"`
	NotBefore          string            `json:"notBefore,omitempty"`
	NotAfter           string            `json:"notAfter,omitempty"`
	TimeEncoding       string            `json:"timeEncoding,omitempty"`
	SubjectStrings     map[string]string `json:"subjectStringTypes,omitempty"`
	DNSNames           []string          `json:"dnsNames"`
	IPAddresses        []string          `json:"ipAddresses"`
	Problems           []string          `json:"problems"`
	Notes              []string          `json:"notes"`
}

type inspectSummary struct {
	OK           bool           `json:"ok"`
	CaBundle     *bundleSummary `json:"caBundle,omitempty"`
	Certificates []*certReport  `json:"certificates"`
	Problems     []string       `json:"problems"`
}

func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var ca caSource
	dns := fs.String("dns", "", "a serving certificate must be valid for this DNS name (e.g. pullguard.pullguard.svc)")
	at := fs.String("time", "", "check validity and chains at this time (RFC 3339) instead of now")
	fs.StringVar(&ca.file, "ca-file", "", "verify serving certificates against this PEM CA bundle")
	fs.StringVar(&ca.bundle, "ca-bundle", "", "the same as a caBundle value (base64 of PEM)")
	if err := fs.Parse(args); err != nil {
		return usageError(stderr, "inspect: %v", err)
	}
	if fs.NArg() == 0 {
		return usageError(stderr, "inspect: no certificate file given")
	}
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usageError(stderr, "inspect: -time: %v", err)
		}
		now = t
	}

	summary := &inspectSummary{Certificates: []*certReport{}, Problems: []string{}}
	var roots *x509.CertPool
	if ca.given() {
		pemData, err := ca.read()
		if err == nil {
			var pool *caPool
			pool, err = loadCaPool(pemData)
			if pool != nil {
				roots = pool.pool
				summary.CaBundle = &bundleSummary{Certificates: pool.count, Skipped: append([]string{}, pool.skipped...)}
				for _, s := range pool.skipped {
					summary.Problems = append(summary.Problems, "CA bundle: skipped by AppendCertsFromPEM: "+s)
				}
			}
		}
		if err != nil {
			summary.Problems = append(summary.Problems, "CA bundle: "+err.Error())
		}
	}

	for _, arg := range fs.Args() {
		role, file := "auto", arg
		for _, prefix := range []string{"ca:", "serving:"} {
			if strings.HasPrefix(arg, prefix) {
				role, file = strings.TrimSuffix(prefix, ":"), strings.TrimPrefix(arg, prefix)
			}
		}
		data, err := os.ReadFile(file)
		if err != nil {
			summary.Problems = append(summary.Problems, fmt.Sprintf("%s: %v", file, err))
			continue
		}
		found := 0
		rest := data
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				continue
			}
			found++
			report := inspectOne(fmt.Sprintf("%s#%d", file, found), role, block.Bytes, now, *dns, roots)
			summary.Certificates = append(summary.Certificates, report)
			for _, p := range report.Problems {
				summary.Problems = append(summary.Problems, fmt.Sprintf("%s (%s, %s): %s", report.Source, report.Role, report.Subject, p))
			}
		}
		if found == 0 {
			summary.Problems = append(summary.Problems, fmt.Sprintf("%s: no CERTIFICATE PEM block", file))
		}
	}

	summary.OK = len(summary.Problems) == 0
	writeJSON(stdout, summary)
	if summary.OK {
		return exitOK
	}
	fmt.Fprintf(stderr, "%s: %d problem(s) Go's crypto/x509 or the API server would hit:\n", programName, len(summary.Problems))
	for _, p := range summary.Problems {
		fmt.Fprintf(stderr, "  - %s\n", p)
	}
	return exitFailed
}

func inspectOne(source, role string, der []byte, now time.Time, dns string, roots *x509.CertPool) *certReport {
	r := &certReport{Source: source, Role: role, DNSNames: []string{}, IPAddresses: []string{}, Problems: []string{}, Notes: []string{}}
	raw, rawErr := parseRawCertificate(der)
	if rawErr == nil {
		r.Subject = raw.subject
		r.Issuer = raw.issuer
		r.SubjectStrings = raw.subjectStringTypes
		r.TimeEncoding = raw.timeEncoding
		r.Notes = append(r.Notes, raw.notes...)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		if role == "auto" {
			r.Role = "unknown"
		}
		r.Problems = append(r.Problems, "x509.ParseCertificate: "+err.Error())
		return r
	}
	if role == "auto" {
		r.Role = "serving"
		if cert.IsCA || bytes.Equal(cert.RawIssuer, cert.RawSubject) {
			r.Role = "ca"
		}
	}
	r.Subject = cert.Subject.String()
	r.Issuer = cert.Issuer.String()
	r.Serial = cert.SerialNumber.Text(16)
	r.SignatureAlgorithm = cert.SignatureAlgorithm.String()
	r.NotBefore = cert.NotBefore.UTC().Format(time.RFC3339)
	r.NotAfter = cert.NotAfter.UTC().Format(time.RFC3339)
	r.DNSNames = append(r.DNSNames, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		r.IPAddresses = append(r.IPAddresses, ip.String())
	}
	problem := func(format string, a ...interface{}) { r.Problems = append(r.Problems, fmt.Sprintf(format, a...)) }

	if cert.SerialNumber.Sign() <= 0 {
		problem("serial number %s is not positive (RFC 5280 4.1.2.2; Go 1.23+ refuses negative serials)", cert.SerialNumber)
	}
	if !strongSignatures[cert.SignatureAlgorithm] {
		problem("signature algorithm %s: SHA-256 or better is required (Go 1.18+ refuses SHA-1)", cert.SignatureAlgorithm)
	}
	switch key := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		r.PublicKey = fmt.Sprintf("RSA %d", key.N.BitLen())
		if key.N.BitLen() < minRSABits {
			problem("RSA key of %d bits; at least %d required", key.N.BitLen(), minRSABits)
		}
	case *ecdsa.PublicKey:
		r.PublicKey = "ECDSA " + key.Curve.Params().Name
	case ed25519.PublicKey:
		r.PublicKey = "Ed25519"
	default:
		problem("unsupported public key type %T", cert.PublicKey)
	}
	if now.Before(cert.NotBefore) {
		problem("not valid before %s (checked at %s)", r.NotBefore, now.UTC().Format(time.RFC3339))
	}
	if now.After(cert.NotAfter) {
		problem("expired at %s (checked at %s)", r.NotAfter, now.UTC().Format(time.RFC3339))
	}
	if len(cert.UnhandledCriticalExtensions) > 0 {
		problem("critical extensions Go does not handle (Verify fails): %v", cert.UnhandledCriticalExtensions)
	}

	switch r.Role {
	case "ca":
		if !cert.BasicConstraintsValid || !cert.IsCA {
			problem("not a CA: basicConstraints cA=TRUE is missing (BasicConstraintsValid=%t IsCA=%t)", cert.BasicConstraintsValid, cert.IsCA)
		}
		if cert.KeyUsage&x509.KeyUsageCertSign == 0 {
			problem("keyUsage lacks keyCertSign")
		}
		if len(cert.SubjectKeyId) == 0 {
			r.Notes = append(r.Notes, "no subjectKeyIdentifier (RFC 5280 4.2.1.2: MUST in CA certificates)")
		}
	case "serving":
		if cert.IsCA {
			problem("a serving certificate with basicConstraints cA=TRUE")
		}
		if len(cert.DNSNames) == 0 {
			problem("no DNS subjectAltName: Go ignores the Common Name (%q) since 1.15", cert.Subject.CommonName)
		}
		if !hasServerAuth(cert) {
			problem("extKeyUsage lacks serverAuth (have %v)", cert.ExtKeyUsage)
		}
		if cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
			problem("keyUsage lacks digitalSignature")
		}
		if len(cert.AuthorityKeyId) == 0 {
			r.Notes = append(r.Notes, "no authorityKeyIdentifier (RFC 5280 4.2.1.1)")
		}
		if dns != "" {
			if err := cert.VerifyHostname(dns); err != nil {
				problem("not valid for %s: %v", dns, err)
			}
		}
		if roots != nil {
			opts := x509.VerifyOptions{Roots: roots, DNSName: dns, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
			if _, err := cert.Verify(opts); err != nil {
				problem("does not verify against the CA bundle: %v", err)
			}
		}
	}
	return r
}

func hasServerAuth(cert *x509.Certificate) bool {
	for _, u := range cert.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth {
			return true
		}
	}
	return false
}
