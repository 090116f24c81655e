// Package strictjson is heidi-tray's one JSON decoder for input from outside
// (the local API, the page's calls): one value, known fields only, no
// duplicate keys, errors a person can act on.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Decode decodes exactly one JSON value into v, refusing unknown fields,
// duplicate keys and trailing data, with an error that names the problem.
func Decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("the body is not valid JSON (at byte %d)", se.Offset)
		case errors.As(err, &te) && te.Field == "":
			return errors.New("the body must be one JSON object, {…}")
		case errors.As(err, &te):
			return fmt.Errorf("field %q must be %s", strings.TrimPrefix(strings.TrimPrefix(te.Field, "Open."), "Clinician."), kindName(te.Type.Kind()))
		case errors.Is(err, io.EOF):
			return errors.New("the body is empty; send a JSON object")
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return fmt.Errorf("unknown field %s; check the field names against the documentation", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return fmt.Errorf("the body is not valid JSON: %v", err)
	}
	if dec.More() {
		return errors.New("the body has data after the JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("the body has data after the JSON object")
	}
	return duplicateKeys(json.NewDecoder(bytes.NewReader(body)), 0)
}

// duplicateKeys refuses an object that names a key twice: parsers disagree
// on which one wins, which is how fields get smuggled past a check.
func duplicateKeys(dec *json.Decoder, depth int) error {
	if depth > 32 {
		return errors.New("the body is nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil // already reported by the decoder
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil
			}
			key, _ := k.(string)
			if seen[key] {
				return fmt.Errorf("field %q appears twice", key)
			}
			seen[key] = true
			if err := duplicateKeys(dec, depth+1); err != nil {
				return err
			}
		}
		dec.Token()
	case json.Delim('['):
		for dec.More() {
			if err := duplicateKeys(dec, depth+1); err != nil {
				return err
			}
		}
		dec.Token()
	}
	return nil
}

// kindName says what JSON a Go kind takes, in the API's words.
func kindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "a JSON object"
	}
	return "another JSON type"
}
