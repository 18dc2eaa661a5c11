package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/skillsdev/skills/audit"
	"github.com/skillsdev/skills/sdk/wire"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxTurns        = 32
	DefaultMaxToolCalls    = 128
	DefaultMaxOutputTokens = 4096
	DefaultMaxResultBytes  = 64 << 10
)

// DefaultSystem is the system prompt used when Options.System is empty.
const DefaultSystem = "You are an agent that completes the user's task with the tools provided. " +
	"Call tools when they help; a tool result may be an error, which you should read and work around. " +
	"When the task is done, reply with the answer and no tool calls."

// maxPayload bounds the tool input and output copied into an event; larger
// ones are recorded by size and SHA-256 so the log stays readable.
const maxPayload = 8 << 10

// Options tune one run. Zero values mean the documented defaults.
type Options struct {
	System          string        // system prompt; "" means DefaultSystem
	MaxTurns        int           // model calls; 0 means DefaultMaxTurns
	MaxToolCalls    int           // tool calls over the run; 0 means DefaultMaxToolCalls
	MaxTokens       int           // input+output tokens over the run, as the model reports them; 0 means no limit
	MaxOutputTokens int           // cap per model reply; 0 means DefaultMaxOutputTokens
	Timeout         time.Duration // wall clock for the run; 0 means none
	Deadline        time.Time     // wall-clock end of the run; zero means none (the earlier of Timeout and Deadline applies)
	MaxResultBytes  int           // tool output passed to the model; 0 means DefaultMaxResultBytes
	// OnEvent, Log and RunID configure the run's own recorder (see
	// RecorderOptions): OnEvent streams each event live (for example
	// audit.StreamTo(os.Stderr)), Log appends them to an audit log.
	OnEvent func(audit.Event)
	Log     *audit.Writer
	RunID   string
	// Recorder, instead of the three fields above, is a recorder made by the
	// caller, so that others (the host, the reloader) can emit into the run.
	Recorder *Recorder
	// Clock drives the wall-clock budget and durations; nil means time.Now.
	Clock func() time.Time
}

// Result is what a run produced, also when it stopped early.
type Result struct {
	RunID     string
	Content   string // the model's last reply text
	Stop      Stop   // why the model's last reply ended
	Turns     int    // model calls made
	ToolCalls int    // tool calls dispatched (including ones that failed)
	Usage     Usage
	Events    []audit.Event // the events the run's recorder holds
}

// Budget names a limit of a run.
type Budget string

// The budgets a run can exceed.
const (
	BudgetTurns     Budget = "turns"
	BudgetToolCalls Budget = "tool_calls"
	BudgetTokens    Budget = "tokens"
	BudgetWallClock Budget = "wall_clock"
)

// ErrBudget matches every *BudgetError with errors.Is.
var ErrBudget = errors.New("agent: budget exceeded")

// BudgetError reports which budget stopped a run. For the wall clock, Limit
// and Used are milliseconds.
type BudgetError struct {
	Budget Budget
	Limit  int64
	Used   int64
}

// Error formats the error as "agent: budget exceeded: turns (limit 3, used 3)".
func (e *BudgetError) Error() string {
	return fmt.Sprintf("agent: budget exceeded: %s (limit %d, used %d)", e.Budget, e.Limit, e.Used)
}

// Is makes errors.Is(err, ErrBudget) true.
func (e *BudgetError) Is(target error) bool { return target == ErrBudget }

// Run gives task to the model and lets it call tools until it replies
// without tool calls or a budget runs out. Each turn it takes a fresh
// tools.Tools() snapshot. Tool failures of any kind (unknown tool, arguments
// that are not a JSON object, denial, a failing tool) go back to the model as
// error results and the run goes on.
//
// It returns the Result and nil, or the Result so far and an error: a
// *BudgetError (errors.Is(err, ErrBudget)), the model's error, the context's
// error, or an error writing the audit log (which stops the run, since an
// unrecorded run must not go on).
func Run(ctx context.Context, model Model, tools ToolSet, task string, opts Options) (Result, error) {
	r, err := newRunner(model, tools, task, opts)
	if err != nil {
		return Result{}, err
	}
	return r.run(ctx)
}

// runner holds the state of one run.
type runner struct {
	model    Model
	tools    ToolSet
	task     string
	opts     Options
	rec      *Recorder
	clock    func() time.Time
	start    time.Time
	deadline time.Time // zero: none
	limit    int64     // wall-clock limit in ms, for reports

	msgs []Message
	res  Result
	turn int
}

func newRunner(model Model, tools ToolSet, task string, o Options) (*runner, error) {
	switch {
	case model == nil:
		return nil, errors.New("agent: run: no model")
	case strings.TrimSpace(task) == "":
		return nil, errors.New("agent: run: empty task")
	case o.Recorder != nil && (o.OnEvent != nil || o.Log != nil || o.RunID != ""):
		return nil, errors.New("agent: run: set either Recorder or OnEvent/Log/RunID, not both")
	case o.MaxTurns < 0, o.MaxToolCalls < 0, o.MaxTokens < 0, o.MaxOutputTokens < 0, o.Timeout < 0, o.MaxResultBytes < 0:
		return nil, errors.New("agent: run: negative budget in options")
	}
	if tools == nil {
		tools = noTools{}
	}
	if o.System == "" {
		o.System = DefaultSystem
	}
	if o.MaxTurns == 0 {
		o.MaxTurns = DefaultMaxTurns
	}
	if o.MaxToolCalls == 0 {
		o.MaxToolCalls = DefaultMaxToolCalls
	}
	if o.MaxOutputTokens == 0 {
		o.MaxOutputTokens = DefaultMaxOutputTokens
	}
	if o.MaxResultBytes == 0 {
		o.MaxResultBytes = DefaultMaxResultBytes
	}
	r := &runner{model: model, tools: tools, task: task, opts: o, rec: o.Recorder, clock: o.Clock}
	if r.clock == nil {
		r.clock = time.Now
	}
	if r.rec == nil {
		var err error
		if r.rec, err = NewRecorder(RecorderOptions{Log: o.Log, RunID: o.RunID, OnEvent: o.OnEvent, Clock: o.Clock}); err != nil {
			return nil, err
		}
	}
	r.start = r.clock()
	if o.Timeout > 0 {
		r.deadline = r.start.Add(o.Timeout)
	}
	if !o.Deadline.IsZero() && (r.deadline.IsZero() || o.Deadline.Before(r.deadline)) {
		r.deadline = o.Deadline
	}
	if !r.deadline.IsZero() {
		r.limit = r.deadline.Sub(r.start).Milliseconds()
	}
	r.res.RunID = r.rec.RunID()
	return r, nil
}

type noTools struct{}

func (noTools) Tools() []Tool { return nil }
func (noTools) Call(context.Context, string, json.RawMessage) (json.RawMessage, error) {
	return nil, wire.Errorf(wire.CodeNotFound, "", "no tools are available")
}

// stop ends a run early: it is what the loop returns for a budget, a model
// failure, cancellation or an audit failure.
type stop struct {
	status string // run.end status: budget, error, canceled
	err    error
}

func (r *runner) run(ctx context.Context) (Result, error) {
	runCtx := ctx
	if !r.deadline.IsZero() {
		// The budget is measured on r.clock, which tests may fake; the real
		// context deadline is placed the same distance ahead of real time.
		var cancel context.CancelFunc
		runCtx, cancel = context.WithDeadline(ctx, time.Now().Add(r.deadline.Sub(r.clock())))
		defer cancel()
	}
	if err := r.emit(EventRunStart, runStartData{
		Task: r.task, Model: r.model.Name(), MaxTurns: r.opts.MaxTurns, MaxToolCalls: r.opts.MaxToolCalls,
		MaxTokens: r.opts.MaxTokens, TimeoutMS: r.limit,
	}); err != nil {
		return r.finish(&stop{status: "error", err: err})
	}
	r.msgs = []Message{{Role: RoleUser, Content: r.task}}
	for {
		done, st := r.step(ctx, runCtx)
		if st != nil {
			return r.finish(st)
		}
		if done {
			return r.finish(nil)
		}
	}
}

// step runs one turn; done reports that the model ended the run.
func (r *runner) step(ctx, runCtx context.Context) (done bool, st *stop) {
	if err := ctx.Err(); err != nil {
		return false, &stop{status: "canceled", err: fmt.Errorf("agent: turn %d: %w", r.turn+1, err)}
	}
	if r.turn >= r.opts.MaxTurns {
		return false, r.budget(BudgetTurns, int64(r.opts.MaxTurns), int64(r.turn))
	}
	if st := r.checkClock(); st != nil {
		return false, st
	}
	r.turn++
	r.res.Turns = r.turn
	snapshot := r.tools.Tools()
	byName := make(map[string]Tool, len(snapshot))
	offered := make([]Tool, 0, len(snapshot))
	names := make([]string, 0, len(snapshot))
	for _, t := range snapshot {
		if _, dup := byName[t.Name]; dup {
			continue // the first of a duplicated name wins; the model cannot tell them apart
		}
		byName[t.Name] = t
		names = append(names, t.Name)
		if t.Deprecated != "" {
			t.Description = strings.TrimSpace(t.Description + " (Deprecated: " + t.Deprecated + ")")
		}
		offered = append(offered, t)
	}
	if err := r.emit(EventTurnStart, turnStartData{Turn: r.turn, Tools: names}); err != nil {
		return false, &stop{status: "error", err: err}
	}

	maxOut := r.opts.MaxOutputTokens
	if r.opts.MaxTokens > 0 {
		maxOut = min(maxOut, max(1, r.opts.MaxTokens-r.res.Usage.Total()))
	}
	req := Request{System: r.opts.System, Messages: r.msgs, Tools: offered, MaxTokens: maxOut}
	t0 := r.clock()
	resp, err := r.model.Complete(runCtx, req)
	mc := modelCallData{Turn: r.turn, Model: r.model.Name(), MS: r.since(t0)}
	if err != nil {
		mc.Error = err.Error()
	} else {
		mc.InputTokens, mc.OutputTokens, mc.Stop, mc.ToolCalls = resp.Usage.InputTokens, resp.Usage.OutputTokens, resp.Stop, len(resp.ToolCalls)
	}
	if e := r.emit(EventModelCall, mc); e != nil {
		return false, &stop{status: "error", err: e}
	}
	if err != nil {
		return false, r.interrupted(ctx, runCtx, fmt.Errorf("agent: turn %d: model %s: %w", r.turn, r.model.Name(), err))
	}

	r.res.Usage = r.res.Usage.Add(resp.Usage)
	r.res.Content, r.res.Stop = resp.Content, resp.Stop
	for i := range resp.ToolCalls {
		if resp.ToolCalls[i].ID == "" {
			// Some OpenAI-compatible servers omit ids; results must still pair up.
			resp.ToolCalls[i].ID = "call_" + strconv.Itoa(r.turn) + "_" + strconv.Itoa(i)
		}
	}
	r.msgs = append(r.msgs, Message{Role: RoleAssistant, Content: resp.Content, ToolCalls: resp.ToolCalls})
	if r.opts.MaxTokens > 0 && r.res.Usage.Total() > r.opts.MaxTokens {
		if st := r.endTurn(0, "budget"); st != nil {
			return false, st
		}
		return false, r.budget(BudgetTokens, int64(r.opts.MaxTokens), int64(r.res.Usage.Total()))
	}
	if len(resp.ToolCalls) == 0 {
		return true, r.endTurn(0, string(resp.Stop))
	}
	for i, call := range resp.ToolCalls {
		var st *stop
		if r.res.ToolCalls >= r.opts.MaxToolCalls {
			st = r.budget(BudgetToolCalls, int64(r.opts.MaxToolCalls), int64(r.res.ToolCalls))
		} else if st = r.checkClock(); st == nil {
			st = r.dispatch(ctx, runCtx, call, byName)
		}
		if st != nil {
			if e := r.endTurn(i, st.status); e != nil {
				return false, e
			}
			return false, st
		}
	}
	return false, r.endTurn(len(resp.ToolCalls), string(resp.Stop))
}

// dispatch runs one tool call and appends its result message.
func (r *runner) dispatch(ctx, runCtx context.Context, call ToolCall, byName map[string]Tool) *stop {
	r.res.ToolCalls++
	if err := r.emit(EventToolStart, toolStartData{Turn: r.turn, ID: call.ID, Name: call.Name, Input: payload([]byte(call.Arguments))}); err != nil {
		return &stop{status: "error", err: err}
	}
	t0 := r.clock()
	var out json.RawMessage
	var callErr error
	tool, known := byName[call.Name]
	input, argErr := parseArguments(call.Arguments)
	switch {
	case !known:
		callErr = wire.Errorf(wire.CodeNotFound, call.Name, unknownTool(call.Name, byName))
	case argErr != nil:
		callErr = wire.Errorf(wire.CodeInvalidInput, call.Name, argErr.Error())
	default:
		if tool.Deprecated != "" {
			if err := r.emit(EventSkillDeprecated, deprecatedData{Turn: r.turn, ID: call.ID, Name: call.Name, Hint: tool.Deprecated}); err != nil {
				return &stop{status: "error", err: err}
			}
		}
		out, callErr = r.tools.Call(runCtx, call.Name, input)
	}
	ms := r.since(t0)
	if callErr != nil {
		we := wire.AsError(callErr)
		typ := EventToolError
		if we.Code == wire.CodeToolDenied || we.Code == wire.CodeSkillDenied {
			typ = EventToolDenied
		}
		if err := r.emit(typ, toolErrorData{Turn: r.turn, ID: call.ID, Name: call.Name, MS: ms, Code: string(we.Code), Message: we.Message}); err != nil {
			return &stop{status: "error", err: err}
		}
		if runCtx.Err() != nil {
			return r.interrupted(ctx, runCtx, fmt.Errorf("agent: turn %d: tool %s: %w", r.turn, call.Name, callErr))
		}
		body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": string(we.Code), "message": we.Error()}})
		r.msgs = append(r.msgs, Message{Role: RoleTool, ToolCallID: call.ID, Name: call.Name, Content: string(body), IsError: true})
		return nil
	}
	if err := r.emit(EventToolEnd, toolEndData{Turn: r.turn, ID: call.ID, Name: call.Name, MS: ms, Output: payload(out)}); err != nil {
		return &stop{status: "error", err: err}
	}
	content := string(out)
	if len(content) > r.opts.MaxResultBytes {
		content = fmt.Sprintf("%s\n[output truncated: %d of %d bytes shown]", truncateUTF8(content, r.opts.MaxResultBytes), r.opts.MaxResultBytes, len(out))
	}
	r.msgs = append(r.msgs, Message{Role: RoleTool, ToolCallID: call.ID, Name: call.Name, Content: content})
	return nil
}

// interrupted classifies an error that came with a done context: the caller
// canceled, or the run's own deadline (a budget) passed. Anything else is
// the error itself.
func (r *runner) interrupted(ctx, runCtx context.Context, err error) *stop {
	switch {
	case ctx.Err() != nil:
		return &stop{status: "canceled", err: err}
	case runCtx.Err() != nil && !r.deadline.IsZero():
		return r.budget(BudgetWallClock, r.limit, r.since(r.start))
	default:
		return &stop{status: "error", err: err}
	}
}

func (r *runner) checkClock() *stop {
	if !r.deadline.IsZero() && !r.clock().Before(r.deadline) {
		return r.budget(BudgetWallClock, r.limit, r.since(r.start))
	}
	return nil
}

func (r *runner) budget(b Budget, limit, used int64) *stop {
	be := &BudgetError{Budget: b, Limit: limit, Used: used}
	if err := r.emit(EventBudgetExceeded, budgetData{Budget: b, Limit: limit, Used: used, Turn: r.turn}); err != nil {
		return &stop{status: "error", err: err}
	}
	return &stop{status: "budget", err: be}
}

func (r *runner) endTurn(calls int, stopReason string) *stop {
	if err := r.emit(EventTurnEnd, turnEndData{Turn: r.turn, ToolCalls: calls, Stop: stopReason}); err != nil {
		return &stop{status: "error", err: err}
	}
	return nil
}

// finish records run.end and returns the result with st's error.
func (r *runner) finish(st *stop) (Result, error) {
	end := runEndData{Status: "ok", Turns: r.res.Turns, ToolCalls: r.res.ToolCalls,
		InputTokens: r.res.Usage.InputTokens, OutputTokens: r.res.Usage.OutputTokens, MS: r.since(r.start)}
	var err error
	if st != nil {
		end.Status, end.Error, err = st.status, st.err.Error(), st.err
	}
	if e := r.emit(EventRunEnd, end); e != nil && err == nil {
		err = e
	}
	r.res.Events = r.rec.Events()
	return r.res, err
}

func (r *runner) emit(typ string, data any) error {
	_, err := r.rec.Emit(typ, data)
	return err
}

func (r *runner) since(t time.Time) int64 { return r.clock().Sub(t).Milliseconds() }

// parseArguments checks that the model's arguments are one JSON object and
// says precisely what is wrong when they are not. Empty arguments mean {}:
// some providers send "" for a call without parameters.
func parseArguments(args string) (json.RawMessage, error) {
	trimmed := strings.TrimSpace(args)
	if trimmed == "" {
		return json.RawMessage("{}"), nil
	}
	if json.Valid([]byte(trimmed)) {
		if trimmed[0] != '{' {
			return nil, fmt.Errorf("arguments must be a JSON object, got %s", jsonKind(trimmed[0]))
		}
		return json.RawMessage(trimmed), nil
	}
	// Decode only to learn what is wrong and where.
	var v json.RawMessage
	if err := json.Unmarshal([]byte(trimmed), &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("arguments are not valid JSON: %v (at byte %d)", se, se.Offset)
		}
		return nil, fmt.Errorf("arguments are not valid JSON: %v", err)
	}
	return nil, errors.New("arguments are not valid JSON")
}

func jsonKind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func unknownTool(name string, byName map[string]Tool) string {
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return fmt.Sprintf("unknown tool %q: no tools are available", name)
	}
	return fmt.Sprintf("unknown tool %q; available tools: %s", name, strings.Join(names, ", "))
}

// payload makes tool input or output fit for an event: small JSON as is,
// small non-JSON as a string, anything large as its size and digest.
func payload(b []byte) json.RawMessage {
	if len(b) > maxPayload {
		sum := sha256.Sum256(b)
		return json.RawMessage(`{"truncated":true,"bytes":` + strconv.Itoa(len(b)) + `,"sha256":"` + hex.EncodeToString(sum[:]) + `"}`)
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && json.Valid(t) {
		return t
	}
	s, _ := json.Marshal(string(b))
	return s
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// Event data, as structs so that members keep a fixed order in the log.
type (
	runStartData struct {
		Task         string `json:"task"`
		Model        string `json:"model"`
		MaxTurns     int    `json:"max_turns"`
		MaxToolCalls int    `json:"max_tool_calls"`
		MaxTokens    int    `json:"max_tokens,omitempty"`
		TimeoutMS    int64  `json:"timeout_ms,omitempty"`
	}
	turnStartData struct {
		Turn  int      `json:"turn"`
		Tools []string `json:"tools"`
	}
	turnEndData struct {
		Turn      int    `json:"turn"`
		ToolCalls int    `json:"tool_calls"`
		Stop      string `json:"stop"`
	}
	modelCallData struct {
		Turn         int    `json:"turn"`
		Model        string `json:"model"`
		MS           int64  `json:"ms"`
		InputTokens  int    `json:"input_tokens"`
		OutputTokens int    `json:"output_tokens"`
		Stop         Stop   `json:"stop,omitempty"`
		ToolCalls    int    `json:"tool_calls"`
		Error        string `json:"error,omitempty"`
	}
	toolStartData struct {
		Turn  int             `json:"turn"`
		ID    string          `json:"id"`
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	}
	toolEndData struct {
		Turn   int             `json:"turn"`
		ID     string          `json:"id"`
		Name   string          `json:"name"`
		MS     int64           `json:"ms"`
		Output json.RawMessage `json:"output"`
	}
	toolErrorData struct {
		Turn    int    `json:"turn"`
		ID      string `json:"id"`
		Name    string `json:"name"`
		MS      int64  `json:"ms"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	deprecatedData struct {
		Turn int    `json:"turn"`
		ID   string `json:"id"`
		Name string `json:"name"`
		Hint string `json:"hint"`
	}
	budgetData struct {
		Budget Budget `json:"budget"`
		Limit  int64  `json:"limit"`
		Used   int64  `json:"used"`
		Turn   int    `json:"turn"`
	}
	runEndData struct {
		Status       string `json:"status"`
		Turns        int    `json:"turns"`
		ToolCalls    int    `json:"tool_calls"`
		InputTokens  int    `json:"input_tokens"`
		OutputTokens int    `json:"output_tokens"`
		MS           int64  `json:"ms"`
		Error        string `json:"error,omitempty"`
	}
)
