// Command errcode is a test plugin that fails in the way its input names.
package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/skillsdev/skills/sdk"
)

func main() {
	sdk.Serve(func(_ sdk.Context, in json.RawMessage) (any, error) {
		var r struct{ Fail string }
		if err := json.Unmarshal(in, &r); err != nil {
			return nil, err
		}
		switch r.Fail {
		case "typed":
			return nil, sdk.Errorf("quota_exceeded", "no more %s today", "words")
		case "wrapped":
			return nil, fmt.Errorf("count: %w", sdk.Errorf(sdk.ErrNotFound.Code, "no such file"))
		case "plain":
			return nil, errors.New("something broke")
		case "unencodable":
			return func() {}, nil
		}
		return map[string]string{"ok": "yes"}, nil
	})
}
