// Package wasmtest writes small WebAssembly modules byte by byte, for tests
// that need a module no compiler would produce (one lacking an export, one
// that breaks the ABI on purpose) without a text-format assembler.
package wasmtest

// Section ids.
const (
	SecCustom   = 0
	SecType     = 1
	SecImport   = 2
	SecFunction = 3
	SecTable    = 4
	SecMemory   = 5
	SecGlobal   = 6
	SecExport   = 7
	SecStart    = 8
	SecElement  = 9
	SecCode     = 10
	SecData     = 11
)

// Value types and export kinds.
const (
	I32     = 0x7f
	I64     = 0x7e
	FuncRef = 0x70

	KindFunc   = 0x00
	KindTable  = 0x01
	KindMemory = 0x02
	KindGlobal = 0x03
)

// Module joins sections (each from Section or Custom) after the header.
func Module(sections ...[]byte) []byte {
	b := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	for _, s := range sections {
		b = append(b, s...)
	}
	return b
}

// Section makes a section whose body is a vector of the given entries.
func Section(id byte, entries ...[]byte) []byte {
	body := U32(uint32(len(entries)))
	for _, e := range entries {
		body = append(body, e...)
	}
	return Raw(id, body)
}

// Raw makes a section from its body as is.
func Raw(id byte, body []byte) []byte {
	return append(append([]byte{id}, U32(uint32(len(body)))...), body...)
}

// Custom makes a custom section.
func Custom(name string, body []byte) []byte {
	return Raw(SecCustom, append(Name(name), body...))
}

// U32 encodes v as unsigned LEB128.
func U32(v uint32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// S64 encodes v as signed LEB128.
func S64(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Name encodes a string as a length-prefixed name.
func Name(s string) []byte { return append(U32(uint32(len(s))), s...) }

// FuncType is a type section entry.
func FuncType(params, results []byte) []byte {
	b := append([]byte{0x60}, U32(uint32(len(params)))...)
	b = append(b, params...)
	b = append(b, U32(uint32(len(results)))...)
	return append(b, results...)
}

// ImportFunc is an import section entry for a function of type typeIdx.
func ImportFunc(module, name string, typeIdx uint32) []byte {
	b := append(Name(module), Name(name)...)
	return append(append(b, KindFunc), U32(typeIdx)...)
}

// Export is an export section entry.
func Export(name string, kind byte, idx uint32) []byte {
	return append(append(Name(name), kind), U32(idx)...)
}

// Memory is a memory section entry with a minimum and no maximum (pages).
func Memory(minPages uint32) []byte { return append([]byte{0x00}, U32(minPages)...) }

// Body is a code section entry: locals (already encoded as a vector) and
// instructions; the final end is added.
func Body(locals []byte, code ...[]byte) []byte {
	if locals == nil {
		locals = []byte{0}
	}
	b := append([]byte(nil), locals...)
	for _, c := range code {
		b = append(b, c...)
	}
	b = append(b, 0x0b)
	return append(U32(uint32(len(b))), b...)
}

// Cat joins byte strings; handy for instruction sequences.
func Cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// Instructions used by the tests.
var (
	Unreachable = []byte{0x00}
	End         = []byte{0x0b}
	Drop        = []byte{0x1a}
	I32Add      = []byte{0x6a}
	I32Sub      = []byte{0x6b}
	I32Eqz      = []byte{0x45}
	I32GtU      = []byte{0x4b}
	I64ExtendU  = []byte{0xad}
	I64Shl      = []byte{0x86}
	I64Or       = []byte{0x84}
	Return      = []byte{0x0f}
)

// Op1 is an instruction with one u32 immediate (call, br, local.get, ...).
func Op1(op byte, imm uint32) []byte { return append([]byte{op}, U32(imm)...) }

// Block opens a block, loop or if (op 0x02, 0x03, 0x04) of empty type.
func Block(op byte) []byte { return []byte{op, 0x40} }

// I32Const and I64Const push a constant.
func I32Const(v int32) []byte { return append([]byte{0x41}, S64(int64(v))...) }

// I64Const pushes a 64-bit constant.
func I64Const(v int64) []byte { return append([]byte{0x42}, S64(v)...) }

// Call, LocalGet and friends.
func Call(f uint32) []byte     { return Op1(0x10, f) }
func LocalGet(i uint32) []byte { return Op1(0x20, i) }
func LocalSet(i uint32) []byte { return Op1(0x21, i) }
func LocalTee(i uint32) []byte { return Op1(0x22, i) }
func Br(l uint32) []byte       { return Op1(0x0c, l) }
func BrIf(l uint32) []byte     { return Op1(0x0d, l) }
func RefFunc(f uint32) []byte  { return Op1(0xd2, f) }

// CallIndirect calls through table 0 with type typeIdx.
func CallIndirect(typeIdx uint32) []byte { return append(Op1(0x11, typeIdx), 0x00) }
