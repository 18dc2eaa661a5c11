package install

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/skillsdev/skills/marketplace/sign"
)

func genKey(t *testing.T) (skey, vkey string) {
	t.Helper()
	skey, vkey, err := sign.GenerateKey("other")
	if err != nil {
		t.Fatal(err)
	}
	return skey, vkey
}

// closeMidway announces the full length, sends half of data and closes the
// connection: a registry going away mid-download.
func closeMidway(data []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}
}
