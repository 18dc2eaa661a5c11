package skillkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/skillsdev/skills/sdk"
	"github.com/skillsdev/skills/sdk/wire"
)

func TestDecode(t *testing.T) {
	type in struct {
		Text string `json:"text"`
		Top  *int   `json:"top"`
	}
	tests := []struct {
		name    string
		input   string
		wantErr string // substring; "" means success
		want    in
	}{
		{name: "empty is {}", input: ""},
		{name: "null is {}", input: "null"},
		{name: "fields", input: `{"text":"hi","top":3}`, want: in{Text: "hi", Top: ptr(3)}},
		{name: "unknown field", input: `{"txt":"hi"}`, wantErr: `unknown field "txt"`},
		{name: "wrong type names field", input: `{"top":"3"}`, wantErr: "top: want an integer, got string"},
		{name: "not json", input: `{`, wantErr: "input:"},
		{name: "trailing data", input: `{} {}`, wantErr: "unexpected data after"},
		{name: "array", input: `[]`, wantErr: "input:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got in
			err := Decode(json.RawMessage(tt.input), &got)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if got.Text != tt.want.Text || (got.Top == nil) != (tt.want.Top == nil) || (got.Top != nil && *got.Top != *tt.want.Top) {
					t.Errorf("Decode = %+v, want %+v", got, tt.want)
				}
				return
			}
			if !errors.Is(err, sdk.ErrInvalidInput) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Decode error = %v, want invalid_input containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	typed := &sdk.Error{Code: wire.CodeDepthExceeded, Message: "depth 9 > 8", Skill: "wordcount", Chain: []string{"a", "b"}}
	tests := []struct {
		name string
		err  error
		want sdk.Error
	}{
		{"typed keeps code, skill, chain", typed,
			sdk.Error{Code: wire.CodeDepthExceeded, Message: "call wordcount: depth 9 > 8", Skill: "wordcount", Chain: []string{"a", "b"}}},
		{"wrapped typed is found", fmt.Errorf("outer: %w", typed),
			sdk.Error{Code: wire.CodeDepthExceeded, Message: "call wordcount: depth 9 > 8", Skill: "wordcount", Chain: []string{"a", "b"}}},
		{"plain error becomes internal", errors.New("boom"),
			sdk.Error{Code: wire.CodeInternal, Message: "call wordcount: boom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Wrap(tt.err, "call %s", "wordcount")
			if got.Code != tt.want.Code || got.Message != tt.want.Message || got.Skill != tt.want.Skill || strings.Join(got.Chain, ",") != strings.Join(tt.want.Chain, ",") {
				t.Errorf("Wrap = %+v, want %+v", *got, tt.want)
			}
		})
	}
	if typed.Message != "depth 9 > 8" {
		t.Errorf("Wrap changed the original error: %q", typed.Message)
	}
}

func ptr[T any](v T) *T { return &v }
