//go:build race

package publish

// raceEnabled: the race detector makes pure-Go decompression about 25x
// slower, so the bundled-registry test unpacks only the start of its large
// packages under -race (their hashes are still checked in full).
const raceEnabled = true
