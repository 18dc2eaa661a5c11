package wire

// The WebAssembly ABI, version 1. ABI.md beside this file describes it in full,
// so that a guest in any language can implement it.
const (
	// ABIVersion is returned by the guest export ExportABIVersion.
	ABIVersion = 1

	// HostModule is the import module name of the host functions.
	HostModule = "skills"

	// Guest exports.
	ExportABIVersion = "skill_abi_version" // () -> i32
	ExportInit       = "skill_init"        // () -> (): runs main.main once, after _initialize
	ExportAlloc      = "skill_alloc"       // (size i32) -> ptr i32
	ExportFree       = "skill_free"        // (ptr i32) -> ()
	ExportCall       = "skill_call"        // (ptr i32, len i32) -> i64 packed (ptr << 32 | len)

	// Host imports (module HostModule).
	ImportCall   = "call"   // (kind i32, name_ptr, name_len, in_ptr, in_len i32) -> len i32
	ImportResult = "result" // (ptr i32) -> (): copies the pending result of the last call
	ImportLog    = "log"    // (level i32, ptr i32, len i32) -> ()

	// Kinds of ImportCall.
	KindTool  = 0
	KindSkill = 1

	// Status bytes that open every result buffer; the rest is JSON
	// (the output on StatusOK, an Error on StatusError).
	StatusOK    = 0
	StatusError = 1
)
