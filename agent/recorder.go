package agent

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/skillsdev/skills/audit"
)

// Event types. The loop emits all but the skill.* ones, which the host and
// the reloader emit through Recorder.Emit (the loop does emit
// skill.deprecated_call when the model calls a tool marked Deprecated).
const (
	EventRunStart          = "run.start"
	EventTurnStart         = "turn.start"
	EventTurnEnd           = "turn.end"
	EventModelCall         = "model.call"
	EventToolStart         = "tool.start"
	EventToolEnd           = "tool.end"
	EventToolDenied        = "tool.denied"
	EventToolError         = "tool.error"
	EventSkillReloaded     = "skill.reloaded"
	EventSkillReloadFailed = "skill.reload_failed"
	EventSkillDeprecated   = "skill.deprecated_call"
	EventBudgetExceeded    = "budget.exceeded"
	EventRunEnd            = "run.end"
)

// RecorderOptions configures a Recorder.
type RecorderOptions struct {
	// Log chains and writes the events; nil keeps an in-memory chain.
	// Several recorders (runs) may share one Log.
	Log *audit.Writer
	// RunID names the run in every event; "" picks 16 random hex digits.
	RunID string
	// OnEvent sees each event as it is recorded, in sequence order, while
	// the recorder's lock is held: it must be quick and must not call Emit.
	// audit.StreamTo(os.Stderr) is a ready-made one.
	OnEvent func(audit.Event)
	// Clock stamps events; nil means time.Now.
	Clock func() time.Time
}

// Recorder records the events of one run into a hash chain. It is safe for
// concurrent use, so a reloader can report into a run while the loop runs.
type Recorder struct {
	mu      sync.Mutex
	log     *audit.Writer
	runID   string
	onEvent func(audit.Event)
	clock   func() time.Time
	events  []audit.Event
}

// NewRecorder makes a Recorder.
func NewRecorder(o RecorderOptions) (*Recorder, error) {
	r := &Recorder{log: o.Log, runID: o.RunID, onEvent: o.OnEvent, clock: o.Clock}
	if r.log == nil {
		r.log = audit.NewWriter(nil)
	}
	if r.clock == nil {
		r.clock = time.Now
	}
	if r.runID == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("agent: new recorder: run id: %w", err)
		}
		r.runID = hex.EncodeToString(b[:])
	}
	return r, nil
}

// RunID is the id stamped on this recorder's events.
func (r *Recorder) RunID() string { return r.runID }

// Emit records one event. data is marshaled to a JSON object (a struct, a
// map, or a json.RawMessage holding an object; nil means {}). An error means
// the event is not in the log: the run that owns the recorder stops on it.
func (r *Recorder) Emit(typ string, data any) (audit.Event, error) {
	var raw json.RawMessage
	switch d := data.(type) {
	case nil:
	case json.RawMessage:
		raw = d
	default:
		var err error
		if raw, err = json.Marshal(d); err != nil {
			return audit.Event{}, fmt.Errorf("agent: record %s: %w", typ, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.log == nil {
		return audit.Event{}, fmt.Errorf("agent: record %s: the recorder was not made by NewRecorder", typ)
	}
	ev, err := r.log.Append(r.clock(), r.runID, typ, raw)
	if err != nil {
		return audit.Event{}, fmt.Errorf("agent: record %s: %w", typ, err)
	}
	r.events = append(r.events, ev)
	if r.onEvent != nil {
		r.onEvent(ev)
	}
	return ev, nil
}

// Events returns a copy of the events recorded so far.
func (r *Recorder) Events() []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]audit.Event(nil), r.events...)
}
