package main

// The API server's checks of an AdmissionReview answer, in the order it
// makes them:
//   - k8s.io/apiserver/pkg/admission/plugin/webhook/request/admissionreview.go
//     VerifyAdmissionResponse: response present; for admission.k8s.io/v1 the
//     uid echoed and apiVersion/kind exactly admission.k8s.io/v1
//     AdmissionReview; a mutating webhook gives patch and patchType together
//     or neither, a validating one neither. v1beta1 checks none of that, and
//     pins patchType to JSONPatch when there is a patch.
//   - .../webhook/mutating/dispatcher.go callAttrMutatingHook: a denial's
//     patch is ignored; otherwise the patch is decoded as a JSON Patch
//     (github.com/evanphx/json-patch DecodePatch), refused for an operation
//     without an object (DELETE), must be of type JSONPatch ("unsupported
//     patch type"), and is applied to the request's object.
// Field names are matched case-sensitively, as the API server's decoder
// (sigs.k8s.io/json) does; encoding/json alone would accept "UID" for "uid".
// `patch` is a JSON []byte: standard base64 with padding, never URL-safe.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

const (
	admissionGroup = "admission.k8s.io"
	apiVersionV1   = admissionGroup + "/v1"
	apiVersionBeta = admissionGroup + "/v1beta1"
	reviewKind     = "AdmissionReview"
	jsonPatchType  = "JSONPatch"
	// From the Kubernetes docs (Dynamic Admission Control, "Response"):
	// warnings over 256 characters may be truncated, and beyond 4096
	// characters in total further warnings are dropped.
	warningMaxChars      = 256
	warningTotalMaxChars = 4096
)

type admissionRequest struct {
	apiVersion string
	uid        string
	operation  string
	object     json.RawMessage // null or absent for DELETE
}

type verified struct {
	APIVersion string            `json:"apiVersion"`
	UID        string            `json:"uid"`
	Allowed    bool              `json:"allowed"`
	PatchType  string            `json:"patchType,omitempty"`
	PatchOps   int               `json:"patchOps"`
	Patch      []json.RawMessage `json:"patch"`
	Patched    json.RawMessage   `json:"patched,omitempty"`
	Warnings   []string          `json:"warnings"`
	Status     json.RawMessage   `json:"status,omitempty"`
	Notes      []string          `json:"notes"`
}

func parseRequest(body []byte) (*admissionRequest, error) {
	top, err := objectFields(body, "the AdmissionReview")
	if err != nil {
		return nil, err
	}
	var apiVersion, kind string
	if err := field(top, "apiVersion", &apiVersion, ""); err != nil {
		return nil, err
	}
	if err := field(top, "kind", &kind, ""); err != nil {
		return nil, err
	}
	if kind != reviewKind || (apiVersion != apiVersionV1 && apiVersion != apiVersionBeta) {
		return nil, fmt.Errorf("not an AdmissionReview of %s or %s (apiVersion %q, kind %q)", apiVersionV1, apiVersionBeta, apiVersion, kind)
	}
	raw, ok := top["request"]
	if !ok || isNull(raw) {
		return nil, errors.New("the AdmissionReview has no request")
	}
	request, err := objectFields(raw, "request")
	if err != nil {
		return nil, err
	}
	r := &admissionRequest{apiVersion: apiVersion}
	if err := field(request, "uid", &r.uid, "request."); err != nil {
		return nil, err
	}
	if r.uid == "" {
		return nil, errors.New("request.uid is empty")
	}
	if err := field(request, "operation", &r.operation, "request."); err != nil {
		return nil, err
	}
	if obj, ok := request["object"]; ok && !isNull(obj) {
		r.object = obj
	}
	return r, nil
}

// verifyAdmissionResponse returns what the API server would take from the
// webhook's answer, or the error it would fail the call with.
func verifyAdmissionResponse(req *admissionRequest, answer []byte, mutating bool) (*verified, error) {
	top, err := objectFields(answer, "the webhook's answer")
	if err != nil {
		return nil, fmt.Errorf("decoding the webhook's answer: %v", err)
	}
	var apiVersion, kind string
	if err := field(top, "apiVersion", &apiVersion, ""); err != nil {
		return nil, err
	}
	if err := field(top, "kind", &kind, ""); err != nil {
		return nil, err
	}
	raw, ok := top["response"]
	if !ok || isNull(raw) {
		return nil, errors.New("webhook response was absent")
	}
	response, err := objectFields(raw, "response")
	if err != nil {
		return nil, fmt.Errorf("decoding the webhook's answer: %v", err)
	}
	v := &verified{APIVersion: apiVersion, Patch: []json.RawMessage{}, Warnings: []string{}, Notes: []string{}}
	var patch []byte
	var patchType *string
	var auditAnnotations map[string]string
	decoders := []error{
		field(response, "uid", &v.UID, "response."),
		field(response, "allowed", &v.Allowed, "response."),
		field(response, "patch", &patch, "response."),
		field(response, "patchType", &patchType, "response."),
		field(response, "warnings", &v.Warnings, "response."),
		field(response, "auditAnnotations", &auditAnnotations, "response."),
	}
	for _, err := range decoders {
		if err != nil {
			return nil, fmt.Errorf("decoding the webhook's answer: %v", err)
		}
	}
	if status, ok := response["status"]; ok && !isNull(status) {
		var probe map[string]interface{}
		if err := json.Unmarshal(status, &probe); err != nil {
			return nil, fmt.Errorf("decoding the webhook's answer: response.status: %v", err)
		}
		v.Status = status
	}
	if v.Warnings == nil {
		v.Warnings = []string{}
	}

	if req.apiVersion == apiVersionV1 {
		if v.UID != req.uid {
			return nil, fmt.Errorf("expected response.uid=%q, got %q", req.uid, v.UID)
		}
		if want, got := gvkString(apiVersionV1, reviewKind), gvkString(apiVersion, kind); want != got {
			return nil, fmt.Errorf("expected webhook response of %s, got %s", want, got)
		}
		if mutating {
			if len(patch) > 0 && patchType == nil {
				return nil, errors.New("webhook returned response.patch but not response.patchType")
			}
			if len(patch) == 0 && patchType != nil {
				return nil, errors.New("webhook returned response.patchType but not response.patch")
			}
			if patchType != nil && *patchType == "" {
				return nil, fmt.Errorf("webhook returned invalid response.patchType of %q", *patchType)
			}
		} else {
			if len(patch) > 0 {
				return nil, errors.New("validating webhook may not return response.patch")
			}
			if patchType != nil {
				return nil, errors.New("validating webhook may not return response.patchType")
			}
		}
		if patchType != nil {
			v.PatchType = *patchType
		}
	} else {
		// v1beta1: neither uid nor GVK nor patchType were ever checked.
		if v.UID != req.uid {
			v.Notes = append(v.Notes, fmt.Sprintf("response.uid %q is not the request's %q (v1beta1 does not check it; v1 would fail)", v.UID, req.uid))
		}
		if mutating && len(patch) > 0 {
			v.PatchType = jsonPatchType
		}
		if !mutating {
			patch = nil
		}
	}
	v.Notes = append(v.Notes, warningNotes(v.Warnings)...)

	if !mutating || len(patch) == 0 {
		return v, nil
	}
	if !v.Allowed {
		v.Notes = append(v.Notes, "a denial carries a patch; the API server ignores it")
		return v, nil
	}
	ops, err := decodePatch(patch)
	if err != nil {
		return nil, err
	}
	for _, op := range ops {
		text, _ := json.Marshal(op)
		v.Patch = append(v.Patch, text)
	}
	v.PatchOps = len(ops)
	if len(ops) == 0 {
		return v, nil
	}
	if req.object == nil {
		return nil, fmt.Errorf("admission webhook attempted to modify the object, which is not supported for this operation (%s)", req.operation)
	}
	if v.PatchType != jsonPatchType {
		return nil, fmt.Errorf("unsupported patch type %q", v.PatchType)
	}
	patched, err := applyPatch(req.object, ops)
	if err != nil {
		return nil, fmt.Errorf("the patch does not apply to the request's object: %v", err)
	}
	v.Patched = patched
	return v, nil
}

// gvkString is schema.GroupVersionKind.String(): "group/version, Kind=kind".
func gvkString(apiVersion, kind string) string {
	group, version := "", apiVersion
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		group, version = apiVersion[:i], apiVersion[i+1:]
	}
	return group + "/" + version + ", Kind=" + kind
}

func warningNotes(warnings []string) []string {
	var notes []string
	total := 0
	for i, w := range warnings {
		total += len(w)
		if len(w) > warningMaxChars {
			notes = append(notes, fmt.Sprintf("warning %d has %d characters; the API server may truncate it at %d", i+1, len(w), warningMaxChars))
		}
	}
	if total > warningTotalMaxChars {
		notes = append(notes, fmt.Sprintf("warnings total %d characters; beyond %d the API server drops them", total, warningTotalMaxChars))
	}
	return notes
}

// objectFields decodes a JSON object into its fields, keeping the exact key
// spelling (lookups are then case-sensitive).
func objectFields(raw []byte, what string) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object: %v", what, err)
	}
	if fields == nil {
		return nil, fmt.Errorf("%s is null", what)
	}
	return fields, nil
}

// field decodes fields[name] into dst; absent or null leaves dst alone.
func field(fields map[string]json.RawMessage, name string, dst interface{}, prefix string) error {
	raw, ok := fields[name]
	if !ok || isNull(raw) {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s%s: %v", prefix, name, err)
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	return strings.TrimSpace(string(raw)) == "null"
}
