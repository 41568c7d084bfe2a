package main

// JSON Patch (RFC 6902) with JSON Pointers (RFC 6901), applied the way the
// API server applies a webhook's patch to the request's object. Stricter
// than github.com/evanphx/json-patch in one respect: an add, replace or test
// without "value" is an error here (RFC 6902 4.1, 4.3, 4.6 say MUST), where
// that library would use null.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

type operation = map[string]json.RawMessage

func decodePatch(patch []byte) ([]operation, error) {
	var ops []operation
	if err := json.Unmarshal(patch, &ops); err != nil {
		return nil, fmt.Errorf("received undecodable patch: not a JSON array of operation objects (RFC 6902): %v", err)
	}
	for i, op := range ops {
		if op == nil {
			return nil, fmt.Errorf("patch operation %d is null", i)
		}
		name, err := stringMember(op, "op")
		if err != nil {
			return nil, fmt.Errorf("patch operation %d: %v", i, err)
		}
		if _, err := pointerMember(op, "path"); err != nil {
			return nil, fmt.Errorf("patch operation %d (%s): %v", i, name, err)
		}
		switch name {
		case "add", "replace", "test":
			if _, ok := op["value"]; !ok {
				return nil, fmt.Errorf("patch operation %d (%s): missing \"value\"", i, name)
			}
		case "move", "copy":
			if _, err := pointerMember(op, "from"); err != nil {
				return nil, fmt.Errorf("patch operation %d (%s): %v", i, name, err)
			}
		case "remove":
		default:
			return nil, fmt.Errorf("patch operation %d: unknown op %q (RFC 6902: add, remove, replace, move, copy, test)", i, name)
		}
	}
	return ops, nil
}

func stringMember(op operation, name string) (string, error) {
	raw, ok := op[name]
	if !ok {
		return "", fmt.Errorf("missing %q", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%q is not a string", name)
	}
	return s, nil
}

func pointerMember(op operation, name string) ([]string, error) {
	s, err := stringMember(op, name)
	if err != nil {
		return nil, err
	}
	return parsePointer(s)
}

// parsePointer splits an RFC 6901 pointer into unescaped reference tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return []string{}, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("JSON pointer %q does not start with '/' (RFC 6901)", p)
	}
	tokens := strings.Split(p[1:], "/")
	for i, t := range tokens {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, fmt.Errorf("JSON pointer %q has '~' not followed by 0 or 1 (RFC 6901)", p)
			}
		}
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return tokens, nil
}

func applyPatch(object json.RawMessage, ops []operation) (json.RawMessage, error) {
	doc, err := decodeValue(object)
	if err != nil {
		return nil, err
	}
	for i, op := range ops {
		name, _ := stringMember(op, "op")
		path, _ := pointerMember(op, "path")
		raw, _ := stringMember(op, "path")
		if doc, err = applyOne(doc, name, path, op); err != nil {
			return nil, fmt.Errorf("operation %d (%s %s): %v", i, name, raw, err)
		}
	}
	return json.Marshal(doc)
}

func applyOne(doc interface{}, name string, path []string, op operation) (interface{}, error) {
	switch name {
	case "add", "replace":
		value, err := decodeValue(op["value"])
		if err != nil {
			return nil, err
		}
		if name == "add" {
			return add(doc, path, value)
		}
		return replace(doc, path, value)
	case "remove":
		return remove(doc, path)
	case "test":
		want, err := decodeValue(op["value"])
		if err != nil {
			return nil, err
		}
		got, err := get(doc, path)
		if err != nil {
			return nil, err
		}
		if !sameJSON(got, want) {
			return nil, errors.New("test failed: the value differs")
		}
		return doc, nil
	case "move", "copy":
		from, _ := pointerMember(op, "from")
		value, err := get(doc, from)
		if err != nil {
			return nil, fmt.Errorf("from: %v", err)
		}
		if name == "move" {
			if len(path) > len(from) && reflect.DeepEqual(path[:len(from)], from) {
				return nil, errors.New("cannot move a value into one of its children")
			}
			if doc, err = remove(doc, from); err != nil {
				return nil, err
			}
		} else {
			value = deepCopy(value)
		}
		return add(doc, path, value)
	}
	return nil, fmt.Errorf("unknown op %q", name)
}

func decodeValue(raw json.RawMessage) (interface{}, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func get(doc interface{}, path []string) (interface{}, error) {
	node := doc
	for i, token := range path {
		switch c := node.(type) {
		case map[string]interface{}:
			v, ok := c[token]
			if !ok {
				return nil, fmt.Errorf("%s does not exist", pointerOf(path[:i+1]))
			}
			node = v
		case []interface{}:
			idx, err := index(token, len(c))
			if err != nil {
				return nil, fmt.Errorf("%s: %v", pointerOf(path[:i+1]), err)
			}
			node = c[idx]
		default:
			return nil, fmt.Errorf("%s: the parent is not an object or array", pointerOf(path[:i+1]))
		}
	}
	return node, nil
}

// update replaces the container that holds the last token of path with
// f(container, token), and writes the result back up the tree.
func update(doc interface{}, path []string, f func(parent interface{}, key string) (interface{}, error)) (interface{}, error) {
	if len(path) == 1 {
		return f(doc, path[0])
	}
	child, err := get(doc, path[:1])
	if err != nil {
		return nil, err
	}
	newChild, err := update(child, path[1:], f)
	if err != nil {
		return nil, err
	}
	switch c := doc.(type) {
	case map[string]interface{}:
		c[path[0]] = newChild
	case []interface{}:
		idx, _ := index(path[0], len(c))
		c[idx] = newChild
	}
	return doc, nil
}

func add(doc interface{}, path []string, value interface{}) (interface{}, error) {
	if len(path) == 0 {
		return value, nil
	}
	return update(doc, path, func(parent interface{}, key string) (interface{}, error) {
		switch c := parent.(type) {
		case map[string]interface{}:
			c[key] = value
			return c, nil
		case []interface{}:
			if key == "-" {
				return append(c, value), nil
			}
			idx, err := index(key, len(c)+1)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", pointerOf(path), err)
			}
			out := append(c[:idx:idx], value)
			return append(out, c[idx:]...), nil
		}
		return nil, fmt.Errorf("%s: the parent does not exist or is not an object or array", pointerOf(path))
	})
}

func remove(doc interface{}, path []string) (interface{}, error) {
	if len(path) == 0 {
		return nil, errors.New("cannot remove the whole document")
	}
	return update(doc, path, func(parent interface{}, key string) (interface{}, error) {
		switch c := parent.(type) {
		case map[string]interface{}:
			if _, ok := c[key]; !ok {
				return nil, fmt.Errorf("%s does not exist", pointerOf(path))
			}
			delete(c, key)
			return c, nil
		case []interface{}:
			idx, err := index(key, len(c))
			if err != nil {
				return nil, fmt.Errorf("%s: %v", pointerOf(path), err)
			}
			return append(c[:idx:idx], c[idx+1:]...), nil
		}
		return nil, fmt.Errorf("%s: the parent is not an object or array", pointerOf(path))
	})
}

func replace(doc interface{}, path []string, value interface{}) (interface{}, error) {
	if len(path) == 0 {
		return value, nil
	}
	if _, err := get(doc, path); err != nil {
		return nil, err
	}
	return update(doc, path, func(parent interface{}, key string) (interface{}, error) {
		switch c := parent.(type) {
		case map[string]interface{}:
			c[key] = value
			return c, nil
		case []interface{}:
			idx, _ := index(key, len(c))
			c[idx] = value
			return c, nil
		}
		return nil, fmt.Errorf("%s: the parent is not an object or array", pointerOf(path))
	})
}

// index parses an array index token (RFC 6901: digits, no leading zeros).
func index(token string, limit int) (int, error) {
	if token == "" || (len(token) > 1 && token[0] == '0') || strings.TrimLeft(token, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not an array index", token)
	}
	idx, err := strconv.Atoi(token)
	if err != nil || idx >= limit {
		return 0, fmt.Errorf("index %s is out of range", token)
	}
	return idx, nil
}

func pointerOf(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString("/")
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

func deepCopy(v interface{}) interface{} {
	text, _ := json.Marshal(v)
	out, _ := decodeValue(text)
	return out
}

// sameJSON compares two values as JSON (numbers by value).
func sameJSON(a, b interface{}) bool {
	norm := func(v interface{}) interface{} {
		text, _ := json.Marshal(v)
		var out interface{}
		_ = json.Unmarshal(text, &out)
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}
