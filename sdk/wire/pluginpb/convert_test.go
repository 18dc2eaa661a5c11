package pluginpb

import (
	"errors"
	"reflect"
	"testing"

	"github.com/skillsdev/skills/sdk/wire"
	"google.golang.org/protobuf/proto"
)

func TestErrorRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   *wire.Error
		want *wire.Error
	}{
		{"nil", nil, nil},
		{"full", &wire.Error{Code: wire.CodeCycle, Message: "m", Skill: "s", Chain: []string{"a", "b"}},
			&wire.Error{Code: wire.CodeCycle, Message: "m", Skill: "s", Chain: []string{"a", "b"}}},
		{"custom code", &wire.Error{Code: "quota_exceeded"}, &wire.Error{Code: "quota_exceeded"}},
		{"no code becomes internal", &wire.Error{Message: "m"}, &wire.Error{Code: wire.CodeInternal, Message: "m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb := FromWire(tt.in)
			if pb != nil { // through the wire format too
				b, err := proto.Marshal(pb)
				if err != nil {
					t.Fatal(err)
				}
				pb = &Error{}
				if err := proto.Unmarshal(b, pb); err != nil {
					t.Fatal(err)
				}
			}
			got := pb.Wire()
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			if got != nil && !errors.Is(got, &wire.Error{Code: tt.want.Code}) {
				t.Error("errors.Is does not match the code")
			}
		})
	}
}
