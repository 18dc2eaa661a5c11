package meter

// Opcodes the rewriter acts on.
const (
	opLoop       = 0x03
	opEnd        = 0x0b
	opCall       = 0x10
	opReturnCall = 0x12
	opGlobalGet  = 0x23
	opGlobalSet  = 0x24
	opI32Const   = 0x41
	opI32Eqz     = 0x45
	opI32Sub     = 0x6b
	opIf         = 0x04
	opRefFunc    = 0xd2
	blockEmpty   = 0x40
)

// skipImmediates advances r over the immediates of the instruction whose
// opcode byte op was just read. It knows every instruction of WebAssembly 2.0
// (with SIMD, bulk memory, reference types), threads, tail calls and
// exception handling: what wazero accepts. Anything else is an error, so an
// instruction is never mis-sized.
func skipImmediates(r *reader, op byte) {
	switch {
	case op == 0x02 || op == 0x03 || op == 0x04 || op == 0x06: // block loop if try
		r.sleb(33)
	case op == 0x0c || op == 0x0d || op == 0x09 || op == 0x18: // br br_if rethrow delegate
		r.u32()
	case op == 0x0e: // br_table
		n := r.count()
		for i := 0; i <= n && r.err == nil; i++ {
			r.u32()
		}
	case op == 0x10 || op == 0x12 || op == 0xd2: // call return_call ref.func
		r.u32()
	case op == 0x11 || op == 0x13: // call_indirect return_call_indirect
		r.u32()
		r.u32()
	case op == 0x07 || op == 0x08: // catch throw
		r.u32()
	case op == 0x1f: // try_table
		r.sleb(33)
		n := r.count()
		for i := 0; i < n && r.err == nil; i++ {
			switch r.byte() {
			case 0x00, 0x01: // catch catch_ref: tag, label
				r.u32()
				r.u32()
			case 0x02, 0x03: // catch_all catch_all_ref: label
				r.u32()
			default:
				r.failf("unknown catch clause")
			}
		}
	case op == 0x1c: // select with types
		n := r.count()
		for i := 0; i < n && r.err == nil; i++ {
			valType(r)
		}
	case op >= 0x20 && op <= 0x26: // local.* global.* table.get table.set
		r.u32()
	case op >= 0x28 && op <= 0x3e: // loads and stores
		memarg(r)
	case op == 0x3f || op == 0x40: // memory.size memory.grow
		r.u32()
	case op == 0x41:
		r.sleb(32)
	case op == 0x42:
		r.sleb(64)
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op == 0xd0: // ref.null heaptype
		r.sleb(33)
	case op <= 0x01 || op == 0x05 || op == 0x0a || op == 0x0b || op == 0x0f ||
		op == 0x19 || op == 0x1a || op == 0x1b ||
		(op >= 0x45 && op <= 0xc4) || op == 0xd1:
		// no immediates
	case op == 0xfc:
		miscImmediates(r)
	case op == 0xfd:
		simdImmediates(r)
	case op == 0xfe:
		atomicImmediates(r)
	default:
		r.failAt(r.pos-1, "unknown opcode 0x%02x", op)
	}
}

func memarg(r *reader) {
	align := r.u32()
	if align&0x40 != 0 { // multi-memory: a memory index follows
		r.u32()
	}
	r.uleb(64)
}

func valType(r *reader) {
	switch r.byte() {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
	default:
		r.failAt(r.pos-1, "unsupported value type")
	}
}

func miscImmediates(r *reader) {
	switch sub := r.u32(); {
	case sub <= 7: // saturating truncations
	case sub == 8 || sub == 10 || sub == 12 || sub == 14: // memory.init memory.copy table.init table.copy
		r.u32()
		r.u32()
	case sub == 9 || sub == 11 || sub == 13 || (sub >= 15 && sub <= 17): // data.drop memory.fill elem.drop table.grow/size/fill
		r.u32()
	default:
		r.failf("unknown 0xfc instruction %d", sub)
	}
}

func simdImmediates(r *reader) {
	switch sub := r.u32(); {
	case sub <= 0x0b || sub == 0x5c || sub == 0x5d: // loads and stores
		memarg(r)
	case sub == 0x0c || sub == 0x0d: // v128.const i8x16.shuffle
		r.bytes(16)
	case sub >= 0x15 && sub <= 0x22: // extract_lane replace_lane
		r.byte()
	case sub >= 0x54 && sub <= 0x5b: // load_lane store_lane
		memarg(r)
		r.byte()
	case sub <= 0x113:
		// no immediates
	default:
		r.failf("unknown 0xfd instruction %d", sub)
	}
}

func atomicImmediates(r *reader) {
	switch sub := r.u32(); {
	case sub == 0x03: // atomic.fence
		r.byte()
	case sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e):
		memarg(r)
	default:
		r.failf("unknown 0xfe instruction %d", sub)
	}
}
