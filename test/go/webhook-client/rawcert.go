package main

// A second, lenient look at a certificate's DER with encoding/asn1, for
// what x509.ParseCertificate does not expose or refuses to parse: the ASN.1
// string type of each subject attribute, the time encoding of the validity,
// the serial's length. It works on certificates Go rejects, so a report can
// say *which* attribute has which type.

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

type rawCertificate struct {
	subject            string
	issuer             string
	subjectStringTypes map[string]string
	timeEncoding       string
	notes              []string
}

var attributeNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
	"2.5.4.5": "serialNumber", "1.2.840.113549.1.9.1": "emailAddress",
}

var stringTypes = map[int]string{
	asn1.TagUTF8String: "UTF8String", asn1.TagPrintableString: "PrintableString", asn1.TagIA5String: "IA5String",
	asn1.TagT61String: "T61String", asn1.TagBMPString: "BMPString", 28: "UniversalString", asn1.TagNumericString: "NumericString",
}

func parseRawCertificate(der []byte) (*rawCertificate, error) {
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return nil, err
	}
	var tbs asn1.RawValue
	if _, err := asn1.Unmarshal(outer.Bytes, &tbs); err != nil {
		return nil, err
	}
	var fields []asn1.RawValue
	for rest := tbs.Bytes; len(rest) > 0; {
		var f asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	if len(fields) > 0 && fields[0].Class == asn1.ClassContextSpecific && fields[0].Tag == 0 {
		fields = fields[1:] // version
	}
	if len(fields) < 5 {
		return nil, errors.New("short TBSCertificate")
	}
	serial, issuer, validity, subject := fields[0], fields[2], fields[3], fields[4]
	r := &rawCertificate{subjectStringTypes: map[string]string{}}
	if len(serial.Bytes) > 20 {
		r.notes = append(r.notes, fmt.Sprintf("serial is %d octets; RFC 5280 4.1.2.2 allows at most 20", len(serial.Bytes)))
	}
	var err error
	var issuerTypes, subjectTypes map[string]nameValue
	if r.issuer, issuerTypes, err = describeName(issuer); err != nil {
		return nil, err
	}
	if r.subject, subjectTypes, err = describeName(subject); err != nil {
		return nil, err
	}
	for _, attr := range sortedKeys(subjectTypes) {
		r.subjectStringTypes[attr] = subjectTypes[attr].stringType
	}
	r.notes = append(r.notes, printableNotes("subject", subjectTypes)...)
	r.notes = append(r.notes, printableNotes("issuer", issuerTypes)...)
	r.timeEncoding, r.notes = describeValidity(validity, r.notes)
	return r, nil
}

type nameValue struct {
	stringType string
	value      string
}

// describeName renders an RDNSequence as "CN=value,..." without checking
// the string contents, and returns each attribute's string type and value.
func describeName(name asn1.RawValue) (string, map[string]nameValue, error) {
	var rdns []asn1.RawValue
	if _, err := asn1.Unmarshal(name.FullBytes, &rdns); err != nil {
		return "", nil, err
	}
	var parts []string
	types := map[string]nameValue{}
	for _, rdn := range rdns {
		for rest := rdn.Bytes; len(rest) > 0; {
			var atv struct {
				Type  asn1.ObjectIdentifier
				Value asn1.RawValue
			}
			var err error
			if rest, err = asn1.Unmarshal(rest, &atv); err != nil {
				return "", nil, err
			}
			key := attributeNames[atv.Type.String()]
			if key == "" {
				key = atv.Type.String()
			}
			typ := stringTypes[atv.Value.Tag]
			if typ == "" {
				typ = fmt.Sprintf("tag %d", atv.Value.Tag)
			}
			types[key] = nameValue{stringType: typ, value: string(atv.Value.Bytes)}
			parts = append(parts, key+"="+string(atv.Value.Bytes))
		}
	}
	return strings.Join(parts, ","), types, nil
}

// printableNotes names every PrintableString attribute; one holding a
// character PrintableString cannot hold is why Go refuses the certificate.
func printableNotes(which string, values map[string]nameValue) []string {
	var notes []string
	for _, attr := range sortedKeys(values) {
		v := values[attr]
		if v.stringType != "PrintableString" {
			continue
		}
		var bad []string
		for _, c := range v.value {
			if !goPrintable(c) {
				bad = append(bad, fmt.Sprintf("%q", c))
			}
		}
		if len(bad) == 0 {
			notes = append(notes, fmt.Sprintf("%s %s is a PrintableString (valid; RFC 5280 4.1.2.6 asks for UTF8String in new certificates)", which, attr))
		} else {
			notes = append(notes, fmt.Sprintf("%s %s is a PrintableString holding %s, which PrintableString cannot hold (X.680 41.4: A-Z a-z 0-9 space '()+,-./:=?; Go also allows * and &): Go refuses the certificate; UTF8String can hold it", which, attr, strings.Join(bad, " ")))
		}
	}
	return notes
}

// goPrintable is crypto/x509's isPrintable (parser.go).
func goPrintable(c rune) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		'\'' <= c && c <= ')' || '+' <= c && c <= '/' ||
		c == ' ' || c == ':' || c == '=' || c == '?' || c == '*' || c == '&'
}

func sortedKeys(m map[string]nameValue) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// describeValidity reports the encodings and notes a deviation from RFC
// 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 on.
func describeValidity(validity asn1.RawValue, notes []string) (string, []string) {
	var encodings []string
	rest := validity.Bytes
	for _, which := range []string{"notBefore", "notAfter"} {
		var t asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &t); err != nil {
			return "unparsable", append(notes, which+": "+err.Error())
		}
		switch t.Tag {
		case asn1.TagUTCTime:
			encodings = append(encodings, "UTCTime")
			if len(t.Bytes) != len("060102150405Z") {
				notes = append(notes, fmt.Sprintf("%s UTCTime %q is not YYMMDDHHMMSSZ (RFC 5280 4.1.2.5.1)", which, t.Bytes))
			}
		case asn1.TagGeneralizedTime:
			encodings = append(encodings, "GeneralizedTime")
			if parsed, err := time.Parse("20060102150405Z0700", string(t.Bytes)); err == nil && parsed.Year() < 2050 {
				notes = append(notes, fmt.Sprintf("%s is GeneralizedTime for %d; RFC 5280 4.1.2.5 wants UTCTime before 2050", which, parsed.Year()))
			}
		default:
			encodings = append(encodings, fmt.Sprintf("tag %d", t.Tag))
		}
	}
	return strings.Join(encodings, "/"), notes
}
