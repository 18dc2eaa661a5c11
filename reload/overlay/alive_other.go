//go:build !unix

package overlay

// alive cannot check processes here, so every registration counts.
func alive(int) bool { return true }
