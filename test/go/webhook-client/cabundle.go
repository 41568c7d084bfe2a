package main

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// caSource is the -ca-file / -ca-bundle pair of flags.
type caSource struct {
	file   string
	bundle string
}

func (c caSource) given() bool { return c.file != "" || c.bundle != "" }

// read returns the PEM bytes. -ca-bundle is the caBundle field of a webhook
// configuration: base64 of the PEM. The API server decodes it as a JSON
// []byte, i.e. with base64.StdEncoding, which skips '\r' and '\n' only.
func (c caSource) read() ([]byte, error) {
	if c.file != "" && c.bundle != "" {
		return nil, errors.New("give -ca-file or -ca-bundle, not both")
	}
	if c.file != "" {
		data, err := os.ReadFile(c.file)
		if err != nil {
			return nil, fmt.Errorf("cannot read -ca-file: %v", err)
		}
		return data, nil
	}
	data, err := base64.StdEncoding.DecodeString(c.bundle)
	if err != nil {
		return nil, fmt.Errorf("caBundle is not standard base64: %v", err)
	}
	return data, nil
}

// caPool is what client-go does with a webhook's caBundle
// (k8s.io/client-go/transport/transport.go rootCertPool): an
// x509.CertPool filled by AppendCertsFromPEM, which silently skips blocks it
// cannot parse, and an error when nothing at all was added.
type caPool struct {
	pool    *x509.CertPool
	count   int
	skipped []string // why each skipped PEM block was skipped
}

func loadCaPool(pemData []byte) (*caPool, error) {
	p := &caPool{pool: x509.NewCertPool()}
	if !p.pool.AppendCertsFromPEM(pemData) {
		p.pool = nil
	}
	// AppendCertsFromPEM gives no reasons: parse each block again to say why.
	rest := pemData
	for i := 1; ; i++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch {
		case block.Type != "CERTIFICATE":
			p.skipped = append(p.skipped, fmt.Sprintf("block %d is %q, not CERTIFICATE", i, block.Type))
		case len(block.Headers) != 0:
			p.skipped = append(p.skipped, fmt.Sprintf("block %d has PEM headers", i))
		default:
			if _, err := x509.ParseCertificate(block.Bytes); err != nil {
				p.skipped = append(p.skipped, fmt.Sprintf("block %d: %v", i, err))
			} else {
				p.count++
			}
		}
	}
	if p.pool == nil {
		why := "no PEM block found"
		if len(p.skipped) > 0 {
			why = strings.Join(p.skipped, "; ")
		}
		return nil, fmt.Errorf("unable to load root certificates: no certificate in the caBundle can be parsed by crypto/x509 (%s)", why)
	}
	return p, nil
}
