package pluginpb

import "github.com/skillsdev/skills/sdk/wire"

// FromWire converts a wire.Error to its protobuf form; nil stays nil.
func FromWire(e *wire.Error) *Error {
	if e == nil {
		return nil
	}
	return &Error{Code: string(e.Code), Message: e.Message, Skill: e.Skill, Chain: e.Chain}
}

// Wire converts the protobuf Error back to a *wire.Error, so callers can use
// errors.As and errors.Is on it; nil stays nil. An error without a code
// (which a conforming peer never sends) becomes CodeInternal rather than an
// error nobody can branch on.
func (e *Error) Wire() *wire.Error {
	if e == nil {
		return nil
	}
	code := wire.Code(e.GetCode())
	if code == "" {
		code = wire.CodeInternal
	}
	return &wire.Error{Code: code, Message: e.GetMessage(), Skill: e.GetSkill(), Chain: e.GetChain()}
}
