// Package pluginpb is the gRPC protocol between the skills host and a plugin
// skill: the generated code of skill.proto (services Skill and Host), the
// go-plugin handshake values both sides must agree on, and conversions
// between the protobuf Error and wire.Error.
//
// Regenerate the .pb.go files with scripts/genproto.sh after editing
// skill.proto.
package pluginpb

// The go-plugin handshake. The host puts MagicCookieKey=MagicCookieValue in
// the plugin's environment and the plugin refuses to start without it.
//
// The cookie is NOT authentication and NOT a secret: anyone can read it here.
// It only tells a person who runs a plugin binary by hand that it is not a
// program to run directly, and lets the plugin fail fast instead of waiting
// for a handshake that never comes. What the host runs is decided by the
// SHA-256 it verifies on its private copy of the binary.
const (
	ProtocolVersion  = 1
	MagicCookieKey   = "SKILLS_PLUGIN_MAGIC_COOKIE"
	MagicCookieValue = "skills-plugin-v1-d7b0c7ae"

	// PluginName is the name under which the plugin registers the Skill
	// service in its go-plugin PluginSet.
	PluginName = "skill"
)

// MaxMessageSize is the largest message either side's gRPC server accepts
// (a call's input, a callback's input). gRPC's default of 4 MiB is too small
// for tool results such as file contents.
const MaxMessageSize = 64 << 20
