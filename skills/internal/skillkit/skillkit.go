// Package skillkit holds what the example skills share at their boundary
// with the host: strict decoding of a skill's JSON input, and re-wrapping a
// failed tool or skill call with context without losing its typed code.
package skillkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/skillsdev/skills/sdk"
	"github.com/skillsdev/skills/sdk/wire"
)

// Decode decodes a skill's input into v. The host has already checked the
// input against the ## Input schema, but a skill is also called from tests
// and from hosts that skip validation, so unknown fields, wrong types and
// trailing data are refused here too. Empty input and null count as {}.
// Failures are *sdk.Error values with code invalid_input.
func Decode(input json.RawMessage, v any) error {
	data := bytes.TrimSpace(input)
	if len(data) == 0 || string(data) == "null" {
		data = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return sdk.Errorf(wire.CodeInvalidInput, "input: %s: want %s, got %s", typeErr.Field, kindName(typeErr.Type), typeErr.Value)
		}
		return sdk.Errorf(wire.CodeInvalidInput, "input: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return sdk.Errorf(wire.CodeInvalidInput, "input: unexpected data after the JSON object")
	}
	return nil
}

// Wrap prefixes the message of a failed call with what was being done, and
// keeps the typed error's code, skill and chain so that the caller can still
// branch on them (a depth_exceeded three calls down stays depth_exceeded). An
// error that is not an *sdk.Error becomes one with code internal.
func Wrap(err error, format string, args ...any) *sdk.Error {
	what := fmt.Sprintf(format, args...)
	var e *sdk.Error
	if errors.As(err, &e) {
		c := *e
		c.Message = what + ": " + e.Message
		return &c
	}
	return &sdk.Error{Code: wire.CodeInternal, Message: what + ": " + err.Error()}
}

// kindName names a Go type the way a JSON Schema reader would.
func kindName(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}
